"""The grading queue, results per quiz with the .xlsx export, and statistics in the admin."""

from __future__ import annotations

import datetime
import io
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.urls import reverse
from openpyxl import load_workbook

from quizzes.models import AttemptQuestion, Question, Quiz
from quizzes.results.statistics_cache import statistics_stamp
from tests.factories.people import MemberFactory
from tests.factories.questions import question_create, single_choice, true_false
from tests.factories.quizzes import (
    answer_to_grade,
    fixed_quiz,
    quiz_with_short_answer,
    take,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _empty_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def people(tree):
    """Members in the secretary's subtree (第一党总支) and one outside it (第三党支部)."""
    return {
        "zhao": MemberFactory(username="zhao", display_name="赵一", organization=tree.branch_a1),
        "qian": MemberFactory(username="qian", display_name="钱二", organization=tree.group_a1),
        "sun": MemberFactory(username="sun", display_name="孙三", organization=tree.branch_a2),
        "li": MemberFactory(username="li", display_name="李四", organization=tree.branch_b1),
    }


@pytest.fixture
def member(tree):
    return MemberFactory(username="plain_member", organization=tree.branch_a1)


@pytest.fixture
def choice_questions(db) -> list[Question]:
    return [
        question_create(single_choice(stem="中共一大在哪一年召开？")),
        question_create(true_false()),
    ]


# --- Results -------------------------------------------------------------------------------


def _results_quiz(questions: list[Question], **fields) -> Quiz:
    return fixed_quiz(questions, pass_percent=60, attempts_allowed=0, **fields)


def test_a_secretary_sees_only_their_subtree_by_branch_and_member(
    client, secretary_a, editor, people, choice_questions
) -> None:
    quiz = _results_quiz(choice_questions)
    take(quiz, people["zhao"], right=True)  # 100 %
    take(quiz, people["qian"], right=False)  # 0 %, a party group under 第一党支部
    take(quiz, people["sun"], right=[True, False])  # 50 %
    take(quiz, people["li"], right=True)  # outside the secretary's subtree
    client.force_login(secretary_a)
    response = client.get(reverse("quizzes_quiz_results", args=[quiz.pk]))
    assert response.status_code == 200
    results = response.context["results"]
    assert [row.member.username for row in results.members] == ["zhao", "qian", "sun"]
    branches = {
        row.branch.name: (row.attempts, row.mean, rate) for row, rate in results.branch_rows()
    }
    assert branches == {
        "第一党支部": (2, Decimal("50.00"), Decimal("50.00")),
        "第二党支部": (1, Decimal("50.00"), Decimal("0.00")),
    }
    assert results.total.attempts == 3
    assert "李四" not in response.content.decode()

    client.force_login(editor)
    everyone = client.get(reverse("quizzes_quiz_results", args=[quiz.pk])).context["results"]
    assert {row.member.username for row in everyone.members} == {"zhao", "qian", "sun", "li"}
    assert everyone.total.attempts == 4


def test_a_members_grade_follows_the_quiz_grading_method(
    client, editor, people, choice_questions
) -> None:
    quiz = _results_quiz(choice_questions, grading_method=Quiz.GradingMethod.LAST)
    take(quiz, people["zhao"], right=True)
    take(quiz, people["zhao"], right=[True, False])
    client.force_login(editor)
    results = client.get(reverse("quizzes_quiz_results", args=[quiz.pk])).context["results"]
    row = results.members[0]
    assert (len(row.attempts), row.best, row.grade, row.passed) == (
        2,
        Decimal("100.00"),
        Decimal("50.00"),
        False,
    )
    Quiz.objects.filter(pk=quiz.pk).update(grading_method=Quiz.GradingMethod.AVERAGE)
    results = client.get(reverse("quizzes_quiz_results", args=[quiz.pk])).context["results"]
    assert (results.members[0].grade, results.members[0].passed) == (Decimal("75.00"), True)


def test_the_xlsx_export_opens_and_lists_the_secretarys_members(
    client, secretary_a, people, choice_questions
) -> None:
    quiz = _results_quiz(choice_questions)
    for username in ("zhao", "sun", "li"):
        take(quiz, people[username], right=username != "sun")
    client.force_login(secretary_a)
    response = client.get(reverse("quizzes_quiz_results_export", args=[quiz.pk]))
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    workbook = load_workbook(io.BytesIO(response.content))
    branches, members, attempts = workbook.worksheets[:3]
    branch_rows = [row for row in branches.iter_rows(min_row=2, values_only=True)]
    assert [row[:3] for row in branch_rows[:-1]] == [("第一党支部", 1, 1), ("第二党支部", 1, 1)]
    assert branch_rows[-1][1:3] == (2, 2)  # the total row
    member_rows = [row for row in members.iter_rows(min_row=2, values_only=True)]
    assert [(row[1], row[2], row[6]) for row in member_rows] == [
        ("zhao", "第一党支部", 100),
        ("sun", "第二党支部", 0),
    ]
    assert attempts.max_row == 3  # header and one attempt each


def test_the_page_and_the_workbook_show_the_same_branch_tables(
    client, editor, people, choice_questions
) -> None:
    quiz = fixed_quiz(choice_questions, pass_percent=None, attempts_allowed=0)
    take(quiz, people["zhao"], right=True)
    take(quiz, people["sun"], right=[True, False])
    client.force_login(editor)
    page = client.get(reverse("quizzes_quiz_results", args=[quiz.pk]))
    html = page.content.decode()
    results = page.context["results"]
    export = client.get(reverse("quizzes_quiz_results_export", args=[quiz.pk]))
    workbook = load_workbook(io.BytesIO(export.content))
    sheets = {sheet.title: sheet for sheet in workbook.worksheets}
    for table, title in (
        (results.branch_table(), "各支部"),
        (results.not_yet_branch_table(), "各支部未提交情况"),
    ):
        assert f'data-testid="{table.testid}"' in html
        written = [list(row) for row in sheets[title].iter_rows(values_only=True)]
        assert written == table.sheet_rows()
    total = results.branch_table().total
    # No pass mark: the page says "—" where the workbook leaves the cell empty.
    assert (str(total.cells[2]), str(total.cells[3])) == ("75.00%", "—")
    assert sheets["各支部"].cell(row=4, column=5).value is None


@pytest.mark.parametrize("url_name", ["quizzes_quiz_results", "quizzes_quiz_results_export"])
def test_a_member_without_rights_is_refused_the_results(
    client, member, people, choice_questions, url_name
) -> None:
    quiz = _results_quiz(choice_questions)
    take(quiz, people["zhao"])
    client.force_login(member)
    response = client.get(reverse(url_name, args=[quiz.pk]))
    assert response.status_code in (302, 403)
    assert client.get(reverse("quizzes_results")).status_code in (302, 403)


def test_the_results_pages_stay_within_a_query_bound(
    client, editor, tree, choice_questions, django_assert_max_num_queries
) -> None:
    quiz = _results_quiz(choice_questions)
    for number in range(15):
        organization = tree.branch_a1 if number % 2 else tree.branch_b1
        taker = MemberFactory(username=f"taker{number}", organization=organization)
        take(quiz, taker, right=number % 3 != 0)
    client.force_login(editor)
    with django_assert_max_num_queries(25):
        response = client.get(reverse("quizzes_quiz_results", args=[quiz.pk]))
    assert len(response.context["results"].members) == 15
    with django_assert_max_num_queries(25):
        index = client.get(reverse("quizzes_results"))
    assert [row.scoped_attempts for row in index.context["page_obj"].object_list] == [15]


def test_a_too_fast_attempt_is_flagged_and_a_secretary_accepts_it(
    client, secretary_a, people, choice_questions
) -> None:
    quiz = _results_quiz(choice_questions, min_seconds_per_question=60)
    fast = take(quiz, people["zhao"])
    outside = take(quiz, people["li"])
    assert fast.too_fast and outside.too_fast
    client.force_login(secretary_a)
    page = client.get(reverse("quizzes_quiz_results", args=[quiz.pk]))
    assert [a.pk for row in page.context["results"].members for a in row.flagged] == [fast.pk]
    refused = client.post(reverse("quizzes_attempt_accept_fast", args=[outside.pk]))
    assert refused.status_code == 404
    accepted = client.post(reverse("quizzes_attempt_accept_fast", args=[fast.pk]))
    assert accepted.status_code == 302
    fast.refresh_from_db()
    outside.refresh_from_db()
    assert (fast.is_held, outside.is_held) == (False, True)
    assert fast.points > 0 and outside.points == 0


# --- Grading ---------------------------------------------------------------------------------


@pytest.fixture
def essay_quiz(db) -> Quiz:
    return quiz_with_short_answer(pass_percent=60, attempts_allowed=0)


def test_a_secretary_grades_only_their_subtree(client, secretary_a, people, essay_quiz) -> None:
    take(essay_quiz, people["zhao"])
    take(essay_quiz, people["li"])
    client.force_login(secretary_a)
    page = client.get(reverse("quizzes_grading"))
    assert page.status_code == 200
    rows = page.context["rows"]
    assert [row["attempt"].member.username for row in rows] == ["zhao"]
    assert rows[0]["answer"] == "一切为了群众"
    assert "从群众中来" in rows[0]["reference_answer"]
    assert "简述党的群众路线" in page.content.decode()

    theirs = answer_to_grade(people["li"])
    response = client.post(
        reverse("quizzes_grade", args=[theirs.pk]),
        {f"item-{theirs.pk}-percent": "100", f"item-{theirs.pk}-comment": ""},
    )
    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.state == AttemptQuestion.State.NEEDS_GRADING


def test_grading_scores_the_attempt(client, secretary_a, people, essay_quiz) -> None:
    attempt = take(essay_quiz, people["zhao"])
    assert attempt.needs_grading and attempt.score == Decimal(1)
    item = answer_to_grade(people["zhao"])
    client.force_login(secretary_a)
    response = client.post(
        reverse("quizzes_grade", args=[item.pk]),
        {f"item-{item.pk}-percent": "80", f"item-{item.pk}-comment": "要点基本齐全"},
    )
    assert response.status_code == 302
    item.refresh_from_db()
    attempt.refresh_from_db()
    assert (item.state, item.mark, item.grader_comment, item.graded_by) == (
        AttemptQuestion.State.GRADED,
        Decimal("0.80"),
        "要点基本齐全",
        secretary_a,
    )
    assert (attempt.needs_grading, attempt.score, attempt.passed) == (False, Decimal("1.80"), True)
    assert client.get(reverse("quizzes_grading")).context["rows"] == []


def test_an_out_of_range_mark_is_refused_and_changes_nothing(
    client, editor, people, essay_quiz
) -> None:
    take(essay_quiz, people["li"])
    item = answer_to_grade(people["li"])
    client.force_login(editor)
    response = client.post(
        reverse("quizzes_grade", args=[item.pk]), {f"item-{item.pk}-percent": "150"}
    )
    assert response.status_code == 400
    assert response.context["rows"][0]["form"].errors["percent"]
    item.refresh_from_db()
    assert item.state == AttemptQuestion.State.NEEDS_GRADING


def test_a_member_without_rights_cannot_see_or_grade(client, member, people, essay_quiz) -> None:
    take(essay_quiz, people["zhao"])
    item = answer_to_grade(people["zhao"])
    client.force_login(member)
    assert client.get(reverse("quizzes_grading")).status_code in (302, 403)
    response = client.post(
        reverse("quizzes_grade", args=[item.pk]), {f"item-{item.pk}-percent": "100"}
    )
    assert response.status_code in (302, 403)
    item.refresh_from_db()
    assert item.state == AttemptQuestion.State.NEEDS_GRADING


def test_the_grading_queue_stays_within_a_query_bound(
    client, editor, tree, essay_quiz, django_assert_max_num_queries
) -> None:
    for number in range(12):
        take(essay_quiz, MemberFactory(username=f"writer{number}", organization=tree.branch_a2))
    client.force_login(editor)
    with django_assert_max_num_queries(25):
        response = client.get(reverse("quizzes_grading"))
    assert len(response.context["rows"]) == 12


# --- Statistics ------------------------------------------------------------------------------


def test_the_statistics_page_renders_for_a_small_quiz(
    client, editor, people, choice_questions, django_capture_on_commit_callbacks
) -> None:
    quiz = _results_quiz(choice_questions)
    take(quiz, people["zhao"], right=[True, True])
    take(quiz, people["qian"], right=[True, False])
    take(quiz, people["sun"], right=[False, False])
    client.force_login(editor)
    url = reverse("quizzes_quiz_statistics", args=[quiz.pk])
    # The first view queues the task after commit (run inline: Celery is eager in tests).
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        queued = client.get(url)
    assert queued.status_code == 200
    assert queued.context["state"].pending
    assert len(callbacks) == 1
    response = client.get(url)
    assert response.status_code == 200
    stats = response.context["stats"]
    assert response.context["state"].fresh
    assert stats["attempts"] == 3
    first, second = stats["questions"]
    assert (first["facility"], second["facility"]) == (pytest.approx(66.67), pytest.approx(33.33))
    assert first["discrimination"] is not None
    counts = {option["letter"]: option["count"] for option in first["options"]}
    assert sum(counts.values()) == 3
    correct = [option for option in first["options"] if option["is_correct"]]
    assert [option["count"] for option in correct] == [2]
    assert "中共一大在哪一年召开" in response.content.decode()
    assert stats["computed_at"] is not None


def test_statistics_are_recomputed_after_a_new_attempt_and_on_request(
    client, editor, people, choice_questions, django_capture_on_commit_callbacks
) -> None:
    quiz = _results_quiz(choice_questions)
    take(quiz, people["zhao"])
    client.force_login(editor)
    url = reverse("quizzes_quiz_statistics", args=[quiz.pk])
    with django_capture_on_commit_callbacks(execute=True):
        client.get(url)
    first = client.get(url).context["stats"]
    stamp = statistics_stamp(quiz)
    # Cached: a second view neither queues nor recomputes.
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        assert client.get(url).context["stats"]["computed_at"] == first["computed_at"]
    assert callbacks == []
    take(quiz, people["qian"], right=False)
    assert statistics_stamp(quiz) != stamp
    with django_capture_on_commit_callbacks(execute=True):
        stale = client.get(url).context
    # Until the task has run, the earlier figures are shown, marked as out of date.
    assert (stale["state"].fresh, stale["stats"]["attempts"]) == (False, 1)
    second = client.get(url).context["stats"]
    assert second["attempts"] == 2
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(url).status_code == 302
    third = client.get(url).context["stats"]
    assert third["computed_at"] > second["computed_at"]
    assert third["computed_at"] - second["computed_at"] < datetime.timedelta(minutes=1)


def test_secretaries_and_members_cannot_open_statistics(
    client, secretary_a, member, people, choice_questions
) -> None:
    quiz = _results_quiz(choice_questions)
    take(quiz, people["zhao"])
    for user in (secretary_a, member):
        client.force_login(user)
        response = client.get(reverse("quizzes_quiz_statistics", args=[quiz.pk]))
        assert response.status_code in (302, 403)
        assert client.post(reverse("quizzes_quiz_statistics", args=[quiz.pk])).status_code in (
            302,
            403,
        )
