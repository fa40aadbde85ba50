"""Sequence-number abuse on answer saves: every bad ``seq`` is a 400 and stores nothing.

A save carries ``seq``, a counter the page (or the app) increases with every change; the
server keeps the answer with the highest one. A member who sends a huge ``seq`` could pin
an answer against every later save, one who sends zero, a negative number, a float, a
string, a boolean or null probes the parser. Each is refused with 400 on the web save
and on the API, and the stored answer, its ``seq`` and its time stay as they were.
(``tests/quizzes/test_api.py`` tries a few of these on the API; this is the full table,
on both.)
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.urls import reverse

from learning.models import Member
from quizzes.models import Attempt
from quizzes.taking.attempts import MAX_SEQ, attempt_answer_save, attempt_start
from tests.factories.questions import bank_of_each_type
from tests.factories.quizzes import fixed_quiz, right_answer, wrong_answer
from tests.security.conftest import signed_in

pytestmark = pytest.mark.django_db

# (name, value): every one is tried as a subtest on one attempt, which none may change.
BAD_SEQS: list[tuple[str, Any]] = [
    ("zero", 0),
    ("negative", -1),
    ("most-negative", -(2**63)),
    ("2**31", MAX_SEQ + 1),
    ("2**63", 2**63),
    ("googol", 10**100),
    ("float-whole", 1.0),
    ("float", 2.5),
    ("float-huge", 1e308),
    ("string", "3"),
    ("string-exponent", "1e3"),
    ("true", True),
    ("false", False),
    ("null", None),
    ("list", [5]),
    ("object", {"n": 5}),
]


@pytest.fixture
def attempt(victim: Member) -> Attempt:
    quiz = fixed_quiz(list(bank_of_each_type().values()), title="序号测验")
    attempt = attempt_start(quiz=quiz, member=victim)
    first = attempt.questions.get(position=1)
    attempt_answer_save(
        attempt=attempt, member=victim, position=1, response=wrong_answer(first.snapshot), seq=7
    )
    return attempt


def saved(attempt: Attempt) -> list[tuple[Any, ...]]:
    return list(
        attempt.questions.order_by("position").values_list(
            "response", "response_seq", "saved_at", "mark", "state"
        )
    )


def _save(client: Any, attempt: Attempt, seq: Any, *, api: bool) -> Any:
    response = right_answer(attempt.questions.get(position=1).snapshot)
    if api:
        url = reverse("quizzes_api:answer", args=[attempt.pk, 1])
        return client.put(url, {"response": response, "seq": seq}, format="json")
    body = {"position": 1, "response": response, "seq": seq}
    return client.post(
        reverse("quizzes:save", args=[attempt.pk]),
        data=json.dumps(body),
        content_type="application/json",
    )


@pytest.mark.parametrize("api", [False, True], ids=["web", "api"])
def test_a_bad_sequence_number_is_refused_and_stores_nothing(
    api: bool, attempt: Attempt, victim: Member, subtests: Any
) -> None:
    client = signed_in(victim, api=api)
    for name, seq in BAD_SEQS:
        with subtests.test(seq=name):
            before = saved(attempt)

            response = _save(client, attempt, seq, api=api)

            assert response.status_code == 400
            body = response.json()
            if api:
                assert body["code"] == "invalid" and "seq" in body["fields"]
            else:
                assert body["ok"] is False and body["code"] == "bad_seq" and body["message"]
            assert saved(attempt) == before


@pytest.mark.parametrize("api", [False, True], ids=["web", "api"])
def test_non_standard_json_numbers_are_refused(
    api: bool, attempt: Attempt, victim: Member, subtests: Any
) -> None:
    """Python's json reads NaN and Infinity, and 5000 digits: none is a sequence number."""
    client = signed_in(victim, api=api)
    response = right_answer(attempt.questions.get(position=1).snapshot)
    for literal in ("NaN", "Infinity", "-Infinity", "1" * 5000):
        with subtests.test(seq=literal[:12]):
            before = saved(attempt)
            body = f'"response": {json.dumps(response)}, "seq": {literal}'
            if api:
                sent = client.put(
                    reverse("quizzes_api:answer", args=[attempt.pk, 1]),
                    "{" + body + "}",
                    content_type="application/json",
                )
            else:
                sent = client.post(
                    reverse("quizzes:save", args=[attempt.pk]),
                    data='{"position": 1, ' + body + "}",
                    content_type="application/json",
                )
            assert sent.status_code == 400
            assert saved(attempt) == before


@pytest.mark.parametrize("api", [False, True], ids=["web", "api"])
def test_the_largest_sequence_number_is_accepted_and_nothing_beats_it(
    api: bool, attempt: Attempt, victim: Member
) -> None:
    """The bound is the stored column's; a member who reaches it only pins their own answer."""
    client = signed_in(victim, api=api)
    assert _save(client, attempt, MAX_SEQ, api=api).status_code == 200
    assert attempt.questions.get(position=1).response_seq == MAX_SEQ
    assert _save(client, attempt, MAX_SEQ + 1, api=api).status_code == 400
    assert attempt.questions.get(position=1).response_seq == MAX_SEQ
