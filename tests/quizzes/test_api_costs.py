"""What one member's daily quiz costs the database over the API (issue 16's spike).

Each request kind of the morning spike — start, autosave, check, submit, and reading the
attempt — is pinned to the number of queries it makes, so a change that adds one to the
path every member takes at 8 o'clock shows here (docs/benchmarks.md#morning-spike). The
counts are those of the test settings (sessions in the database); with Redis the session
is read from the cache, one query less per request.
"""

from __future__ import annotations

import datetime

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from learning.models import Member, PointsEntry
from quizzes.models import Attempt
from quizzes.taking.daily import daily_quiz_make
from tests.factories.people import DEFAULT_PASSWORD, MemberFactory
from tests.factories.questions import question_create, single_choice, true_false
from tests.factories.quizzes import right_answer

pytestmark = pytest.mark.django_db

# Session, member, then the request's own work (see each test).
START_QUERIES = 22
SAVE_QUERIES = 7  # lock the attempt, read the question, write it (savepoint and release)
CHECK_QUERIES = 10  # + the verdicts so far, the exam locks for the feedback shown
SUBMIT_QUERIES = 23  # scoring, the book, the signals, the points (learning.points), the reply
DETAIL_QUERIES = 7


@pytest.fixture
def member(tree) -> Member:
    return MemberFactory(username="zhao", organization=tree.branch_a1)


@pytest.fixture
def api(member) -> APIClient:
    client = APIClient()
    assert client.login(username=member.username, password=DEFAULT_PASSWORD)
    return client


@pytest.fixture
def daily(db):
    for n in range(4):
        question_create(single_choice(stem=f"第{n}题：中国共产党成立于哪一年？"))
    question_create(true_false())
    return daily_quiz_make()  # made once a day, by beat or the first start: not counted


def _costs(client: APIClient, method: str, path: str, body=None):
    with CaptureQueriesContext(connection) as captured:
        response = getattr(client, method)(path, body, format="json")
    return response, len(captured.captured_queries)


def test_the_daily_quiz_over_the_api_costs_its_pinned_queries(api, member, daily):
    started, cost = _costs(api, "post", reverse("quizzes_api:daily_start"))
    assert started.status_code == 201, started.content
    assert cost <= START_QUERIES
    attempt = started.json()
    base = f"/api/v1/attempts/{attempt['id']}"
    frozen = {item.position: item.snapshot for item in Attempt.objects.get().questions.all()}
    for question in attempt["questions"]:
        position = question["position"]
        answer = right_answer(frozen[position])
        saved, cost = _costs(
            api, "put", f"{base}/answers/{position}/", {"response": answer, "seq": 1}
        )
        assert saved.status_code == 200 and saved.json()["stale"] is False
        assert cost <= SAVE_QUERIES, f"save {position}: {cost}"
        checked, cost = _costs(
            api, "post", f"{base}/answers/{position}/check/", {"response": answer, "seq": 2}
        )
        assert checked.status_code == 200 and checked.json()["correct"] is True
        assert checked.json()["attempt"]["question_count"] == 5
        assert cost <= CHECK_QUERIES, f"check {position}: {cost}"
    read, cost = _costs(api, "get", f"{base}/")
    assert read.status_code == 200 and cost <= DETAIL_QUERIES
    # Submitted at a human pace (the quiz's own seconds per question), so points are due.
    with time_machine.travel(timezone.now() + datetime.timedelta(minutes=3)):
        submitted, cost = _costs(api, "post", f"{base}/submit/", {})
    assert submitted.status_code == 200
    body = submitted.json()
    assert body["state"] == "submitted" and body["question_count"] == 5
    assert body["correct_count"] == 5 and body["result_state"] == "final"
    assert body["points"] == 5
    assert cost <= SUBMIT_QUERIES
    # The points the reply shows are the ledger's, once.
    entries = PointsEntry.objects.filter(member=member)
    assert sum(entry.points for entry in entries) == body["points"]
    again, _cost = _costs(api, "post", f"{base}/submit/", {})
    assert again.json()["points"] == body["points"]
    assert PointsEntry.objects.filter(member=member).count() == entries.count()


def test_a_save_that_is_stale_or_not_mine_costs_no_write(api, member, daily, tree):
    attempt = api.post(reverse("quizzes_api:daily_start")).json()
    path = f"/api/v1/attempts/{attempt['id']}/answers/1/"
    frozen = Attempt.objects.get().questions.get(position=1).snapshot
    assert (
        api.put(path, {"response": right_answer(frozen), "seq": 3}, format="json").json()["stale"]
        is False
    )
    with CaptureQueriesContext(connection) as captured:
        stale = api.put(path, {"response": None, "seq": 2}, format="json")
    assert stale.status_code == 200 and stale.json()["stale"] is True
    assert stale.json()["seq"] == 3 and stale.json()["response"] == right_answer(frozen)
    assert not any(q["sql"].startswith("UPDATE") for q in captured.captured_queries)
    other = APIClient()
    stranger = MemberFactory(username="qian", organization=tree.branch_a1)
    assert other.login(username=stranger.username, password=DEFAULT_PASSWORD)
    for method, suffix, body in (
        ("put", "answers/1/", {"response": None, "seq": 9}),
        ("post", "answers/1/check/", {"response": right_answer(frozen)}),
        ("post", "submit/", {}),
    ):
        refused = getattr(other, method)(
            f"/api/v1/attempts/{attempt['id']}/{suffix}", body, format="json"
        )
        assert refused.status_code == 404, suffix
        assert refused.json()["code"] == "not_found"
    item = Attempt.objects.get().questions.get(position=1)
    assert item.response_seq == 3 and item.mark is None
    assert Attempt.objects.get().state == Attempt.State.IN_PROGRESS
