"""IDOR between members: another member's attempts and wrong-answer book are not found.

A member who knows (or counts up to) the id of a colleague's attempt or wrong-answer
entry tries every route that takes such an id, on the web pages and on the API: read it,
save into it, check answers in it, submit it, read its result, practise or remove the
entry. Every request answers 404, reveals nothing of the question or the answers, and the
database is exactly as before. The guard test at the end fails when a new route with an
id appears that this table does not attack.

(``tests/quizzes/test_api.py`` and ``test_quiz_pages.py`` each try a few of these on an
attempt in progress; this table is the complete list, in both states.)
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from learning.models import Member, PointsEntry
from quizzes.models import Attempt, AttemptQuestion, Quiz, WrongAnswer
from quizzes.taking.attempts import attempt_answer_save, attempt_start
from tests.factories.questions import bank_of_each_type
from tests.factories.quizzes import fixed_quiz, right_answer, take, wrong_answer
from tests.security.conftest import signed_in

pytestmark = pytest.mark.django_db

OPEN_TITLE = "受害者正在作答的测验"
DONE_TITLE = "受害者已交卷的测验"


@dataclass
class Targets:
    """What belongs to the victim: an attempt in progress, a submitted one, a book entry."""

    member: Member
    open_attempt: Attempt
    done_attempt: Attempt
    entry: WrongAnswer
    stems: list[str]

    def attempt(self, which: str) -> Attempt:
        return self.open_attempt if which == "open" else self.done_attempt

    def right(self, which: str, position: int = 1) -> dict[str, Any]:
        return right_answer(self.attempt(which).questions.get(position=position).snapshot)

    def right_for_entry(self) -> dict[str, Any]:
        question = self.entry.question
        return {"choices": [c.pk for c in question.choices.all() if c.is_correct]}


@pytest.fixture
def targets(victim: Member) -> Targets:
    bank = bank_of_each_type()
    # Answers after each question, so that a check is a legitimate request for its owner.
    open_quiz = fixed_quiz(
        list(bank.values()),
        title=OPEN_TITLE,
        review=Quiz.Review.AFTER_EACH,
        time_limit_minutes=30,
    )
    open_attempt = attempt_start(quiz=open_quiz, member=victim)
    second = open_attempt.questions.get(position=2)
    attempt_answer_save(
        attempt=open_attempt,
        member=victim,
        position=2,
        response=wrong_answer(second.snapshot),
        seq=3,
    )
    done_quiz = fixed_quiz([bank["single"], bank["true_false"]], title=DONE_TITLE)
    done_attempt = take(done_quiz, victim, right=False)
    entry = WrongAnswer.objects.get(member=victim, question=bank["single"])
    return Targets(
        member=victim,
        open_attempt=open_attempt,
        done_attempt=done_attempt,
        entry=entry,
        stems=[question.stem for question in bank.values()],
    )


def state_of(member: Member) -> dict[str, list[tuple[Any, ...]] | int]:
    """Everything an attack on a member's quiz data could change."""
    return {
        "attempts": list(
            Attempt.objects.filter(member=member)
            .order_by("pk")
            .values_list("pk", "state", "score", "submitted_at", "finished_by", "too_fast")
        ),
        "answers": list(
            AttemptQuestion.objects.filter(attempt__member=member)
            .order_by("pk")
            .values_list("pk", "response", "response_seq", "saved_at", "mark", "state")
        ),
        "book": list(
            WrongAnswer.objects.filter(member=member)
            .order_by("pk")
            .values_list(
                "pk", "wrong_count", "correct_streak", "last_wrong_at", "mastered_at", "removed_at"
            )
        ),
        "points": PointsEntry.objects.filter(member=member).count(),
    }


# --- The attacks ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Attack:
    route: str
    method: str
    target: str  # "open" or "done" attempt, or "entry"
    body: Callable[[Targets], Any] | None = None
    api: bool = False

    @property
    def id(self) -> str:
        side = "api" if self.api else "web"
        return f"{side}-{self.route.split(':')[1]}-{self.method}-{self.target}"

    def url(self, targets: Targets) -> str:
        if self.target == "entry":
            return reverse(self.route, args=[targets.entry.pk])
        args = [targets.attempt(self.target).pk]
        if self.route in ("quizzes_api:answer", "quizzes_api:check"):
            args.append(1)
        return reverse(self.route, args=args)


def _web_save(targets: Targets, which: str) -> dict[str, Any]:
    return {"position": 1, "response": targets.right(which), "seq": 99}


def _web_check(targets: Targets, which: str) -> dict[str, Any]:
    return {"position": 1, "response": targets.right(which)}


def _api_save(targets: Targets, which: str) -> dict[str, Any]:
    return {"response": targets.right(which), "seq": 99}


def _api_check(targets: Targets, which: str) -> dict[str, Any]:
    return {"response": targets.right(which)}


def _practise(targets: Targets) -> dict[str, Any]:
    return {"response": targets.right_for_entry()}


ATTACKS = [
    # Web pages and their JSON endpoints.
    *[
        attack
        for which in ("open", "done")
        for attack in (
            Attack("quizzes:attempt", "get", which),
            Attack("quizzes:save", "post", which, lambda t, w=which: _web_save(t, w)),
            Attack("quizzes:check", "post", which, lambda t, w=which: _web_check(t, w)),
            Attack("quizzes:submit", "post", which),
            Attack("quizzes:result", "get", which),
        )
    ],
    Attack("quizzes:wrong_practise", "get", "entry"),
    Attack("quizzes:wrong_practise", "post", "entry", _practise),
    Attack("quizzes:wrong_remove", "post", "entry"),
    # The API.
    *[
        attack
        for which in ("open", "done")
        for attack in (
            Attack("quizzes_api:attempt", "get", which, api=True),
            Attack(
                "quizzes_api:answer", "put", which, lambda t, w=which: _api_save(t, w), api=True
            ),
            Attack(
                "quizzes_api:check", "post", which, lambda t, w=which: _api_check(t, w), api=True
            ),
            Attack("quizzes_api:submit", "post", which, api=True),
        )
    ],
    Attack("quizzes_api:wrong_answer", "delete", "entry", api=True),
    Attack("quizzes_api:wrong_answer_practise", "post", "entry", _practise, api=True),
]


def perform(client: Any, attack: Attack, targets: Targets) -> Any:
    url = attack.url(targets)
    send = getattr(client, attack.method)
    if attack.body is None:
        return send(url)
    body = attack.body(targets)
    if attack.api:
        return send(url, body, format="json")
    return send(url, data=json.dumps(body), content_type="application/json")


@pytest.mark.parametrize("attack", ATTACKS, ids=[attack.id for attack in ATTACKS])
def test_another_members_attempt_or_entry_is_not_found_and_stays_as_it_was(
    attack: Attack, targets: Targets, attacker: Member
) -> None:
    client = signed_in(attacker, api=attack.api)
    before = state_of(targets.member)

    response = perform(client, attack, targets)

    assert response.status_code == 404
    content = response.content.decode()
    if attack.api:
        assert response.json()["code"] == "not_found"
    for secret in (*targets.stems, OPEN_TITLE, DONE_TITLE):
        assert secret not in content
    for key in ("is_correct", "correct_option_ids", "correct_answer", "explanation"):
        assert key not in content
    assert state_of(targets.member) == before
    assert state_of(attacker) == {"attempts": [], "answers": [], "book": [], "points": 0}


@pytest.mark.parametrize("route", ["quizzes:attempt", "quizzes_api:attempt"])
def test_reading_another_members_overdue_attempt_does_not_submit_it(
    route: str, targets: Targets, attacker: Member
) -> None:
    """The owner's read of an overdue attempt submits it; a stranger's must not."""
    overdue = targets.open_attempt
    Attempt.objects.filter(pk=overdue.pk).update(
        deadline=timezone.now() - datetime.timedelta(minutes=1)
    )
    before = state_of(targets.member)
    client = signed_in(attacker, api=route.startswith("quizzes_api"))

    assert client.get(reverse(route, args=[overdue.pk])).status_code == 404
    assert state_of(targets.member) == before


def test_my_lists_never_show_another_members_attempts_or_book(
    targets: Targets, attacker: Member
) -> None:
    web = signed_in(attacker)
    # (The quiz index lists both quizzes: they are open to the attacker too.)
    for name in ("quizzes:history", "quizzes:wrong_book"):
        page = web.get(reverse(name))
        assert page.status_code == 200
        content = page.content.decode()
        assert DONE_TITLE not in content
        for stem in targets.stems:
            assert stem not in content
    api = signed_in(attacker, api=True)
    assert api.get(reverse("quizzes_api:attempts")).json()["count"] == 0
    assert api.get(reverse("quizzes_api:wrong_answers")).json()["count"] == 0


# --- No route with an id escapes the table ---------------------------------------------------


def _routes(namespace: str) -> Iterator[tuple[str, URLPattern]]:
    def walk(patterns: list[Any], current: str | None) -> Iterator[tuple[str, URLPattern]]:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                yield from walk(pattern.url_patterns, pattern.namespace or current)
            elif current == namespace:
                yield f"{namespace}:{pattern.name}", pattern

    yield from walk(get_resolver().url_patterns, None)


# Ids of quizzes, not of anything a member owns: who may start a quiz is its audience
# (tests/quizzes/test_attempts.py::test_a_member_outside_the_audience_cannot_start).
NOT_MEMBER_OWNED = {"quizzes:start", "quizzes_api:start"}


def test_every_member_route_with_an_id_is_attacked() -> None:
    attacked = {(attack.route, attack.method) for attack in ATTACKS}
    attacked_names = {route for route, _method in attacked}
    for namespace in ("quizzes", "quizzes_api"):
        for name, pattern in _routes(namespace):
            if "pk" not in pattern.pattern.converters or name in NOT_MEMBER_OWNED:
                continue
            assert name in attacked_names, f"{name} takes an id but is not attacked"
            view_class = getattr(pattern.callback, "cls", None)
            if view_class is None:
                continue
            for method in ("get", "post", "put", "patch", "delete"):
                if hasattr(view_class, method):
                    assert (name, method) in attacked, f"{method.upper()} {name} is not attacked"
