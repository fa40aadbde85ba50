"""The integrity simulation's clock and the honest members' sittings, through the services.

Every member's sitting is a generator: it calls a service (``attempt_start``,
``attempt_answer_save``, ``attempt_answer_check``, ``attempt_submit``) at the engine's
``now`` and yields the moment it wants to act next. The engine runs the sittings of all
members in time order, moving a ``time_machine`` clock to each moment (no real waiting;
the verdict throttle and the cache read that clock too) and passing the same moment as
``at=``. So the signals see what they would see in production: the member's earlier
attempts, colleagues' attempts submitted so far, and nothing from the future.

A check refused as ``too_soon`` or ``throttled`` is sent again after its ``retry_after``,
as the pages do. After each submit the signals are also computed with each *shadow*
threshold set (``attempt_signals`` under ``override_settings``, at the same moment on the
same data): flags change nothing that later signals read, so this is what a run with
those thresholds would have raised (the bot runs check that it is).
"""

from __future__ import annotations

import datetime
import heapq
import itertools
from collections import Counter
from collections.abc import Generator, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.test.utils import override_settings

from learning.models import IntegrityFlag, Member
from quizzes.models import Attempt, AttemptQuestion, Quiz
from quizzes.taking.attempts import attempt_answer_check, attempt_answer_save, attempt_start
from quizzes.taking.errors import AttemptError
from quizzes.taking.integrity import attempt_signals, attempt_subject_key
from quizzes.taking.submitting import attempt_submit
from tests.benchmarks.integrity_people import (
    MAX_GAMES,
    Activity,
    Mind,
    Sitting,
    member_rng,
    retake_plan,
)
from tests.benchmarks.integrity_world import CHALLENGE_LENGTH, START_DAY, TOPICS, World, local

# A sitting generator yields the next moment it wants to act.
Steps = Generator[datetime.datetime, None, Any]
TOPIC_PLANS = {plan.key: plan for plan in TOPICS}


@dataclass
class Person:
    """A simulated member: honest, or a bot of ``kind``."""

    index: int
    member: Member
    branch: str
    mind: Mind
    kind: str = "honest"
    sittings: list[Sitting] = field(default_factory=list)
    busy: bool = False
    started: int = 0


@dataclass
class AttemptRecord:
    person: int
    quiz: str
    number: int
    answered: int
    right: int
    seconds: float


class Engine:
    """Runs sittings in time order on a ``time_machine`` clock; keeps what happened."""

    def __init__(self, clock: Any, world: World, shadows: dict[str, dict[str, Any]]) -> None:
        self.clock = clock
        self.world = world
        self.shadows = shadows
        self.now = local(START_DAY, 0) - datetime.timedelta(days=1)
        self._queue: list[tuple[datetime.datetime, int, Steps]] = []
        self._order = itertools.count()
        self.records: dict[int, AttemptRecord] = {}
        self.people: dict[int, Person] = {}
        self.by_member: dict[int, Person] = {}
        # Per shadow set: the evidence of each signal it would raise, by (person index,
        # kind, attempt pk).
        self.shadow_flags: dict[str, dict[tuple[int, str, int], dict[str, Any]]] = {
            name: {} for name in shadows
        }
        self.refused: Counter[str] = Counter()
        self.calls: Counter[str] = Counter()

    def add(self, person: Person) -> None:
        self.people[person.index] = person
        self.by_member[person.member.pk] = person

    def at(self, when: datetime.datetime, steps: Steps) -> None:
        heapq.heappush(self._queue, (when, next(self._order), steps))

    def run(self) -> None:
        while self._queue:
            when, _order, steps = heapq.heappop(self._queue)
            assert when >= self.now, "the clock never goes back"
            self.now = when
            self.clock.move_to(when)
            try:
                following = next(steps)
            except StopIteration:
                continue
            self.at(following, steps)

    def later(self, seconds: float) -> datetime.datetime:
        return self.now + datetime.timedelta(seconds=seconds)

    # --- The services, at the engine's moment -----------------------------------------

    def start(self, person: Person, quiz: Quiz) -> Attempt | None:
        """The member's attempt at ``quiz`` (None when it is closed or none is left)."""
        self.calls["start"] += 1
        try:
            attempt = attempt_start(
                quiz=quiz,
                member=person.member,
                at=self.now,
                rng=member_rng(person.index, f"draw:{person.started}"),
            )
        except AttemptError as error:
            if error.code in ("closed", "no_attempts_left"):
                self.refused[f"start {error.code}"] += 1
                return None
            raise
        person.started += 1
        return attempt

    def save(self, person: Person, attempt: Attempt, position: int, response: Any) -> None:
        self.calls["save"] += 1
        attempt_answer_save(
            attempt=attempt,
            member=person.member,
            position=position,
            response=response,
            seq=1,
            at=self.now,
        )

    def check(
        self, person: Person, attempt: Attempt, position: int, response: Any
    ) -> Generator[datetime.datetime, None, Any]:
        """Check an answer; refused as too soon or throttled, wait and send it again."""
        while True:
            self.calls["check"] += 1
            try:
                return attempt_answer_check(
                    attempt=attempt,
                    member=person.member,
                    position=position,
                    response=response,
                    at=self.now,
                )
            except AttemptError as error:
                if error.code not in ("too_soon", "throttled"):
                    raise
                self.refused[error.code] += 1
                # The page waits retry_after, then sends again (a little later).
                yield self.later((error.retry_after or 1.0) + 0.2)

    def submit(self, person: Person, attempt: Attempt) -> Attempt:
        self.calls["submit"] += 1
        submitted = attempt_submit(attempt=attempt, member=person.member, at=self.now)
        self.submitted(person, submitted)
        return submitted

    def submitted(self, person: Person, attempt: Attempt) -> None:
        """Record a submitted attempt; compute each shadow set's signals on it."""
        items = list(AttemptQuestion.objects.filter(attempt=attempt).order_by("position"))
        answered = [item for item in items if item.response]
        self.records[attempt.pk] = AttemptRecord(
            person=person.index,
            quiz=attempt.quiz.kind,
            number=attempt.number,
            answered=len(answered),
            right=sum(1 for item in items if item.state == AttemptQuestion.State.CORRECT),
            seconds=(attempt.submitted_at - attempt.started_at).total_seconds(),
        )
        for name, overrides in self.shadows.items():
            with override_settings(**overrides):
                signals = attempt_signals(attempt, items)
            for signal in signals:
                raised = self.shadow_flags[name]
                raised[(person.index, signal.kind, attempt.pk)] = signal.evidence
                if signal.also is not None:
                    other = self.by_member[signal.also.member_id]
                    raised.setdefault((other.index, signal.kind, signal.also.pk), signal.evidence)

    def live_flags(self) -> set[tuple[int, str, int]]:
        """The flags the run raised: (person index, kind, attempt pk)."""
        prefix = attempt_subject_key(0).removesuffix("0")
        flags = IntegrityFlag.objects.filter(
            member_id__in=list(self.by_member), subject_key__startswith=prefix
        ).values_list("member_id", "kind", "subject_key")
        return {
            (self.by_member[member].index, kind, int(key.removeprefix(prefix)))
            for member, kind, key in flags
        }


# --- Honest sittings ------------------------------------------------------------------


def quiz_of(world: World, activity: Activity) -> Quiz:
    if activity.kind == "daily":
        return world.daily[activity.key]
    if activity.kind == "weekly":
        return world.weekly[activity.key]
    if activity.kind == "topic":
        return world.topics[activity.key]
    return world.challenge


def sitting_run(engine: Engine, person: Person, sitting: Sitting) -> Steps:
    """A member's sitting: its activities one after another (a tab opened early)."""
    while person.busy:  # another sitting of theirs runs long: start when it is over
        yield engine.later(600)
    person.busy = True
    try:
        opened: dict[int, Attempt | None] = {}
        activities = sitting.activities
        for position, activity in enumerate(activities):
            if activity.kind == "challenge":
                yield from challenge_games(engine, person)
                continue
            quiz = quiz_of(engine.world, activity)
            attempt = opened.pop(position) if position in opened else engine.start(person, quiz)
            following = activities[position + 1] if position + 1 < len(activities) else None
            if following is not None and following.tab_gap is not None:
                yield engine.later(following.tab_gap)
                opened[position + 1] = engine.start(person, quiz_of(engine.world, following))
            if attempt is None:
                continue
            yield from take(engine, person, attempt)
    finally:
        person.busy = False


def take(engine: Engine, person: Person, attempt: Attempt) -> Steps:
    """Answer an attempt as its quiz asks (checked one by one or saved), and submit."""
    if attempt.review == Quiz.Review.AFTER_EACH:
        submitted = yield from take_checked(engine, person, attempt)
    else:
        submitted = yield from take_saved(engine, person, attempt)
    if (
        submitted.quiz.kind == Quiz.Kind.TOPIC
        and submitted.number < submitted.quiz.attempts_allowed
    ):
        yield from _retake(engine, person, submitted)
    return submitted


def take_saved(engine: Engine, person: Person, attempt: Attempt) -> Steps:
    items = list(attempt.questions.order_by("position"))
    models = engine.world.questions
    for item in items:
        question = models[item.question_id]
        yield engine.later(person.mind.seconds(question))
        response, _right = person.mind.respond(question, engine.now)
        engine.save(person, attempt, item.position, response)
    yield engine.later(person.mind.pause("submit_saved"))
    submitted = engine.submit(person, attempt)
    # The answers and explanations are shown after submitting.
    person.mind.show([item.question_id for item in items], engine.now)
    return submitted


def take_checked(engine: Engine, person: Person, attempt: Attempt) -> Steps:
    items = list(attempt.questions.order_by("position"))
    models = engine.world.questions
    for item in items:
        question = models[item.question_id]
        yield engine.later(person.mind.seconds(question))
        response, right = person.mind.respond(question, engine.now)
        yield from engine.check(person, attempt, item.position, response)
        person.mind.show([item.question_id], engine.now)
        yield engine.later(person.mind.pause("verdict_right" if right else "verdict_wrong"))
    yield engine.later(person.mind.pause("submit_checked"))
    return engine.submit(person, attempt)


def challenge_games(engine: Engine, person: Person) -> Steps:
    """Games of the challenge: each ends at the first wrong answer; another, perhaps."""
    models = engine.world.questions
    for game in range(MAX_GAMES):
        if game:
            if person.mind.rng.random() >= person.mind.traits.persistence:
                return
            yield engine.later(person.mind.pause("challenge_again"))
        attempt = engine.start(person, engine.world.challenge)
        if attempt is None:
            return
        finished = None
        for item in attempt.questions.order_by("position"):
            question = models[item.question_id]
            yield engine.later(person.mind.seconds(question))
            response, _right = person.mind.respond(question, engine.now)
            feedback = yield from engine.check(person, attempt, item.position, response)
            person.mind.show([item.question_id], engine.now)
            if feedback.attempt.state == Attempt.State.SUBMITTED:
                finished = feedback.attempt
                break
            yield engine.later(person.mind.pause("verdict_right"))
        assert finished is not None, "a challenge ends at its first wrong answer or its last"
        engine.submitted(person, finished)
        if finished.correct_count == CHALLENGE_LENGTH:
            return  # all thirty right: enough for the day


def _retake(engine: Engine, person: Person, submitted: Attempt) -> Steps:
    missed = 1 - submitted.correct_count / max(1, submitted.questions.count())
    when = retake_plan(person.mind, missed)
    if when == "now":
        yield engine.later(person.mind.pause("review"))
        attempt = engine.start(person, submitted.quiz)
        if attempt is not None:
            yield from take(engine, person, attempt)
    elif when == "later":
        plan = TOPIC_PLANS[_topic_key(engine.world, submitted.quiz)]
        days = person.mind.rng.randint(1, 3)
        day = (engine.now.date() - START_DAY).days + days
        if day < plan.closes:
            hour = min(23.0, max(6.5, person.mind.rng.gauss(*person.mind.traits.slot)))
            start = local(START_DAY + datetime.timedelta(days=day), hour)
            activity = Activity("topic", plan.key)
            engine.at(start, sitting_run(engine, person, Sitting(start, [activity])))


def _topic_key(world: World, quiz: Quiz) -> str:
    return next(key for key, topic in world.topics.items() if topic.pk == quiz.pk)


def schedule_honest(engine: Engine, people: Iterator[Person]) -> None:
    for person in people:
        engine.add(person)
        for sitting in person.sittings:
            engine.at(sitting.start, sitting_run(engine, person, sitting))
