"""The Content-Security-Policy in a real browser.

Every member page (at phone size), the office screen (at wall size) and the admin pages
run their scripts with no violation of the policy their response carries, and those
scripts still do their work (a heartbeat is accepted, an answer saved, a snapshot
fetched, an import finished). An inline script injected into a member page is refused,
and so is a foreign site that frames a page, unless it frames a screen and an operator
listed it. Violations are collected from the console and from ``securitypolicyviolation``
events in every frame.
"""

from __future__ import annotations

import datetime
import html
import io
import re
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from django.urls import reverse
from django.utils import timezone
from PIL import Image as PILImage
from playwright.sync_api import expect
from wagtail.embeds.embeds import get_embed_hash
from wagtail.embeds.models import Embed
from wagtail.images.models import Image

from cms.models import LessonPage
from learning.models import StudyDay
from learning.people import roles, services
from learning.points.ledger import points_award
from quizzes.models import Attempt, QuestionImport, Quiz, WrongAnswer
from quizzes.taking.attempts import attempt_answer_check, attempt_start
from quizzes.taking.daily import challenge_quiz
from tests.browser.conftest import DESKTOP, MOBILE
from tests.browser.test_journeys import assert_no_horizontal_scroll, log_in
from tests.browser.test_publish_and_search import admin_log_in
from tests.browser.test_question_import import FIXED as GIFT
from tests.browser.test_quizzes import member_in_a_branch, right_choice_text
from tests.browser.test_screens import FULL_HD, LOADING, make_screen, next_refresh
from tests.factories.pages import add_course, lessons_of
from tests.factories.people import MemberFactory
from tests.factories.questions import bank_of_each_type, question_create, single_choice
from tests.factories.quizzes import fixed_quiz
from tests.factories.study import assign, complete

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

NewPage = Callable[..., Any]
Screenshot = Callable[[Any, str], Path]

VIDEO_URL = "https://www.youtube.com/watch?v=csp-test"
PLAYER_URL = "https://www.youtube.com/embed/csp-test?feature=oembed"

# Reports every violation, in the page and in each of its frames, to the test.
REPORT_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (event) => {
  window.reportCspViolation(
    `${event.effectiveDirective} refused ${event.blockedURI || "inline"} ` +
    `on ${event.documentURI} (${event.sample || "no sample"})`
  );
});
"""


def watch_csp(page: Any) -> list[str]:
    """Collect CSP violations on ``page`` from now on (events and console messages)."""
    found: list[str] = []

    def report(text: str) -> None:
        found.append(text)

    page.expose_function("reportCspViolation", report)
    page.add_init_script(REPORT_VIOLATIONS)

    def console(message: Any) -> None:
        if "Content Security Policy" in message.text or "Content-Security-Policy" in message.text:
            found.append(f"console: {message.text}")

    page.on("console", console)
    return found


def wait_for_events(page: Any, violations: list[str], count: int) -> list[str]:
    """Wait (up to 5 s) until ``count`` violation events have been reported; return them."""
    for _ in range(200):
        events = [text for text in violations if not text.startswith("console:")]
        if len(events) >= count:
            return events
        page.wait_for_timeout(25)
    raise AssertionError(f"expected {count} violation events, got {violations}")


def visit(page: Any, url: str, *, policy: str = "strict") -> Any:
    """Open ``url`` and check that it came with the expected policy."""
    response = page.goto(url)
    assert response is not None and response.ok, (url, response and response.status)
    header = response.header_value("content-security-policy")
    assert header, f"{url} has no Content-Security-Policy"
    directives = {
        name: value
        for name, _sep, value in (part.strip().partition(" ") for part in header.split(";"))
    }
    if policy == "strict":
        assert directives["script-src"] == "'self'", header
        assert directives["style-src"] == "'self'", header
    else:
        assert "'unsafe-inline'" in directives["script-src"], header
    assert "'unsafe-eval'" not in header
    return response


def lesson_with_video() -> LessonPage:
    """A course of two lessons; the first embeds a video (cached, so no network is needed)."""
    Embed.objects.create(
        url=VIDEO_URL,
        hash=get_embed_hash(VIDEO_URL),
        type="video",
        html=f'<iframe width="560" height="315" src="{PLAYER_URL}" title="党课视频" '
        'allow="fullscreen" allowfullscreen></iframe>',
        provider_name="YouTube",
        width=560,
        height=315,
    )
    course = add_course("党史学习", ["第一课 开天辟地", "第二课 星火燎原"], slug="history")
    lesson = lessons_of(course)[0]
    lesson.body = [
        ("heading", {"text": "一、开天辟地", "level": "h2"}),
        ("rich_text", "<p>一九二一年七月，中国共产党第一次全国代表大会召开。</p>"),
        ("video", {"file": None, "embed": VIDEO_URL, "caption": "党课视频"}),
        ("key_points", {"title": "学习要点", "points": ["党的成立", "初心使命"]}),
    ]
    lesson.min_study_minutes = 1
    lesson.save_revision().publish()
    return LessonPage.objects.get(pk=lesson.pk)


def serve_video_player(page: Any) -> None:
    """Stand in for the video site, so the test needs no internet."""
    page.route(
        re.compile(r"^https://www\.youtube\.com/embed/.*"),
        lambda route: route.fulfill(
            content_type="text/html", body="<!doctype html><p id=player>player</p>"
        ),
    )


def test_member_pages_on_a_phone_run_their_scripts_without_a_violation(
    new_page: NewPage, screenshot: Screenshot
) -> None:
    me = member_in_a_branch()
    lesson = lesson_with_video()
    today = timezone.localdate()
    complete(me, lessons_of(lesson.get_parent().specific)[1], today)
    assign(
        lesson.get_parent().specific,
        [me.organization],
        today - datetime.timedelta(days=1),
        today + datetime.timedelta(days=3),
    )
    points_award(member=me, rule_code="daily_quiz_correct", key="quiz:1", quantity=2)
    for days_ago, seconds in [(0, 1500), (7, 600)]:
        StudyDay.objects.create(
            member=me, day=today - datetime.timedelta(days=days_ago), seconds=seconds
        )
    page = new_page(MOBILE)
    violations = watch_csp(page)
    serve_video_player(page)
    log_in(page, me.username)

    visit(page, "/")
    # The assignment's bar is a <progress>: half the course is done.
    bar = page.locator("[data-testid] progress.progress, .task progress.progress").first
    assert bar.evaluate("el => el.position") == pytest.approx(0.5)
    assert bar.bounding_box()["width"] > 100
    screenshot(page, "csp-home-phone")

    with page.expect_response(lambda r: "/heartbeat/" in r.url) as heartbeat:
        visit(page, lesson.url)
    assert heartbeat.value.ok
    assert heartbeat.value.json()["required_seconds"] == 60
    status = page.locator("[data-study-text]").first  # the top one; the end repeats it
    expect(status).to_contain_text("1")
    player = page.frame_locator(".prose__embed iframe").locator("#player")
    expect(player).to_have_text("player")
    assert_no_horizontal_scroll(page)
    screenshot(page, "csp-lesson-phone")

    visit(page, reverse("search") + "?q=开天辟地")
    assert page.locator("#search-q").input_value() == "开天辟地"
    screenshot(page, "csp-search-phone")

    for name, url_name in [
        ("learn", "learning:learn"),
        ("points", "learning:points"),
        ("quiz", "quizzes:index"),
    ]:
        visit(page, reverse(url_name))
        assert_no_horizontal_scroll(page)
        screenshot(page, f"csp-{name}-phone")
    visit(page, reverse("learning:learn"))
    weeks = page.locator("[data-testid=study-weeks] progress")
    assert weeks.evaluate_all("bars => bars.map(bar => bar.value)")[:3] == [100, 40, 0]
    visit(page, reverse("learning:points"))
    daily_quiz = page.locator("progress.progress[max='5'][value='2']")
    assert daily_quiz.evaluate("el => el.position") == pytest.approx(0.4)

    assert violations == []


def test_a_quiz_attempt_practice_and_the_wrong_answer_book_without_a_violation(
    new_page: NewPage, screenshot: Screenshot
) -> None:
    me = member_in_a_branch()
    practice_question = question_create(
        single_choice(stem="练习题：中华人民共和国成立于哪一年？", category_path=("练习",))
    )
    # A wrong answer in a challenge puts the (only) question into the wrong-answer book.
    Quiz.objects.filter(pk=challenge_quiz().pk).update(min_seconds_per_question=0)
    challenge = attempt_start(quiz=challenge_quiz(), member=me)
    first = challenge.questions.get(position=1)
    assert first.question_id == practice_question.pk
    wrong = practice_question.choices.filter(is_correct=False).first()
    attempt_answer_check(attempt=challenge, member=me, position=1, response={"choices": [wrong.pk]})
    entry = WrongAnswer.objects.get(member=me)
    bank = bank_of_each_type()
    quiz = fixed_quiz(list(bank.values()), title="专项答题：党章", kind=Quiz.Kind.TOPIC)
    page = new_page(MOBILE)
    violations = watch_csp(page)
    log_in(page, me.username)

    # An attempt: answer, autosave, submit.
    visit(page, reverse("quizzes:index"))
    with page.expect_navigation():
        page.locator(f"form[action='{reverse('quizzes:start', args=[quiz.pk])}'] button").click()
    assert "/quiz/attempts/" in page.url
    visit(page, page.url)
    attempt = Attempt.objects.get(member=me, quiz=quiz)
    questions = {item.position: item.question_id for item in attempt.questions.all()}
    right_choice_text(page, page.locator("fieldset#q1"), questions[1])
    with page.expect_response(lambda r: r.url.endswith("/save/")) as saved:
        page.locator("fieldset#q4 input.quiz-blank").fill("1921")
    assert saved.value.ok
    expect(page.locator("[data-save-state]")).to_have_text("已保存")
    screenshot(page, "csp-attempt-phone")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="交卷").click()
    page.wait_for_url("**/result/")
    attempt.refresh_from_db()
    assert attempt.is_submitted
    visit(page, page.url)
    screenshot(page, "csp-result-phone")

    # Practice by category: the answer is checked by the script.
    visit(page, reverse("quizzes:practice", args=[practice_question.category_id]))
    form = page.get_by_test_id("practice-form")
    right_choice_text(page, form, practice_question.pk)
    form.get_by_role("button", name="确认答案").click()
    expect(form.locator(".quiz-verdict__state")).to_have_text("正确")
    screenshot(page, "csp-practice-phone")

    # The wrong-answer book and practising its entry.
    visit(page, reverse("quizzes:wrong_book"))
    assert page.get_by_test_id("wrong-book").locator("li").count() >= 1
    screenshot(page, "csp-wrong-book-phone")
    visit(page, reverse("quizzes:wrong_practise", args=[entry.pk]))
    form = page.get_by_test_id("practice-form")
    right_choice_text(page, form, entry.question_id)
    form.get_by_role("button", name="确认答案").click()
    expect(form.locator(".quiz-verdict__state")).to_have_text("正确")
    assert_no_horizontal_scroll(page)

    assert violations == []


def test_the_office_screen_refreshes_its_snapshot_without_a_violation(
    new_page: NewPage, screenshot: Screenshot
) -> None:
    me = member_in_a_branch()
    points_award(member=me, rule_code="exam_passed", key="exam:1")
    screen = make_screen(me.organization.get_root(), metric="total")
    page = new_page(FULL_HD)
    violations = watch_csp(page)
    snapshots: list[int] = []
    page.on("response", lambda r: snapshots.append(r.status) if "snapshot.json" in r.url else None)
    page.clock.install()
    visit(page, reverse("screen", kwargs={"token": screen.token}))
    expect(page.locator("body")).not_to_have_class(LOADING)
    assert snapshots and snapshots[0] == 200
    points_award(member=me, rule_code="exam_passed", key="exam:2")
    with page.expect_response(lambda r: "snapshot.json" in r.url) as refreshed:
        next_refresh(page)
    assert refreshed.value.status == 200
    expect(page.locator(".bar:not([hidden])").first).to_be_visible()
    screenshot(page, "csp-screen-1920")

    assert violations == []


def test_an_injected_inline_script_is_refused_on_a_member_page(new_page: NewPage) -> None:
    """As if a template forgot to escape: the browser runs none of the injected code."""
    me = member_in_a_branch()
    page = new_page(MOBILE)
    violations = watch_csp(page)
    log_in(page, me.username)
    payload = (
        "<script>window.pwned = 'script';</script>"
        '<img src="data:," onerror="window.pwned = \'handler\'">'
        "<a id=js href=\"javascript:window.pwned = 'url'\">x</a>"
        '<p id=styled style="color: rgb(255, 0, 0)">styled</p>'
    )

    def inject(route: Any) -> None:
        response = route.fetch()
        body = response.text().replace("</main>", payload + "</main>")
        route.fulfill(response=response, body=body)

    page.route(re.compile(r".*/points/$"), inject)
    visit(page, reverse("learning:points"))
    page.locator("#js").click()
    # Four refusals: the script element, the handler, the style and the javascript: link.
    events = wait_for_events(page, violations, 4)
    assert page.evaluate("window.pwned") is None
    assert page.locator("#styled").evaluate("el => getComputedStyle(el).color") != "rgb(255, 0, 0)"
    directives = sorted(event.split()[0] for event in events)
    assert directives == ["script-src-attr", "script-src-elem", "script-src-elem", "style-src-attr"]


class SignagePlayer(BaseHTTPRequestHandler):
    """Another site: a signage player's page that frames the URL in its query string."""

    def do_GET(self) -> None:
        src = parse_qs(urlsplit(self.path).query).get("src", [""])[0]
        if not src:
            self.send_error(404)
            return
        body = (
            f'<!doctype html><iframe id=kiosk src="{html.escape(src)}" width=960 height=540 '
            "onload=\"this.dataset.loaded = 'yes'\"></iframe>"
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def signage() -> Iterator[str]:
    """The origin of a signage player's site, served on this machine.

    A real server, not a route: Chromium refuses a frame of a local address in a page
    it cannot place on the local network (Local Network Access), whatever the policy.
    """
    server = ThreadingHTTPServer(("127.0.0.1", 0), SignagePlayer)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def frame_from_signage(page: Any, signage: str, url: str) -> Any:
    """Open the player's page framing ``url`` and wait until the frame has loaded."""
    page.goto(f"{signage}/?{urlencode({'src': url})}")
    page.wait_for_selector("#kiosk[data-loaded=yes]", state="attached")
    return page.frame_locator("#kiosk")


def refused(page: Any) -> bool:
    """Whether the browser refused to show the framed page (it shows its error page)."""
    frame = page.locator("#kiosk").element_handle().content_frame()
    return frame.url.startswith("chrome-error:")


def test_another_site_cannot_frame_a_screen_or_a_member_page(
    new_page: NewPage, live_server: Any, signage: str
) -> None:
    me = member_in_a_branch()
    screen = make_screen(me.organization)
    page = new_page(DESKTOP)
    violations = watch_csp(page)
    screen_url = live_server.url + reverse("screen", args=[screen.token])
    kiosk = frame_from_signage(page, signage, screen_url)
    assert refused(page)
    assert kiosk.locator(".masthead").count() == 0
    login = frame_from_signage(page, signage, live_server.url + reverse("login"))
    assert refused(page)
    assert login.locator("#id_username").count() == 0
    assert len([text for text in violations if "frame-ancestors 'none'" in text]) == 2


def test_a_signage_player_an_operator_listed_may_frame_the_screen(
    new_page: NewPage, live_server: Any, signage: str, settings: Any, screenshot: Screenshot
) -> None:
    settings.DANGJIAN_SCREEN_FRAME_ANCESTORS = [signage]
    me = member_in_a_branch()
    points_award(member=me, rule_code="exam_passed", key="exam:1")
    screen = make_screen(me.organization)
    page = new_page(FULL_HD)
    violations = watch_csp(page)
    screen_url = live_server.url + reverse("screen", args=[screen.token])
    kiosk = frame_from_signage(page, signage, screen_url)
    assert not refused(page)
    expect(kiosk.locator("body")).not_to_have_class(LOADING)
    expect(kiosk.locator(".bar:not([hidden])").first).to_be_visible()
    screenshot(page, "csp-screen-framed-by-signage")
    assert violations == []
    # Only the screen: the player still cannot frame the login page.
    login = frame_from_signage(page, signage, live_server.url + reverse("login"))
    assert refused(page)
    assert login.locator("#id_username").count() == 0
    assert len([text for text in violations if "frame-ancestors 'none'" in text]) == 1


def png() -> bytes:
    buffer = io.BytesIO()
    PILImage.new("RGB", (640, 360), (200, 16, 46)).save(buffer, format="PNG")
    return buffer.getvalue()


def test_admin_pages_work_under_the_admin_policy(new_page: NewPage, screenshot: Screenshot) -> None:
    from django.core.files.images import ImageFile

    committee = services.organization_create(name="某党委", code="DW", kind="committee")
    editor = MemberFactory(
        username="bianji",
        display_name="李编辑",
        organization=committee,
        role_names=[roles.EDITOR],
    )
    Image.objects.create(title="党旗", file=ImageFile(io.BytesIO(png()), name="flag.png"))
    lesson = lesson_with_video()
    page = new_page({"width": DESKTOP["width"], "height": 1000})
    violations = watch_csp(page)
    serve_video_player(page)
    admin_log_in(page, "bianji")

    visit(page, reverse("wagtailadmin_home"), policy="admin")
    page.locator(".w-dashboard h1").wait_for()
    page.wait_for_load_state("networkidle")
    screenshot(page, "csp-admin-dashboard")

    # The page editor: the StreamField, a new image block and its chooser.
    visit(page, reverse("wagtailadmin_pages:edit", args=[lesson.pk]), policy="admin")
    expect(page.locator("#body-root [data-contentpath]").first).to_be_visible()
    page.locator("#body-root .c-sf-add-button").last.click()
    page.get_by_role("option", name="图片").click()
    page.locator("#body-root").get_by_role("button", name="选择一个图片").last.click()
    modal = page.locator(".modal-dialog")
    expect(modal.get_by_text("党旗")).to_be_visible()
    screenshot(page, "csp-admin-image-chooser")
    modal.get_by_text("党旗").first.click()
    expect(page.locator("#body-root .chooser__title", has_text="党旗")).to_be_visible()
    # The live preview frames the lesson (same origin, under the admin policy).
    page.locator("button[data-side-panel-toggle='preview']").click()
    preview = page.frame_locator("iframe#w-preview-iframe")
    expect(preview.locator("h1")).to_have_text(lesson.title)
    screenshot(page, "csp-admin-page-edit")

    # A question import: upload, preview, confirm, and the progress page's script.
    visit(page, reverse("quizzes_question_import"), policy="admin")
    page.set_input_files(
        "#id_file", {"name": "bank.gift", "mimeType": "text/plain", "buffer": GIFT.encode()}
    )
    page.locator("main form button[type=submit]").click()
    page.wait_for_load_state()
    page.locator("form[action$='/confirm/'] button[type=submit]").click()
    page.wait_for_load_state()
    page.locator("#import-done").wait_for(state="visible")
    assert page.locator("#import-percent").inner_text() == "100"
    screenshot(page, "csp-admin-question-import")

    # The progress page's script polls a running import and shows how it ends.
    running = QuestionImport.objects.create(
        filename="bank.gift",
        format="gift",
        data=GIFT.encode(),
        status=QuestionImport.Status.RUNNING,
        progress=40,
        created_by=editor,
    )
    visit(page, reverse("quizzes_question_import_progress", args=[running.pk]), policy="admin")
    meter = page.locator("progress.quiz-progress")
    assert meter.evaluate("el => el.value") == 40
    QuestionImport.objects.filter(pk=running.pk).update(progress=70)
    expect(meter).to_have_js_property("value", 70)
    expect(page.locator("#import-percent")).to_have_text("70")
    screenshot(page, "csp-admin-question-import-running")
    QuestionImport.objects.filter(pk=running.pk).update(
        status=QuestionImport.Status.FAILED, problems=[{"text": "题库在检查后发生了变化"}]
    )
    expect(page.locator("#import-failed-problems")).to_have_text("题库在检查后发生了变化")

    assert violations == []
