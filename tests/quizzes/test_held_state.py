"""An attempt held for the secretary (answered implausibly fast) says so wherever it is listed.

Issue 12: the result page said the attempt waited for the secretary, but the history
showed just "0 / 5". The history, the quiz page's own record, the API's attempt list and
detail, and the admin's results all show the held state until the attempt is accepted.
"""

from __future__ import annotations

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from quizzes.models import Attempt, Question, Quiz
from quizzes.taking.flag_subjects import attempt_flags_dismiss
from tests.factories.people import DEFAULT_PASSWORD, MemberFactory
from tests.factories.questions import question_create, single_choice
from tests.factories.quizzes import fixed_quiz, take

pytestmark = pytest.mark.django_db

HELD_LABEL = "Under review"


@pytest.fixture
def member(tree):
    return MemberFactory(username="zhao", organization=tree.branch_a1)


@pytest.fixture
def questions(db) -> list[Question]:
    return [question_create(single_choice(stem="党的最高领导机关是？"))]


@pytest.fixture
def held(member, questions) -> Attempt:
    # Nobody reads a question in less than a minute and a half: submitted at once, it is held.
    quiz = fixed_quiz(questions, title="快答测验", attempts_allowed=0, min_seconds_per_question=90)
    attempt = take(quiz, member)
    assert attempt.too_fast and attempt.is_held and attempt.points == 0
    return attempt


@pytest.fixture
def plain(member, questions) -> Attempt:
    quiz = fixed_quiz(questions, title="正常测验", attempts_allowed=0, min_seconds_per_question=0)
    attempt = take(quiz, member)
    assert not attempt.too_fast
    return attempt


def _english(client) -> None:
    client.cookies["django_language"] = "en"


def test_the_history_shows_a_held_attempt_as_held(client, member, held, plain) -> None:
    client.force_login(member)
    _english(client)
    page = client.get(reverse("quizzes:history"), HTTP_ACCEPT_LANGUAGE="en")
    content = page.content.decode()
    assert content.count('data-testid="attempt-held"') == 1
    assert HELD_LABEL in content
    rows = content.split('class="task"')
    held_row = next(row for row in rows if "快答测验" in row)
    assert 'data-testid="attempt-held"' in held_row


def test_once_accepted_the_history_no_longer_says_held(client, member, held, secretary_a) -> None:
    attempt_flags_dismiss(attempt=held, by=secretary_a, note="")
    client.force_login(member)
    page = client.get(reverse("quizzes:history"))
    assert 'data-testid="attempt-held"' not in page.content.decode()


def test_the_quiz_page_shows_the_held_attempt_on_its_own_record(client, member, held) -> None:
    Quiz.objects.filter(pk=held.quiz_id).update(kind=Quiz.Kind.TOPIC)
    client.force_login(member)
    page = client.get(reverse("quizzes:index"))
    content = page.content.decode()
    row = content[content.index("快答测验") :]
    row = row[: row.index("</li>")]
    assert 'data-testid="attempt-held"' in row


def _api(member) -> APIClient:
    api = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    assert api.login(username=member.username, password=DEFAULT_PASSWORD)
    return api


def test_the_api_lists_and_details_give_the_held_state(member, held, plain) -> None:
    api = _api(member)
    listed = {row["id"]: row for row in api.get("/api/v1/attempts/").json()["results"]}
    assert listed[held.pk]["result_state"] == "held"
    assert listed[held.pk]["result_state_label"] == HELD_LABEL
    assert listed[plain.pk]["result_state"] == "final"
    detail = api.get(f"/api/v1/attempts/{held.pk}/").json()
    assert (detail["result_state"], detail["too_fast"], detail["points"]) == ("held", True, 0)


def test_the_api_quiz_list_counts_held_attempts(member, held) -> None:
    Quiz.objects.filter(pk=held.quiz_id).update(kind=Quiz.Kind.TOPIC)
    rows = {row["id"]: row for row in _api(member).get("/api/v1/quizzes/").json()["results"]}
    assert rows[held.quiz_id]["attempts_held"] == 1


def test_the_admin_results_index_counts_held_attempts(client, secretary_a, held) -> None:
    client.force_login(secretary_a)
    index = client.get(reverse("quizzes_results"))
    [quiz] = index.context["page_obj"].object_list
    assert quiz.held == 1
    assert 'data-testid="results-held"' in index.content.decode()
