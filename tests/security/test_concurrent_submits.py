"""Concurrent submits over HTTP: eight taps on "submit" at once award the points once.

``tests/quizzes/test_attempt_concurrency.py`` races the service itself. Here the race goes
through the real views, the way a member double-tapping on two phones (or a script)
would: the web page's submit, the API's submit, and both at once. Real threads with
their own database connections, each with its own signed-in client.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from learning.models import Member, PointsEntry
from quizzes.models import Attempt, Quiz
from quizzes.taking.attempts import attempt_start
from tests.conftest import Tree
from tests.factories.people import MemberFactory
from tests.factories.questions import bank_of_each_type
from tests.factories.quizzes import answer_all, fixed_quiz
from tests.learning.test_points_concurrency import run_concurrently

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)
REQUESTS = 8


def _answered_attempt(member: Member) -> Attempt:
    quiz = fixed_quiz(list(bank_of_each_type().values()), kind=Quiz.Kind.TOPIC)
    attempt = attempt_start(quiz=quiz, member=member)
    # Started a while ago, so the attempt is not flagged as implausibly fast.
    Attempt.objects.filter(pk=attempt.pk).update(
        started_at=attempt.started_at - datetime.timedelta(minutes=10)
    )
    answer_all(attempt, member)
    return attempt


def _web_submit(member: Member, attempt: Attempt) -> Callable[[], Any]:
    client = Client()
    client.force_login(member)
    return lambda: client.post(reverse("quizzes:submit", args=[attempt.pk])).status_code


def _api_submit(member: Member, attempt: Attempt) -> Callable[[], Any]:
    client = APIClient()
    client.force_login(member)
    return lambda: client.post(reverse("quizzes_api:submit", args=[attempt.pk])).status_code


@pytest.mark.parametrize("sides", ["web", "api", "web+api"])
def test_submitting_at_once_over_http_scores_and_awards_once(tree: Tree, sides: str) -> None:
    member = MemberFactory(organization=tree.branch_a1)
    attempt = _answered_attempt(member)
    makers = {"web": [_web_submit], "api": [_api_submit], "web+api": [_web_submit, _api_submit]}
    calls = [makers[sides][n % len(makers[sides])](member, attempt) for n in range(REQUESTS)]

    statuses = run_concurrently(calls)

    # Every tap gets the result page (302) or the result (200), never an error.
    assert set(statuses) <= {200, 302}
    attempt.refresh_from_db()
    assert attempt.state == Attempt.State.SUBMITTED
    assert attempt.score == 4
    assert PointsEntry.objects.filter(member=member).count() == 1
    assert PointsEntry.objects.get(member=member).points == attempt.points > 0
