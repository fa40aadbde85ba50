"""Hostile bodies to the quiz API and the quiz pages' JSON endpoints, and poison already stored.

Each test sends the attack over HTTP as a client would: a lone surrogate, NUL or control
character in an answer, JSON nested 100,000 deep, numbers past a float, bodies over the
upload limit, unknown API paths. Each gets the documented error, nothing is stored, and a
value stored before the checks existed breaks no page.
"""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from learning.models import Member
from quizzes.models import Attempt, AttemptQuestion, Quiz, WrongAnswer
from quizzes.taking.attempts import attempt_start
from tests.factories.people import DEFAULT_PASSWORD, MemberFactory
from tests.factories.questions import question_create, short_answer, single_choice
from tests.factories.quizzes import fixed_quiz

pytestmark = pytest.mark.django_db

DEEP = "[" * 100_000
# (body, words the Chinese detail must contain)
POISON_BODIES = {
    "lone-surrogate": ('{"response": {"text": "\\ud800"}, "seq": 5}', "代理字符"),
    "low-surrogate": ('{"response": {"text": "ok\\udfff"}, "seq": 5}', "代理字符"),
    "nul": ('{"response": {"text": "a\\u0000b"}, "seq": 5}', "U+0000"),
    "control": ('{"response": {"text": "a\\u001bb"}, "seq": 5}', "U+001B"),
    "in-a-key": ('{"response": {"text": "ok", "\\ud800": 1}, "seq": 5}', "代理字符"),
    "nested": (DEEP, "20"),
    "just-too-deep": (
        '{"response": {"text": "ok"}, "seq": 5, "x": ' + "[" * 20 + "]" * 20 + "}",
        "20",
    ),
    "overflow": ('{"response": {"text": "ok"}, "seq": 1e400}', "超出范围"),
    "nan": ('{"response": {"text": "ok"}, "seq": NaN}', "JSON"),
}


@pytest.fixture
def member(tree) -> Member:
    return MemberFactory(username="zhao", display_name="赵一", organization=tree.branch_a1)


@pytest.fixture
def essay_quiz(db) -> Quiz:
    """A short answer (free text) first, then a single choice."""
    return fixed_quiz(
        [question_create(short_answer()), question_create(single_choice(stem="党的宗旨是？"))],
        pass_percent=60,
        attempts_allowed=0,
    )


@pytest.fixture
def attempt(member, essay_quiz) -> Attempt:
    return attempt_start(quiz=essay_quiz, member=member)


@pytest.fixture
def api(member) -> APIClient:
    client = APIClient(raise_request_exception=False)
    assert client.login(username=member.username, password=DEFAULT_PASSWORD)
    return client


@pytest.fixture
def web(member) -> Client:
    client = Client(raise_request_exception=False)
    client.force_login(member)
    return client


def stored(attempt: Attempt) -> list[tuple]:
    return list(
        attempt.questions.order_by("position").values_list("response", "response_seq", "state")
    )


def assert_api_error(response, status: int, code: str, words: str = "") -> None:
    assert response.status_code == status, response.content[:200]
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert set(body) == {"code", "detail"}
    assert body["code"] == code
    assert words in body["detail"]


# --- The API ----------------------------------------------------------------------------


@pytest.mark.parametrize(("body", "words"), POISON_BODIES.values(), ids=POISON_BODIES.keys())
def test_a_poisoned_api_save_is_refused_and_stores_nothing(api, attempt, body, words):
    before = stored(attempt)
    answer = reverse("quizzes_api:answer", args=[attempt.pk, 1])
    response = api.put(answer, body, content_type="application/json")
    assert_api_error(response, 400, "parse_error", words)
    assert stored(attempt) == before


def test_nested_json_to_check_and_practise_is_a_parse_error(api, member, attempt):
    entry = _wrong_answer_of(member)
    for url in (
        reverse("quizzes_api:check", args=[attempt.pk, 1]),
        reverse("quizzes_api:wrong_answer_practise", args=[entry.pk]),
    ):
        response = api.post(url, DEEP, content_type="application/json")
        assert_api_error(response, 400, "parse_error", "20")


def _wrong_answer_of(member: Member) -> WrongAnswer:
    question = question_create(single_choice(stem="党的根本组织原则是？"))
    return WrongAnswer.objects.create(
        member=member, question=question, last_wrong_at=timezone.now()
    )


def test_tabs_newlines_and_any_language_are_still_answers(api, attempt):
    text = "第一，从群众中来。\n\t第二，到群众中去。😀 naïve\r\n"
    answer = reverse("quizzes_api:answer", args=[attempt.pk, 1])
    response = api.put(answer, {"response": {"text": text}, "seq": 1}, format="json")
    assert response.status_code == 200
    assert attempt.questions.get(position=1).response == {"text": text}


def test_an_api_body_over_the_upload_limit_is_a_json_413(api, attempt, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440  # Django's default, named for the test
    body = json.dumps({"response": {"text": "长" * 1_000_000}, "seq": 1})  # 3 MB as UTF-8
    answer = reverse("quizzes_api:answer", args=[attempt.pk, 1])
    response = api.put(answer, body, content_type="application/json")
    assert_api_error(response, 413, "too_large")
    assert stored(attempt)[0][0] is None


@pytest.mark.parametrize("method", ["get", "post", "put", "delete"])
def test_an_unknown_api_path_is_a_json_404(api, method):
    response = getattr(api, method)("/api/v1/no-such-thing/")
    assert_api_error(response, 404, "not_found", "未找到")
    assert_api_error(APIClient().get("/api/v1/attempts/1/answers/x/"), 404, "not_found")


def test_a_wrong_method_and_a_missing_csrf_token_are_json(api, member, attempt):
    assert_api_error(
        api.delete(reverse("quizzes_api:attempt", args=[attempt.pk])), 405, "method_not_allowed"
    )
    strict = APIClient(enforce_csrf_checks=True)
    assert strict.login(username=member.username, password=DEFAULT_PASSWORD)
    response = strict.put(
        reverse("quizzes_api:answer", args=[attempt.pk, 1]),
        {"response": {"text": "x"}, "seq": 1},
        format="json",
    )
    assert_api_error(response, 403, "permission_denied", "CSRF")


# --- The quiz pages' JSON endpoints ------------------------------------------------------


def assert_page_error(response, status: int, code: str, words: str = "") -> None:
    assert response.status_code == status, response.content[:200]
    body = response.json()
    assert body["ok"] is False and body["code"] == code
    assert words in body["message"]


@pytest.mark.parametrize(
    ("body", "words"),
    [POISON_BODIES["lone-surrogate"], POISON_BODIES["nul"], POISON_BODIES["nested"]],
    ids=["lone-surrogate", "nul", "nested"],
)
def test_a_poisoned_page_save_is_refused_and_stores_nothing(web, attempt, body, words):
    before = stored(attempt)
    if body.startswith("{"):
        body = body.replace('"seq"', '"position": 1, "seq"')
    response = web.post(
        reverse("quizzes:save", args=[attempt.pk]), body, content_type="application/json"
    )
    assert_page_error(response, 400, "parse_error", words)
    assert stored(attempt) == before


def test_nested_json_to_every_page_endpoint_is_a_parse_error(web, member, attempt):
    entry = _wrong_answer_of(member)
    for url in (
        reverse("quizzes:save", args=[attempt.pk]),
        reverse("quizzes:check", args=[attempt.pk]),
        reverse("quizzes:practice", args=[entry.question.category_id]),
        reverse("quizzes:wrong_practise", args=[entry.pk]),
    ):
        response = web.post(url, DEEP, content_type="application/json")
        assert_page_error(response, 400, "parse_error", "20")


def test_a_page_save_over_the_upload_limit_is_a_json_413(web, attempt, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    body = json.dumps({"position": 1, "response": {"text": "x" * 2000}, "seq": 1})
    response = web.post(
        reverse("quizzes:save", args=[attempt.pk]), body, content_type="application/json"
    )
    assert_page_error(response, 413, "too_large")
    assert stored(attempt)[0][0] is None


# --- What is already stored ---------------------------------------------------------------


# What an answer stored before the checks existed may hold. SQLite kept anything, a lone
# surrogate and NUL included ("returns 500 but stores the value"); PostgreSQL's jsonb
# refuses both (that save failed there), so only other control characters got in.
if connection.vendor == "sqlite":
    POISON, POISON_STORED, REPAIRED = "一切为了群众\ud800\x00", "\\ud800", "一切为了群众\ufffd"
else:
    POISON, POISON_STORED, REPAIRED = "一切为了群众\x01\x1b", "\\u0001", "一切为了群众"


@pytest.fixture
def poisoned(attempt) -> Attempt:
    """An answer stored before the checks existed (see POISON)."""
    AttemptQuestion.objects.filter(attempt=attempt, position=1).update(
        response={"text": POISON}, response_seq=5
    )
    return attempt


def test_a_stored_lone_surrogate_breaks_no_page_of_the_member(api, web, poisoned):
    pk = poisoned.pk
    assert web.get(reverse("quizzes:attempt", args=[pk])).status_code == 200
    detail = api.get(reverse("quizzes_api:attempt", args=[pk]))
    assert detail.status_code == 200
    assert detail.json()["questions"][0]["response"] == {"text": REPAIRED}
    assert api.post(reverse("quizzes_api:submit", args=[pk])).status_code == 200
    assert web.get(reverse("quizzes:result", args=[pk])).status_code == 200
    assert api.get(reverse("quizzes_api:attempt", args=[pk])).status_code == 200
    assert api.get(reverse("quizzes_api:attempts")).status_code == 200


def test_a_stored_lone_surrogate_breaks_no_grading_or_results_page(
    client, api, secretary_a, administrator, poisoned
):
    api.post(reverse("quizzes_api:submit", args=[poisoned.pk]))
    client.raise_request_exception = False
    client.force_login(secretary_a)
    queue = client.get(reverse("quizzes_grading"))
    assert queue.status_code == 200
    assert REPAIRED in queue.content.decode()
    client.force_login(administrator)
    quiz_pk = poisoned.quiz_id
    assert client.get(reverse("quizzes_quiz_results", args=[quiz_pk])).status_code == 200
    assert client.get(reverse("quizzes_quiz_results_export", args=[quiz_pk])).status_code == 200


def test_clean_stored_text_repairs_what_is_stored_once(poisoned, member):
    Member.objects.filter(pk=member.pk).update(display_name="赵\x01一")
    out = StringIO()
    call_command("clean_stored_text", "--dry-run", stdout=out)
    *lines, summary = out.getvalue().splitlines()
    assert len(lines) == 2 and "2" in summary
    raw = AttemptQuestion.objects.filter(pk=poisoned.questions.get(position=1).pk)
    assert POISON_STORED in _stored_json(raw)

    out = StringIO()
    call_command("clean_stored_text", stdout=out)
    report = out.getvalue()
    assert "quizzes.AttemptQuestion" in report and "response" in report
    assert "learning.Member" in report and "display_name" in report
    assert POISON_STORED not in _stored_json(raw) and "\\u0000" not in _stored_json(raw)
    assert raw.get().response == {"text": REPAIRED}
    assert Member.objects.get(pk=member.pk).display_name == "赵一"

    again = StringIO()
    call_command("clean_stored_text", stdout=again)
    (summary,) = again.getvalue().splitlines()
    assert "0" in summary


def _stored_json(rows) -> str:
    from django.db.models import TextField
    from django.db.models.functions import Cast

    return rows.annotate(raw=Cast("response", output_field=TextField())).values_list(
        "raw", flat=True
    )[0]


# --- Forms -----------------------------------------------------------------------------------


def test_a_form_cannot_carry_a_lone_surrogate_or_nul(api, client, secretary_a, attempt):
    """Form bodies are decoded with replacement, so a surrogate's bytes arrive as U+FFFD;
    Django's CharField refuses NUL."""
    api.put(
        reverse("quizzes_api:answer", args=[attempt.pk, 1]),
        {"response": {"text": "一切为了群众"}, "seq": 1},
        format="json",
    )
    api.post(reverse("quizzes_api:submit", args=[attempt.pk]))
    item = attempt.questions.get(position=1)
    assert item.state == AttemptQuestion.State.NEEDS_GRADING
    client.raise_request_exception = False
    client.force_login(secretary_a)
    grade = reverse("quizzes_grade", args=[item.pk])
    prefix = f"item-{item.pk}"
    refused = client.post(
        grade,
        f"{prefix}-percent=80&{prefix}-comment=a%00b",
        content_type="application/x-www-form-urlencoded",
    )
    assert refused.status_code == 400
    item.refresh_from_db()
    assert item.state == AttemptQuestion.State.NEEDS_GRADING

    graded = client.post(
        grade,
        f"{prefix}-percent=80&{prefix}-comment=%E5%A5%BD%ED%A0%80",
        content_type="application/x-www-form-urlencoded",
    )
    assert graded.status_code == 302
    item.refresh_from_db()
    assert item.grader_comment.startswith("好\ufffd")
    assert not any("\ud800" <= char <= "\udfff" for char in item.grader_comment)
    assert client.get(reverse("quizzes_grading")).status_code == 200
