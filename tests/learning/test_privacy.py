"""Personal data: who reads a member's phone and email, their export, their erasure.

The visibility tests sign in as each person who must not read a member's mobile number
or email (a member of the same branch, a member of another branch, the secretary of
another subtree, an editor, an approver), walk every page their links lead to — exports
opened and read, workbooks included — plus the URLs that name the member directly, and
look for the phone and the email in every answer. The same walk as the member's own
secretary finds them, so the walk would notice a leak.
"""

from __future__ import annotations

import datetime
import io
import json
import re
import zipfile
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import pytest
from axes.models import AccessAttempt, AccessFailureLog
from django.contrib.contenttypes.models import ContentType
from django.core import mail
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook
from wagtail.users.models import UserProfile

from learning.common.periods import Period, period_range
from learning.integrity.digest import integrity_digest_send
from learning.integrity.services import flag_raise
from learning.models import (
    IntegrityFlag,
    Member,
    Organization,
    PointsEntry,
    Screen,
    SubtreeLogEntry,
)
from learning.people import audit
from learning.people.privacy import member_erase
from learning.points.leaderboards import branch_ranking
from learning.points.ledger_check import ledger_differences
from learning.points.member_rankings import member_ranking
from quizzes.models import Attempt, AttemptQuestion, Question
from quizzes.taking.attempts import attempt_answer_save, attempt_start
from quizzes.taking.submitting import attempt_submit
from tests.conftest import Tree
from tests.factories.pages import add_course
from tests.factories.people import DEFAULT_PASSWORD, MemberFactory, secretary_of
from tests.factories.points import give
from tests.factories.quizzes import quiz_with_short_answer, right_answer
from tests.factories.study import assign
from tests.security.conftest import signed_in

pytestmark = pytest.mark.django_db

PHONE = "13912345678"
EMAIL = "mu.biao@example.org"
NAME = "目标人"
SHORT_ANSWER = "我的心得：要把学习落到实处。"
HREF = re.compile(r'(?:href|action)="([^"#]+)"')
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SORTED_OR_PAGED = re.compile(r"(^|&)(ordering|p)=")
# Pages a walk reads at most; every role's menus lead to fewer today.
WALK_LIMIT = 400


@dataclass
class World:
    tree: Tree
    target: Member
    attempt: Attempt
    same_branch: Member
    other_branch: Member
    secretary_b: Member
    screen: Screen


@pytest.fixture
def world(tree: Tree, secretary_a: Member, content: object) -> World:
    """The member ``目标人`` in 第一党支部 with points, a quiz attempt with a short answer,
    an integrity flag, a study assignment, a lesson opened, and a colleague whose flag
    names them; and everyone who must not read their phone."""
    target = MemberFactory(
        username="mubiao", display_name=NAME, phone=PHONE, organization=tree.branch_a1
    )
    Member.objects.filter(pk=target.pk).update(email=EMAIL)
    target.refresh_from_db()
    same_branch = MemberFactory(
        username="tongzhi", display_name="同支部", organization=tree.branch_a1
    )
    other_branch = MemberFactory(
        username="waizhi", display_name="外支部", organization=tree.branch_b1
    )
    secretary_b = secretary_of(tree.general_b, "secretary_b", "李书记")
    today = timezone.localdate()
    give(target, 24, today)
    give(same_branch, 10, today)
    give(other_branch, 6, today)
    course = add_course("党史学习", lessons=["第一课"])
    assign(
        course,
        [tree.committee],
        today - datetime.timedelta(days=2),
        today + datetime.timedelta(days=5),
    )
    quiz = quiz_with_short_answer(organizations=[tree.committee])
    attempt = attempt_start(quiz=quiz, member=target)
    for item in attempt.questions.order_by("position"):
        response = (
            {"text": SHORT_ANSWER}
            if item.snapshot["type"] == Question.Type.SHORT_ANSWER
            else right_answer(item.snapshot)
        )
        attempt_answer_save(
            attempt=attempt, member=target, position=item.position, response=response, seq=1
        )
    attempt = attempt_submit(attempt=attempt, member=target)
    flag_raise(
        member=target,
        kind=IntegrityFlag.Kind.TOO_FAST,
        subject_key=f"quizzes.attempt:{attempt.pk}",
        subject_label=quiz.title,
        evidence={"answered": 2, "seconds": 3, "plausible_seconds": 30},
    )
    flag_raise(
        member=same_branch,
        kind=IntegrityFlag.Kind.SHARED_ANSWERS,
        subject_key="quizzes.attempt:999999",
        subject_label=quiz.title,
        evidence={"questions": 2, "wrong": 1, "other": NAME, "seconds_apart": 4},
    )
    audit.audit_record(instance=target, action=audit.LOGIN_FAILED, ip="203.0.113.7")
    screen = Screen.objects.create(organization=tree.committee, name="大厅", refresh_seconds=30)
    return World(tree, target, attempt, same_branch, other_branch, secretary_b, screen)


def _text_of(response) -> str:
    body = b"".join(response.streaming_content) if response.streaming else response.content
    if response.get("Content-Type", "").startswith(XLSX) or body[:2] == b"PK":
        try:
            workbook = load_workbook(io.BytesIO(body), read_only=True)
        except (zipfile.BadZipFile, KeyError, ValueError):
            return body.decode("utf-8", "replace")
        return "\n".join(
            str(value)
            for sheet in workbook.worksheets
            for row in sheet.iter_rows(values_only=True)
            for value in row
            if value is not None
        )
    return body.decode("utf-8", "replace")


def _walk(client: Client, starts: list[str], *, follow: bool = True) -> dict[str, str]:
    """Every page reachable by GET from ``starts`` through links and forms on our site,
    with its text (workbooks read cell by cell). Static files, media and logout excluded.
    ``follow=False`` reads ``starts`` only."""
    pages: dict[str, str] = {}
    queue = list(starts)
    visited: set[str] = set()
    while queue and len(visited) < WALK_LIMIT:
        url = queue.pop(0)
        parts = urlsplit(url)
        if url in visited or parts.netloc or parts.scheme or "logout" in parts.path:
            continue
        if parts.path.startswith(("/static/", "/media/", "/documents/")):
            continue
        if SORTED_OR_PAGED.search(parts.query):
            continue  # the same rows in another order or page as a link already read
        visited.add(url)
        response = client.get(url)
        if response.status_code != 200:
            continue
        text = _text_of(response)
        pages[url] = text
        if follow and "html" in response.get("Content-Type", ""):
            queue.extend(urljoin(url, link.replace("&amp;", "&")) for link in HREF.findall(text))
    return pages


def _direct_urls(world: World) -> list[str]:
    """URLs that name the member or search for them, whether or not a link leads there."""
    target = world.target
    quiz_id = world.attempt.quiz_id
    return [
        reverse("wagtailusers_users:edit", args=[target.pk]),
        reverse("wagtailusers_users:history", args=[target.pk]),
        reverse("wagtailusers_users:index") + f"?q={PHONE}",
        reverse("wagtailusers_users:index") + "?export=xlsx",
        reverse("wagtailusers_users:index") + "?export=csv",
        reverse("wagtailadmin_reports:site_history"),
        reverse("wagtailadmin_reports:site_history") + "?export=xlsx",
        reverse("learning_integrity_flags"),
        reverse("quizzes_results"),
        reverse("quizzes_quiz_results", args=[quiz_id]),
        reverse("quizzes_quiz_results_export", args=[quiz_id]),
        reverse("quizzes_grading"),
        reverse("assignments:report_export"),
        reverse("ledger:index") + "?export=xlsx",
        reverse("organizations:index") + "?export=xlsx",
        reverse("learning:leaderboards"),
        reverse("screen_snapshot", args=[world.screen.token]),
        reverse("search") + f"?q={NAME}",
        "/api/v1/quizzes/",
        "/api/v1/attempts/",
        f"/api/v1/attempts/{world.attempt.pk}/",
        "/api/v1/wrong-answers/",
    ]


def _leaks(pages: dict[str, str]) -> list[str]:
    """Pages holding the phone or email; a search for the phone echoes the number typed,
    so there what would leak is whom it found: their name or email."""
    leaking = []
    for url, text in pages.items():
        telltales = (NAME, EMAIL) if PHONE in url else (PHONE, EMAIL)
        if any(telltale in text for telltale in telltales):
            leaking.append(url)
    return leaking


WRONG_PEOPLE = ["same_branch", "other_branch", "secretary_b", "editor", "approver"]


# The page walks: what the pages show does not depend on the database engine (once).
@pytest.mark.once
@pytest.mark.parametrize("who", WRONG_PEOPLE)
def test_nobody_else_reads_the_phone_or_email_anywhere(
    world: World, who: str, request: pytest.FixtureRequest
) -> None:
    viewer = getattr(world, who, None) or request.getfixturevalue(who)
    client = signed_in(viewer)
    starts = ["/", "/admin/", "/me/", "/learn/", "/points/", "/points/leaderboards/", "/quiz/"]
    pages = _walk(client, starts + _direct_urls(world))
    assert len(pages) >= 10, "the walk read almost nothing: the test would prove nothing"
    assert _leaks(pages) == []


@pytest.mark.once
def test_the_walk_finds_the_phone_where_it_may_be_shown(
    world: World, secretary_a: Member, administrator: Member
) -> None:
    """The member's own page, their secretary's and an administrator's member lists."""
    own = _walk(signed_in(world.target), ["/me/"], follow=False)
    assert PHONE in own["/me/"]
    for viewer in (secretary_a, administrator):
        search = reverse("wagtailusers_users:index") + f"?q={PHONE}"
        pages = _walk(signed_in(viewer), ["/admin/users/", search], follow=False)
        assert {"/admin/users/", search} <= set(_leaks(pages))
        export = signed_in(viewer).get(reverse("wagtailusers_users:index") + "?export=xlsx")
        assert PHONE in _text_of(export)


def test_the_reviewers_email_names_nobody(world: World, secretary_a: Member) -> None:
    Member.objects.filter(pk=secretary_a.pk).update(email="wang@example.org")
    integrity_digest_send(until=timezone.now() + datetime.timedelta(minutes=1))
    assert mail.outbox, "the secretary of the flagged member gets the morning email"
    for message in mail.outbox:
        for personal in (NAME, PHONE, EMAIL, world.target.username):
            assert personal not in message.subject + message.body


# --- export ---------------------------------------------------------------------------


def _download(client: Client, url: str | None = None) -> dict:
    response = client.get(url or reverse("learning:account_data"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    assert "attachment" in response["Content-Disposition"]
    return json.loads(b"".join(response.streaming_content))


def test_the_account_page_links_to_the_download(world: World) -> None:
    page = signed_in(world.target).get(reverse("learning:account")).content.decode()
    assert reverse("learning:account_data") in page
    assert "下载我的数据" in page


def test_a_member_downloads_everything_stored_about_them_in_chinese(world: World) -> None:
    data = _download(signed_in(world.target))
    profile = data["个人资料"]
    assert profile["姓名"] == NAME
    assert profile["手机号"] == PHONE
    assert profile["电子邮箱"] == EMAIL
    assert profile["组织"] == "某党委 › 第一党总支 › 第一党支部"
    assert [row["组织"] for row in data["组织变动"]] == ["某党委 › 第一党总支 › 第一党支部"]
    ledger = data["积分台账"]
    stored = PointsEntry.objects.filter(member=world.target)
    assert len(ledger) == stored.count()
    assert sum(row["积分"] for row in ledger) == sum(entry.points for entry in stored)
    assert all(row["原因"] for row in ledger)
    attempts = data["测验记录"]
    assert len(attempts) == 1
    assert SHORT_ANSWER in [answer["你的答案"] for answer in attempts[0]["作答"]]
    flags = data["学习诚信审核"]
    assert [flag["结果"] for flag in flags] == ["待审核"]
    assert "evidence" not in json.dumps(flags) and "同支部" not in json.dumps(flags)
    assert [row["学习任务"] for row in data["当前学习任务"]] == ["党史学习"]
    assert "203.0.113.7" in json.dumps(data["账户记录"], ensure_ascii=False)


def test_the_download_holds_only_the_signed_in_members_data(world: World) -> None:
    """Another member's id or username anywhere in the URL changes nothing."""
    client = signed_in(world.same_branch)
    for query in (f"?member={world.target.pk}", f"?id={world.target.pk}", "?username=mubiao"):
        data = _download(client, reverse("learning:account_data") + query)
        assert data["个人资料"]["用户名"] == "tongzhi"
        text = json.dumps(data, ensure_ascii=False)
        assert PHONE not in text and EMAIL not in text and SHORT_ANSWER not in text
    for path in (f"/me/data/{world.target.pk}/", "/me/data/mubiao/"):
        assert client.get(path).status_code == 404


def test_the_download_needs_a_signed_in_member(world: World) -> None:
    response = Client().get(reverse("learning:account_data"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_downloads_are_limited_per_hour(world: World) -> None:
    client = signed_in(world.target)
    for _ in range(5):
        _download(client)
    refused = client.get(reverse("learning:account_data"))
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) > 0


def test_the_export_gives_no_verdict_the_quiz_does_not_show(world: World) -> None:
    """An attempt of a quiz reviewed only after it closes: the answers, not whether they
    were right (the export is no way around the review setting)."""
    Attempt.objects.filter(pk=world.attempt.pk).update(review="after_close")
    world.attempt.quiz.closes_at = timezone.now() + datetime.timedelta(days=1)
    world.attempt.quiz.save()
    answers = _download(signed_in(world.target))["测验记录"][0]["作答"]
    assert [answer["结果"] for answer in answers] == ["", ""]
    assert [answer["本题得分"] for answer in answers] == [None, None]


def test_the_export_streams_with_a_fixed_number_of_queries_per_section(
    world: World, django_assert_max_num_queries
) -> None:
    """Ten times the ledger entries, no more queries: rows are read in chunks."""
    client = signed_in(world.target)
    today = timezone.localdate()
    for day in range(1, 30):
        give(world.target, 20, today - datetime.timedelta(days=day))
    with django_assert_max_num_queries(60):
        data = _download(client)
    assert len(data["积分台账"]) == PointsEntry.objects.filter(member=world.target).count()


def test_the_export_command_writes_the_members_file(world: World, tmp_path) -> None:
    output = tmp_path / "mubiao.json"
    call_command("member_export", "mubiao", "--output", str(output))
    data = json.loads(output.read_text(encoding="utf-8"))
    assert data["个人资料"]["手机号"] == PHONE
    assert SubtreeLogEntry.objects.filter(
        object_id=str(world.target.pk), action=audit.MEMBER_DATA_EXPORTED
    ).exists()
    with pytest.raises(CommandError, match="No member"):
        call_command("member_export", "nobody", "--output", str(output))
    with pytest.raises(CommandError, match="directory"):
        call_command("member_export", "mubiao", "--output", str(tmp_path))


# --- erasure --------------------------------------------------------------------------


def _standings(tree: Tree) -> tuple[list, list]:
    date_range = period_range(Period.ALL, timezone.localdate())
    branches = [
        (row.organization_id, row.points, row.members, row.active_members)
        for row in branch_ranking(root=tree.committee, date_range=date_range)
    ]
    members = [
        (row.member_id, row.points)
        for row in member_ranking(root=tree.committee, date_range=date_range)
    ]
    return branches, members


def test_erasure_replaces_every_personal_field_and_keeps_the_numbers(world: World) -> None:
    target = world.target
    before = _standings(world.tree)
    entries_before = list(PointsEntry.objects.filter(member=target).values_list("pk", "points"))

    member_erase(member=target, by=None)

    target.refresh_from_db()
    assert target.username == f"erased-{target.pk}"
    assert target.display_name == f"已注销成员 {target.pk}"
    assert target.phone is None and target.email == ""
    assert not target.is_active and not target.has_usable_password()
    assert not target.groups.exists()
    assert target.organization == world.tree.branch_a1
    assert list(PointsEntry.objects.filter(member=target).values_list("pk", "points")) == (
        entries_before
    )
    assert ledger_differences() == []
    assert _standings(world.tree) == before
    call_command("check_ledger")


def test_the_erased_member_cannot_log_in_and_their_sessions_end(world: World) -> None:
    session = Client()
    assert session.login(username="mubiao", password=DEFAULT_PASSWORD)
    assert session.get(reverse("learning:account")).status_code == 200
    AccessAttempt.objects.create(
        username="mubiao", ip_address="203.0.113.7", failures_since_start=2
    )
    AccessFailureLog.objects.create(username=PHONE, ip_address="203.0.113.7")

    result = member_erase(member=world.target, by=None)

    assert result.changed["sessions"] == 1
    assert session.get(reverse("learning:account")).status_code == 302
    for login in ("mubiao", PHONE, f"erased-{world.target.pk}"):
        assert not Client().login(username=login, password=DEFAULT_PASSWORD)
        response = Client().post(
            reverse("login"), {"username": login, "password": DEFAULT_PASSWORD}
        )
        assert response.status_code == 200  # the form again, with its error
    assert not AccessAttempt.objects.filter(username__in=["mubiao", PHONE]).exists()
    assert not AccessFailureLog.objects.filter(username__in=["mubiao", PHONE]).exists()


def test_erasure_is_audited_without_storing_what_was_erased(
    world: World, administrator, caplog
) -> None:
    with caplog.at_level("INFO"):
        member_erase(member=world.target, by=administrator)
    assert f"member {world.target.pk} erased by admin_user" in caplog.text
    for personal in (NAME, PHONE, EMAIL, "mubiao"):
        assert personal not in caplog.text
    entries = SubtreeLogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(Member), object_id=str(world.target.pk)
    )
    erased = entries.get(action=audit.MEMBER_ERASED)
    assert erased.user == administrator
    stored = json.dumps(list(entries.values("label", "data")), ensure_ascii=False)
    for personal in (NAME, PHONE, EMAIL, "mubiao", "203.0.113.7"):
        assert personal not in stored


def test_erasure_empties_short_answers_and_the_name_in_others_flags(world: World) -> None:
    item = AttemptQuestion.objects.get(
        attempt=world.attempt, snapshot__type=Question.Type.SHORT_ANSWER
    )
    item.mark = 3
    item.grader_comment = "目标人同志写得很好"
    item.state = AttemptQuestion.State.GRADED
    item.save()
    score_before = Attempt.objects.get(pk=world.attempt.pk).score

    member_erase(member=world.target, by=None)

    item.refresh_from_db()
    assert item.response is None and item.grader_comment == ""
    assert item.mark == 3
    assert Attempt.objects.get(pk=world.attempt.pk).score == score_before
    colleague_flag = IntegrityFlag.objects.get(member=world.same_branch)
    assert colleague_flag.evidence["other"] == f"已注销成员 {world.target.pk}"
    assert IntegrityFlag.objects.get(member=world.target).status == IntegrityFlag.Status.OPEN


def test_erasing_twice_changes_nothing_more(world: World) -> None:
    member_erase(member=world.target, by=None)
    first = Member.objects.filter(pk=world.target.pk).values().get()
    again = member_erase(member=world.target, by=None)
    assert again.already_erased
    assert Member.objects.filter(pk=world.target.pk).values().get() == first
    assert (
        SubtreeLogEntry.objects.filter(
            object_id=str(world.target.pk), action=audit.MEMBER_ERASED
        ).count()
        == 1
    )
    assert ledger_differences() == []


def test_the_erase_command_asks_unless_told_yes(world: World, monkeypatch) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    with pytest.raises(CommandError, match="--yes"):
        call_command("member_erase", "mubiao")
    assert Member.objects.get(pk=world.target.pk).phone == PHONE
    with pytest.raises(CommandError, match="No member"):
        call_command("member_erase", "nobody", "--yes")
    out = io.StringIO()
    call_command("member_erase", "mubiao", "--yes", stdout=out)
    assert f"erased-{world.target.pk}" in out.getvalue()
    assert NAME not in out.getvalue() and PHONE not in out.getvalue()
    out = io.StringIO()
    call_command("member_erase", f"erased-{world.target.pk}", "--yes", stdout=out)
    assert "already erased" in out.getvalue()


def test_an_erased_member_keeps_the_organisations_headcount(world: World) -> None:
    branch = Organization.objects.get(pk=world.tree.branch_a1.pk)
    before = _standings(world.tree)[0]
    member_erase(member=world.target, by=None)
    assert _standings(world.tree)[0] == before
    assert Member.objects.filter(organization=branch).count() == 3


def test_an_administrator_erases_a_member_from_the_admin(world: World, administrator) -> None:
    client = signed_in(administrator)
    edit = client.get(reverse("wagtailusers_users:edit", args=[world.target.pk])).content.decode()
    url = reverse("learning_member_erase", args=[world.target.pk])
    assert url in edit
    confirm = client.get(url)
    assert confirm.status_code == 200
    assert NAME in confirm.content.decode()
    assert Member.objects.get(pk=world.target.pk).phone == PHONE  # a GET changes nothing

    response = client.post(url)

    assert response.status_code == 302
    erased = Member.objects.get(pk=world.target.pk)
    assert erased.username == f"erased-{erased.pk}" and erased.phone is None
    assert SubtreeLogEntry.objects.get(
        object_id=str(erased.pk), action=audit.MEMBER_ERASED
    ).user == (administrator)


@pytest.mark.parametrize("who", ["secretary_a", "editor", "approver", "same_branch"])
def test_nobody_but_an_administrator_erases(world: World, who: str, request) -> None:
    viewer = getattr(world, who, None) or request.getfixturevalue(who)
    client = signed_in(viewer)
    url = reverse("learning_member_erase", args=[world.target.pk])
    # A member without admin access is sent to the admin's login; the others: not found.
    expected = 302 if who == "same_branch" else 404
    assert client.get(url).status_code == expected
    assert client.post(url).status_code == expected
    assert Member.objects.get(pk=world.target.pk).phone == PHONE
    if who == "secretary_a":
        edit = client.get(reverse("wagtailusers_users:edit", args=[world.target.pk]))
        assert edit.status_code == 200 and url not in edit.content.decode()


def test_an_administrator_cannot_erase_their_own_account(administrator) -> None:
    client = signed_in(administrator)
    client.post(reverse("learning_member_erase", args=[administrator.pk]))
    assert Member.objects.get(pk=administrator.pk).username == "admin_user"


def test_erasure_deletes_the_avatar_once_committed(
    world: World, settings, tmp_path, django_capture_on_commit_callbacks
) -> None:
    settings.MEDIA_ROOT = str(tmp_path)
    profile = UserProfile.get_for_user(world.target)
    profile.avatar.save("face.png", ContentFile(b"\x89PNG not really"), save=True)
    stored = tmp_path / profile.avatar.name
    assert stored.exists()

    with django_capture_on_commit_callbacks(execute=True):
        member_erase(member=world.target, by=None)

    profile.refresh_from_db()
    assert not profile.avatar
    assert not stored.exists()


def test_the_download_speaks_the_language_of_the_page(world: World, settings) -> None:
    """Labels in the member's interface language: English when they switched to it."""
    client = signed_in(world.target)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    data = _download(client)
    assert data["Profile"]["Mobile number"] == PHONE
    assert "Points ledger" in data and "个人资料" not in data
