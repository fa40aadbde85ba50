"""The control of the integrity simulation: scripted members each signal is meant to catch.

A branch of its own (``BOT``): 15 honest colleagues, who take the two fixed-order topic
quizzes at their branch meeting (the answers a copier copies), and 20 bots, 5 of each kind:

- ``fast``: the script that beat the old flat check: each answer 3.5 s after the last
  (2 s a question plus 1.5 s), all right, on the daily quiz of the first ten weekdays,
  two weekly quizzes and a topic quiz. The too-fast signal is for it.
- ``copy``: takes the two fixed-order topic quizzes an hour after the branch meeting,
  copying the answers of a colleague who got at least two wrong (the same-answers signal
  needs two shared wrong answers: right answers alike prove nothing), in the colleague's
  order, at 8 s a question.
- ``parallel``: a script that opens the daily quiz, the weekly quiz and a topic quiz
  within a second, twice, then answers them at a person's pace and accuracy.
- ``proxy``: a weak member (skill 0.15) who takes the daily quiz honestly on the weekdays
  of the first three weeks; then someone else takes their weekly quiz and the history
  topic quiz, every answer right at a person's pace. The accuracy signal is for them.

Each bot is driven through the same services as honest members, on the same clock.
"""

from __future__ import annotations

import dataclasses
import datetime
from typing import Any

from quizzes.models import Attempt, AttemptQuestion
from tests.benchmarks.integrity_engine import Engine, Person, Steps, quiz_of, sitting_run, take
from tests.benchmarks.integrity_people import Activity, Sitting, Traits
from tests.benchmarks.integrity_world import World, day_of, local

BOT_BRANCH = "BOT"
COLLEAGUES = 15
BOTS_PER_KIND = 5
KINDS = ("fast", "copy", "parallel", "proxy")
FAST_SECONDS = 3.5
COPY_SECONDS = 8.0
PROXY_SKILL = 0.15
# An ordinary member's pace and accuracy, for the bots that must look like one.
ORDINARY = Traits(
    skill=0.75,
    retention=0.4,
    speed=6.0,
    think=4.0,
    slot=(20.5, 0.5),
    daily_habit=0.0,
    keenness=0.0,
    challenge_habit=0.0,
    persistence=0.0,
)


def weak(traits: Traits) -> Traits:
    """The proxy bots' own member: little knowledge, an ordinary pace."""
    return dataclasses.replace(traits, skill=PROXY_SKILL)


def weekdays(first: int, last: int) -> list[int]:
    return [day for day in range(first, last) if day_of(day).weekday() < 5]


def colleague_sittings(world: World, number: int) -> list[Sitting]:
    """The ``number``th colleague takes both fixed topic quizzes at the branch meeting."""
    late = datetime.timedelta(minutes=number % COLLEAGUES)
    return [
        Sitting(start + late, [Activity("topic", topic)])
        for (topic, branch), start in sorted(world.meetings.items())
        if branch == BOT_BRANCH
    ]


def schedule_bots(engine: Engine, bots: list[Person]) -> None:
    for bot in bots:
        engine.add(bot)
        for when, steps in _scripts(engine, bot):
            engine.at(when, steps)


def _scripts(engine: Engine, bot: Person) -> list[tuple[datetime.datetime, Steps]]:
    world = engine.world
    offset = datetime.timedelta(minutes=7 * (bot.index % BOTS_PER_KIND))
    hour = datetime.timedelta(hours=1)
    if bot.kind == "fast":
        plans: list[tuple[datetime.datetime, Activity]] = [
            (local(day_of(day), 9) + offset, Activity("daily", day)) for day in weekdays(0, 14)
        ]
        plans += [
            (local(day_of(7 * week + 2), 21) + offset, Activity("weekly", week)) for week in (0, 1)
        ]
        plans.append((local(day_of(4), 22) + offset, Activity("topic", "discipline")))
        return [(when, _fast(engine, bot, activity)) for when, activity in plans]
    if bot.kind == "copy":
        return [
            (world.meetings[(topic, BOT_BRANCH)] + hour + offset, _copy(engine, bot, topic))
            for topic in ("discipline", "history")
        ]
    if bot.kind == "parallel":
        sets = ((10, ("daily", 10), ("weekly", 1), ("topic", "discipline")),)
        sets += ((24, ("daily", 24), ("weekly", 3), ("topic", "history")),)
        return [
            (local(day_of(day), 19) + offset, _parallel(engine, bot, [Activity(*a) for a in acts]))
            for day, *acts in sets
        ]
    plans = [(local(day_of(day), 12) + offset, Activity("daily", day)) for day in weekdays(0, 21)]
    scripts = [
        (when, sitting_run(engine, bot, Sitting(when, [activity]))) for when, activity in plans
    ]
    scripts.append((local(day_of(22), 20) + offset, _proxy(engine, bot, Activity("weekly", 3))))
    scripts.append(
        (local(day_of(23), 20) + offset, _proxy(engine, bot, Activity("topic", "history")))
    )
    return scripts


def _fast(engine: Engine, bot: Person, activity: Activity) -> Steps:
    """Every answer right, each 3.5 s after the previous one; submit at once."""
    attempt = engine.start(bot, quiz_of(engine.world, activity))
    if attempt is None:
        return
    models = engine.world.questions
    for item in attempt.questions.order_by("position"):
        yield engine.later(FAST_SECONDS)
        response = models[item.question_id].right
        if activity.kind == "daily":
            yield from engine.check(bot, attempt, item.position, response)
        else:
            engine.save(bot, attempt, item.position, response)
    yield engine.later(0.5)
    engine.submit(bot, attempt)


def _copy(engine: Engine, bot: Person, topic: str) -> Steps:
    """Copy a colleague's answers with two or more wrong, in the colleague's order."""
    quiz = engine.world.topics[topic]
    source = None
    for _hour in range(24):
        source = _copy_source(engine, bot, quiz)
        if source is not None:
            break
        yield engine.later(3600)
    assert source is not None, "no colleague answered two questions wrong to copy"
    attempt = engine.start(bot, quiz)
    assert attempt is not None
    positions = {item.question_id: item.position for item in attempt.questions.all()}
    for item in source:
        yield engine.later(COPY_SECONDS)
        engine.save(bot, attempt, positions[item.question_id], item.response)
    yield engine.later(5)
    engine.submit(bot, attempt)


def _copy_source(engine: Engine, bot: Person, quiz: Any) -> list[AttemptQuestion] | None:
    """The answers of a colleague with two or more wrong (each copier its own colleague)."""
    colleagues = [
        person.member.pk for person in engine.people.values() if person.kind == "colleague"
    ]
    sources = []
    attempts = Attempt.objects.filter(
        quiz=quiz, member_id__in=colleagues, state=Attempt.State.SUBMITTED
    )
    for attempt in attempts.order_by("pk"):
        items = [item for item in attempt.questions.all() if item.response]
        wrong = sum(1 for item in items if item.state != AttemptQuestion.State.CORRECT)
        if wrong >= 2:
            sources.append(sorted(items, key=lambda item: (item.saved_at, item.position)))
    if not sources:
        return None
    return sources[bot.index % len(sources)]


def _parallel(engine: Engine, bot: Person, activities: list[Activity]) -> Steps:
    """Open three quizzes within a second, then answer each like a person."""
    attempts = []
    for activity in activities:
        attempts.append(engine.start(bot, quiz_of(engine.world, activity)))
        yield engine.later(0.4)
    for attempt in attempts:
        if attempt is not None:
            yield from take(engine, bot, attempt)


def _proxy(engine: Engine, bot: Person, activity: Activity) -> Steps:
    """Someone who knows every answer takes the weak member's quiz, at a person's pace."""
    attempt = engine.start(bot, quiz_of(engine.world, activity))
    if attempt is None:
        return
    models = engine.world.questions
    for item in attempt.questions.order_by("position"):
        question = models[item.question_id]
        yield engine.later(bot.mind.seconds(question))
        response, _right = bot.mind.respond(question, engine.now, knows=True)
        engine.save(bot, attempt, item.position, response)
    yield engine.later(bot.mind.pause("submit_saved"))
    engine.submit(bot, attempt)
