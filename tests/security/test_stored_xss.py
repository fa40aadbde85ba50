"""Stored XSS: markup in every text people type is shown as text on every page.

One poisoned world, built the way attackers would store it: a member's name and their
organisation's name, a question's stem, option, explanation, reference answer and
category, a quiz title, a course and a lesson title (the lesson written in the admin by
an editor, with a ``javascript:`` link in its body), an assignment and a screen name, a
member's short answer (typed on the quiz page, read by the secretary) and a grader's
comment (typed by the secretary in the admin, read by the member), and a search query.

Each value carries a tag, a ``<script>``, an attribute break-out with an ``<img onerror>``
and a ``javascript:`` link. Every page that shows one is fetched (member pages,
leaderboards, the office screen and its JSON, the admin lists, results, the grading
queue, search with highlighting): the tag is there, so the value was rendered, and none
of the markup is live. One world for all pages, each page its own subtest.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from wagtail.test.utils.form_data import nested_form_data, streamfield

from cms.models import CoursePage, LessonPage
from learning.models import Assignment, Member, Organization, Screen
from learning.people import services
from learning.points.ledger import points_award
from quizzes.models import Attempt, AttemptQuestion, Question, Quiz, WrongAnswer
from tests.conftest import Tree
from tests.factories.pages import add_course
from tests.factories.people import MemberFactory
from tests.factories.questions import question_create, short_answer, single_choice
from tests.factories.quizzes import fixed_quiz
from tests.security.conftest import signed_in

pytestmark = pytest.mark.django_db

# What would run if a page put a value into its HTML unescaped.
LIVE_MARKUP = ("<script>alert(1)", "<img src=x", '"><img', 'href="javascript:', "href='javascript:")


def poison(tag: str) -> str:
    """A tag to find the value by, then every kind of markup an attacker would try."""
    value = (
        f'{tag}<script>alert(1)</script>"><img src=x onerror=alert(1)>'
        '<a href="javascript:alert(1)">x</a>'
    )
    assert len(value) <= 100, tag  # fits the shortest field (names)
    return value


def js_link_contentstate(text: str) -> str:
    """Rich text as the admin's editor posts it: one paragraph linking to javascript:."""
    return json.dumps(
        {
            "blocks": [
                {
                    "key": "xss01",
                    "type": "unstyled",
                    "depth": 0,
                    "text": text,
                    "inlineStyleRanges": [],
                    "entityRanges": [{"offset": 0, "length": len(text), "key": 0}],
                    "data": {},
                }
            ],
            "entityMap": {
                "0": {
                    "type": "LINK",
                    "mutability": "MUTABLE",
                    "data": {"url": "javascript:alert(document.cookie)"},
                }
            },
        }
    )


@dataclass
class World:
    member: Member
    organization: Organization
    question: Question
    essay: Question
    quiz: Quiz
    done: Attempt
    running: Attempt
    entry: WrongAnswer
    item: AttemptQuestion
    course: CoursePage
    lesson: LessonPage
    assignment: Assignment
    screen: Screen


def _json(client: Client, url: str, body: dict[str, Any]) -> Any:
    return client.post(url, data=json.dumps(body), content_type="application/json")


@pytest.fixture
def world(
    tree: Tree, editor: Member, secretary_a: Member, django_capture_on_commit_callbacks: Any
) -> World:
    organization = services.organization_create(
        name=poison("XORG"), code="XSS1", kind=Organization.Kind.BRANCH, parent=tree.general_a
    )
    member = MemberFactory(
        username="poisoned", display_name=poison("XNAME"), organization=organization
    )
    for number in range(2):  # enough members for the branch to be ranked
        MemberFactory(username=f"neighbour{number}", organization=organization)

    question = question_create(
        single_choice(
            stem=poison("XSTEM"),
            options=(poison("XOPT"), "1921", "1927", "1949"),
            correct=1,
            category_path=(poison("XCAT"),),
        )
    )
    Question.objects.filter(pk=question.pk).update(explanation=poison("XEXPL"))
    essay = question_create(short_answer(stem="简述党的群众路线。"))
    Question.objects.filter(pk=essay.pk).update(reference_answer=poison("XREF"))
    quiz = fixed_quiz(
        [question, essay], title=poison("XQUIZ"), attempts_allowed=0, min_seconds_per_question=0
    )

    # The member answers on the quiz page: wrong, and markup as their short answer.
    web = signed_in(member)
    web.post(reverse("quizzes:start", args=[quiz.pk]))
    done = Attempt.objects.get(member=member, quiz=quiz)
    wrong_id = next(c.pk for c in question.choices.all() if not c.is_correct)
    by_question = {item.question_id: item.position for item in done.questions.all()}
    _json(
        web,
        reverse("quizzes:save", args=[done.pk]),
        {"position": by_question[question.pk], "response": {"choices": [wrong_id]}, "seq": 1},
    )
    _json(
        web,
        reverse("quizzes:save", args=[done.pk]),
        {"position": by_question[essay.pk], "response": {"text": poison("XANSWER")}, "seq": 1},
    )
    web.post(reverse("quizzes:submit", args=[done.pk]))
    item = done.questions.get(question=essay)
    web.post(reverse("quizzes:start", args=[quiz.pk]))
    running = Attempt.objects.get(member=member, quiz=quiz, state=Attempt.State.IN_PROGRESS)

    # The editor writes the lesson in the admin; it is published as an approver would.
    course = add_course(poison("XCOURSE"), slug="xss-course", summary="概要")
    editor_client = signed_in(editor)
    form = nested_form_data(
        {
            "title": poison("XLESSON"),
            "slug": "xss-lesson",
            "estimated_minutes": 5,
            "min_study_minutes": 1,
            "body": streamfield([("rich_text", js_link_contentstate("XLINK点我"))]),
        }
    )
    form["action-publish"] = "action-publish"
    added = editor_client.post(
        reverse("wagtailadmin_pages:add", args=["cms", "lessonpage", course.pk]), form
    )
    assert added.status_code == 302, added.content.decode()[:2000]
    lesson = LessonPage.objects.get(slug="xss-lesson")
    with django_capture_on_commit_callbacks(execute=True):
        lesson.get_latest_revision().publish()
    lesson.refresh_from_db()

    today = timezone.localdate()
    assignment = Assignment.objects.create(
        page=course, title=poison("XASSIGN"), start_date=today, due_date=today, is_required=True
    )
    assignment.organizations.set([organization])
    points_award(member=member, rule_code="exam_passed", key="poisoned:exam")
    screen = Screen.objects.create(name=poison("XSCREEN"), organization=tree.general_a)
    return World(
        member=member,
        organization=organization,
        question=question,
        essay=essay,
        quiz=quiz,
        done=done,
        running=running,
        entry=WrongAnswer.objects.get(member=member, question=question),
        item=item,
        course=course,
        lesson=lesson,
        assignment=assignment,
        screen=screen,
    )


# --- Pages ------------------------------------------------------------------------------------


def assert_shown_as_text(content: str, tags: tuple[str, ...]) -> None:
    """Each tagged value is on the page, and none of the markup around it is live."""
    for tag in tags:
        assert tag in content, f"{tag} is not on the page"
    for markup in LIVE_MARKUP:
        assert markup not in content, markup


def check_pages(
    subtests: Any, client: Client, pages: dict[str, tuple[str, tuple[str, ...]]]
) -> None:
    for name, (url, tags) in pages.items():
        with subtests.test(msg=name, url=url):
            response = client.get(url)
            assert response.status_code == 200
            assert_shown_as_text(response.content.decode(), tags)


def test_member_pages_and_the_office_screen_show_stored_markup_as_text(
    world: World, subtests: Any
) -> None:
    w = world
    check_pages(
        subtests,
        signed_in(w.member),
        {
            "home": ("/", ("XNAME", "XORG", "XLESSON", "XASSIGN")),
            "my learning": (reverse("learning:learn"), ("XASSIGN",)),
            "my points": (reverse("learning:points"), ("XNAME",)),
            "leaderboards": (reverse("learning:leaderboards"), ("XNAME", "XORG")),
            "my account": (reverse("learning:account"), ("XNAME", "XORG")),
            "quizzes": (reverse("quizzes:index"), ("XQUIZ",)),
            "history": (reverse("quizzes:history"), ("XQUIZ",)),
            "wrong-answer book": (reverse("quizzes:wrong_book"), ("XSTEM", "XCAT")),
            "wrong-answer practice": (
                reverse("quizzes:wrong_practise", args=[w.entry.pk]),
                ("XSTEM", "XOPT"),
            ),
            "practice index": (reverse("quizzes:practice_index"), ("XCAT",)),
            "practice": (
                reverse("quizzes:practice", args=[w.question.category_id]),
                ("XSTEM", "XOPT", "XCAT"),
            ),
            "attempt": (
                reverse("quizzes:attempt", args=[w.running.pk]),
                ("XQUIZ", "XSTEM", "XOPT"),
            ),
            "result": (
                reverse("quizzes:result", args=[w.done.pk]),
                ("XQUIZ", "XSTEM", "XOPT", "XEXPL", "XANSWER", "XREF"),
            ),
            "course": (w.course.url, ("XCOURSE", "XLESSON")),
            "lesson": (w.lesson.url, ("XCOURSE", "XLESSON", "XLINK")),
            "search for markup": ("/search/?q=" + quote(poison("XQUERY")), ("XQUERY",)),
            "search with highlighting": (
                "/search/?q=" + quote('XLESSON script img onerror"><img src=x>'),
                ("XLESSON", "XCOURSE", "XLINK"),
            ),
        },
    )

    with subtests.test(msg="the javascript: link written in the admin is not kept"):
        stored = json.dumps(list(w.lesson.body.raw_data))
        assert "XLINK" in stored
        assert "javascript" not in stored.lower()
    check_the_screen(w, subtests)


def check_the_screen(world: World, subtests: Any) -> None:
    anonymous = Client()
    with subtests.test(msg="screen page"):
        page = anonymous.get(reverse("screen", args=[world.screen.token]))
        assert page.status_code == 200
        assert_shown_as_text(page.content.decode(), ("XSCREEN",))
    with subtests.test(msg="snapshot"):
        snapshot = anonymous.get(reverse("screen_snapshot", args=[world.screen.token]))
        assert snapshot.status_code == 200
        # JSON, never sniffed as HTML; the script puts every value in with textContent.
        assert snapshot["Content-Type"] == "application/json"
        assert snapshot["X-Content-Type-Options"] == "nosniff"
        data = snapshot.json()
        assert data["screen"]["name"] == poison("XSCREEN")
        assert data["top_members"][0]["name"] == poison("XNAME")
        assert data["top_members"][0]["organization"] == poison("XORG")
        assert poison("XORG") in [row["name"] for row in data["branches"]]


def check_the_grading_round_trip(world: World, secretary_a: Member, subtests: Any) -> None:
    """The member's answer reaches the secretary, the secretary's comment the member."""
    secretary = signed_in(secretary_a)
    check_pages(
        subtests,
        secretary,
        {"grading queue": (reverse("quizzes_grading"), ("XNAME", "XQUIZ", "XANSWER", "XREF"))},
    )
    grade = reverse("quizzes_grade", args=[world.item.pk])
    field = f"item-{world.item.pk}"
    with subtests.test(msg="a refused mark shows the comment back"):
        refused = secretary.post(
            grade, {f"{field}-percent": "500", f"{field}-comment": poison("XCOMMENT")}
        )
        assert refused.status_code == 400
        assert_shown_as_text(refused.content.decode(), ("XCOMMENT", "XANSWER"))
    with subtests.test(msg="the success message names the member"):
        graded = secretary.post(
            grade, {f"{field}-percent": "50", f"{field}-comment": poison("XCOMMENT")}, follow=True
        )
        assert graded.status_code == 200
        assert_shown_as_text(graded.content.decode(), ("XNAME",))
    check_pages(
        subtests,
        signed_in(world.member),
        {
            "result with the comment": (
                reverse("quizzes:result", args=[world.done.pk]),
                ("XCOMMENT", "XANSWER"),
            )
        },
    )


def test_admin_pages_and_grading_show_stored_markup_as_text(
    world: World, administrator: Member, editor: Member, secretary_a: Member, subtests: Any
) -> None:
    w = world
    check_pages(
        subtests,
        signed_in(administrator),
        {
            "members": (reverse("wagtailusers_users:index"), ("XNAME", "XORG")),
            "member search": (reverse("wagtailusers_users:index") + "?q=XNAME", ("XNAME",)),
            "member edit": (reverse("wagtailusers_users:edit", args=[w.member.pk]), ("XNAME",)),
            "member history": (reverse("wagtailusers_users:history", args=[w.member.pk]), ()),
            "ledger": (reverse("ledger:index"), ("XNAME", "XORG")),
            "organisations": (reverse("organizations:index"), ("XORG",)),
            "organisation edit": (
                reverse("organizations:edit", args=[w.organization.pk]),
                ("XORG",),
            ),
            "results": (reverse("quizzes_results"), ("XQUIZ",)),
            "quiz results": (
                reverse("quizzes_quiz_results", args=[w.quiz.pk]),
                ("XNAME", "XORG", "XQUIZ"),
            ),
            "statistics": (reverse("quizzes_quiz_statistics", args=[w.quiz.pk]), ("XQUIZ",)),
            "assignments": (reverse("assignments:index"), ("XASSIGN", "XORG")),
            "assignment report": (
                reverse("assignments:report") + f"?assignment={w.assignment.pk}",
                ("XASSIGN", "XNAME", "XORG"),
            ),
            "screens": (reverse("screens:index"), ("XSCREEN",)),
            "screen edit": (reverse("screens:edit", args=[w.screen.pk]), ("XSCREEN",)),
            "quizzes": (reverse("quiz_admin:index"), ("XQUIZ",)),
            "quiz edit": (
                reverse("quiz_admin:edit", args=[w.quiz.pk]),
                ("XQUIZ", "XSTEM", "XCAT"),
            ),
        },
    )
    check_pages(
        subtests,
        signed_in(editor),
        {
            "questions": (
                reverse("wagtailsnippets_quizzes_question:list"),
                ("XSTEM", "XCAT"),
            ),
            "question edit": (
                reverse("wagtailsnippets_quizzes_question:edit", args=[w.question.pk]),
                ("XSTEM", "XOPT", "XEXPL", "XCAT"),
            ),
            "question preview": (
                reverse("quizzes_question_preview", args=[w.question.pk]),
                ("XSTEM", "XOPT"),
            ),
            "question answer": (
                reverse("quizzes_question_answer", args=[w.question.pk]),
                ("XSTEM", "XOPT", "XEXPL"),
            ),
            "categories": (reverse("question_categories:index"), ("XCAT",)),
            "page explorer": (
                reverse("wagtailadmin_explore", args=[w.course.pk]),
                ("XCOURSE", "XLESSON"),
            ),
            "lesson edit": (
                reverse("wagtailadmin_pages:edit", args=[w.lesson.pk]),
                ("XLESSON", "XLINK"),
            ),
        },
    )

    check_the_grading_round_trip(w, secretary_a, subtests)


def test_the_member_scripts_never_write_html() -> None:
    """The pages' scripts put server data in with textContent, never as markup."""
    for script in (settings.BASE_DIR / "static" / "js").glob("*.js"):
        source = script.read_text()
        for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("):
            assert sink not in source, f"{script.name} uses {sink}"
