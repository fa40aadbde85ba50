"""Honest members of the integrity simulation: who they are, what they know, how they pace.

Every number a member is drawn from is a constant here; ``distributions()`` words them
for ``docs/benchmarks.md``, so the report says what the code does. A member's own
``random.Random`` is seeded by the simulation's seed and their index, so a member does the
same whatever the worker that simulates them, and two members never share a draw.

- **Knowledge**: ``skill`` ~ Beta(7.5, 3.5) is the chance of knowing the answer to a
  question of average difficulty; a question's ``easiness`` shifts its log-odds
  (difficulty 1 easier, 5 harder, plus the question's own N(0, 0.5)). Who does not know
  guesses: right with the question's guess chance (1/options, ½ for true/false, 5 % for
  multiple choice, never for a blank), else one of the wrong answers people give, in the
  question's shares. So a member's accuracy is their knowledge plus lucky guesses: mean
  about 0.75, 5–95 % of members about 0.55–0.93 (the report gives the realised figures).
  A question whose answer was shown before (a check, a review after submitting) is known
  with the extra chance ``retention`` × e^(−days/20) of not knowing it.
- **Pace**: reading ``speed`` (characters a second, stem and options) is log-normal,
  median 6, 90 % between 3 and 12; each question adds a think time, log-normal around the
  member's own median (itself log-normal, median 4 s); multiple choice thinks 1.5 times as
  long, a blank adds 0.8–1.6 s a character typed; a question seen before is read and
  answered in 0.7 of the time.
- **Habits**: a daily-quiz habit (the share of weekdays with the daily quiz, weekends
  0.6 of it), a keenness for weekly and topic quizzes, a preferred time of day, a quarter
  of members playing challenges on some days, retakes of topic quizzes (more after a low
  score, some at once with the answers just shown), now and then a second quiz opened in
  another tab a few seconds after the first.
"""

from __future__ import annotations

import datetime
import math
import random
from dataclasses import dataclass, field
from typing import Any

from tests.benchmarks.integrity_world import (
    DAYS,
    EASINESS_SIGMA,
    EASINESS_SLOPE,
    SEED,
    TOPICS,
    QuestionModel,
    day_of,
    local,
    logit,
    sigmoid,
)

SKILL = (7.5, 3.5)  # Beta
RETENTION, RETENTION_DAYS = (0.2, 0.6), 20
# Log-normal spreads: 90 % of reading speeds between 3 and 12 characters a second.
SPEED_MEDIAN, SPEED_SIGMA = 6.0, math.log(2) / 1.645
THINK_MEDIAN, THINK_MEMBER_SIGMA, THINK_QUESTION_SIGMA = 4.0, 0.35, 0.5
FAMILIAR = 0.7
MULTIPLE_THINKS = 1.5
TYPING = (0.8, 1.6)
# Time of day: the member's usual slot (hour, spread in hours) and its share of members.
SLOTS = ((7.5, 0.5, 0.25), (12.5, 0.4, 0.30), (20.5, 1.0, 0.45))
DAILY_HABIT = (1.0, 4.0)  # Beta: the share of weekdays with the daily quiz
WEEKEND_HABIT = 0.6
KEENNESS = (0.3, 0.95)
WEEKLY_TURNOUT = 0.7
MEETING_SHARE = 0.5
CHALLENGERS = 0.25
CHALLENGE_HABIT = (0.05, 0.25)
PERSISTENCE = (0.3, 0.7)
MAX_GAMES = 6
RETAKE_BASE, RETAKE_PER_MISS, RETAKE_AT_ONCE = 0.15, 0.5, 0.4
TAB_CHANCE, TAB_GAP = 0.05, (3.0, 40.0)
# Seconds: reading a verdict (right, wrong), before submitting (saved, checked), before
# playing another challenge, reading the review before a retake at once; each
# log-normal with this median and spread.
PAUSES = {
    "verdict_right": (1.5, 0.5),
    "verdict_wrong": (4.0, 0.5),
    "submit_saved": (8.0, 0.6),
    "submit_checked": (2.0, 0.5),
    "challenge_again": (5.0, 0.6),
    "review": (60.0, 0.6),
}


def _beta_text(shape: tuple[float, float]) -> str:
    """Beta(a, b) with its mean and 5–95 % range (from 20,000 seeded draws)."""
    rng = random.Random(f"{SEED}:beta:{shape}")
    draws = sorted(rng.betavariate(*shape) for _ in range(20_000))
    mean = shape[0] / (shape[0] + shape[1])
    low, high = draws[1000], draws[19000]
    return f"Beta({shape[0]:g}, {shape[1]:g}): mean {mean:.2f}, 5–95 % {low:.2f}–{high:.2f}"


def distributions() -> list[tuple[str, str]]:
    """What each draw is, in words, from the constants above."""
    slots = " / ".join(f"{int(h)}:{round(h % 1 * 60):02d}" for h, _s, _w in SLOTS)
    shares = " / ".join(f"{round(100 * w)}" for _h, _s, w in SLOTS)
    pauses = {name: f"{median:g} s" for name, (median, _sigma) in PAUSES.items()}
    topics = ", ".join(f"{plan.key} {round(100 * plan.turnout)} %" for plan in TOPICS)
    return [
        ("skill (chance to know an average question)", _beta_text(SKILL)),
        (
            "question easiness (log-odds)",
            f"−{EASINESS_SLOPE:g} × (difficulty − 2.5) + N(0, {EASINESS_SIGMA:g}),"
            " difficulty 1–5 from the bank",
        ),
        (
            "a guess is right",
            "1/options (single), ½ (true/false), 5 % (multiple), 0 (blank); else a wrong"
            " answer in the question's shares: Dirichlet(1, …, 1) over its distractors"
            " (single), its usual mistakes (multiple: a right option left out, a wrong one"
            " added) or three wrong words (blank)",
        ),
        (
            "retention of an answer shown",
            f"U({RETENTION[0]:g}, {RETENTION[1]:g}) × e^(−days/{RETENTION_DAYS}) of what was"
            " not known",
        ),
        (
            "reading speed",
            f"log-normal, median {SPEED_MEDIAN:g} characters/s, 90 % in"
            f" {SPEED_MEDIAN / 2:g}–{SPEED_MEDIAN * 2:g}",
        ),
        (
            "think time per question",
            f"log-normal (σ {THINK_QUESTION_SIGMA:g}) around the member's median, itself"
            f" log-normal, median {THINK_MEDIAN:g} s (σ {THINK_MEMBER_SIGMA:g});"
            f" ×{MULTIPLE_THINKS:g} for multiple choice; +{TYPING[0]:g}–{TYPING[1]:g} s per"
            " character typed in a blank",
        ),
        ("a question seen before", f"read and answered in {FAMILIAR:g} of the time"),
        (
            "pauses (medians, log-normal)",
            f"a verdict read {pauses['verdict_right']} (right) / {pauses['verdict_wrong']}"
            f" (wrong); before submitting {pauses['submit_saved']} ({pauses['submit_checked']}"
            f" after the last check); before another challenge {pauses['challenge_again']};"
            f" the review before a retake at once {pauses['review']}",
        ),
        (
            "daily quiz",
            f"{_beta_text(DAILY_HABIT)} of weekdays, weekends {WEEKEND_HABIT:g} of it; at the"
            f" member's time of day, {slots} ({shares} % of members)",
        ),
        (
            "weekly and topic quizzes",
            f"keenness U({KEENNESS[0]:g}, {KEENNESS[1]:g}); a weekly quiz taken with"
            f" {WEEKLY_TURNOUT:g} × keenness, a topic quiz with its turnout ({topics}) ×"
            f" keenness / its mean; {round(100 * MEETING_SHARE)} % of a branch's takers of a"
            " fixed topic quiz take it at the branch meeting (14:30, within 15 min)",
        ),
        (
            "retakes (two attempts allowed)",
            f"chance {RETAKE_BASE:g} + {RETAKE_PER_MISS:g} × the share missed;"
            f" {round(100 * RETAKE_AT_ONCE)} % at once, else 1–3 days later",
        ),
        (
            "challenges",
            f"{round(100 * CHALLENGERS)} % of members, on U({CHALLENGE_HABIT[0]:g},"
            f" {CHALLENGE_HABIT[1]:g}) of days; after a lost game another with the member's"
            f" persistence U({PERSISTENCE[0]:g}, {PERSISTENCE[1]:g}), at most {MAX_GAMES} games",
        ),
        (
            "another tab",
            f"{round(100 * TAB_CHANCE)} % of sittings with two quizzes open the second"
            f" {TAB_GAP[0]:g}–{TAB_GAP[1]:g} s after the first",
        ),
    ]


def member_rng(index: int, purpose: str) -> random.Random:
    # Seeded on purpose: a benchmark must measure the same members on every run.
    return random.Random(f"{SEED}:member:{index}:{purpose}")


def lognormal(rng: random.Random, median: float, sigma: float) -> float:
    return rng.lognormvariate(math.log(median), sigma)


@dataclass(frozen=True)
class Traits:
    skill: float
    retention: float
    speed: float
    think: float
    slot: tuple[float, float]
    daily_habit: float
    keenness: float
    challenge_habit: float
    persistence: float


def traits_draw(rng: random.Random) -> Traits:
    slot = rng.choices([(hour, spread) for hour, spread, _ in SLOTS], [s[2] for s in SLOTS])[0]
    challenger = rng.random() < CHALLENGERS
    return Traits(
        skill=rng.betavariate(*SKILL),
        retention=rng.uniform(*RETENTION),
        speed=lognormal(rng, SPEED_MEDIAN, SPEED_SIGMA),
        think=lognormal(rng, THINK_MEDIAN, THINK_MEMBER_SIGMA),
        slot=(slot[0] + rng.gauss(0, 0.3), slot[1]),
        daily_habit=rng.betavariate(*DAILY_HABIT),
        keenness=rng.uniform(*KEENNESS),
        challenge_habit=rng.uniform(*CHALLENGE_HABIT) if challenger else 0.0,
        persistence=rng.uniform(*PERSISTENCE),
    )


@dataclass
class Mind:
    """What one member knows and has been shown, and how long they take."""

    traits: Traits
    rng: random.Random
    shown: dict[int, datetime.datetime] = field(default_factory=dict)
    seen: set[int] = field(default_factory=set)
    # First sight of each question: (answered, right), for the realised accuracy.
    first_sight: list[bool] = field(default_factory=list)

    def seconds(self, question: QuestionModel) -> float:
        """Reading and answering ``question``: its characters at the member's speed, and
        a think time (and typing)."""
        reading = question.characters / self.traits.speed
        think = lognormal(self.rng, self.traits.think, THINK_QUESTION_SIGMA)
        if question.type == "multiple":
            think *= MULTIPLE_THINKS
        think += question.typed * self.rng.uniform(*TYPING)
        if question.pk in self.seen:
            return FAMILIAR * (reading + think)
        return reading + think

    def respond(
        self, question: QuestionModel, now: datetime.datetime, *, knows: bool | None = None
    ) -> tuple[dict[str, Any], bool]:
        """The member's answer and whether it is right (``knows`` forces the outcome)."""
        known = sigmoid(logit(self.traits.skill) + question.easiness)
        shown = self.shown.get(question.pk)
        if shown is not None:
            days = max(0.0, (now - shown).total_seconds() / 86400)
            known += (1 - known) * self.traits.retention * math.exp(-days / RETENTION_DAYS)
        if knows is None:
            knows = self.rng.random() < known or self.rng.random() < question.guess
        if question.pk not in self.seen:
            self.first_sight.append(knows)
        self.seen.add(question.pk)
        if knows:
            return question.right, True
        responses, shares = zip(*question.wrong, strict=True)
        return self.rng.choices(responses, shares)[0], False

    def show(self, question_ids: list[int], now: datetime.datetime) -> None:
        """The right answers of these questions were shown to the member (check, review)."""
        for pk in question_ids:
            self.shown[pk] = now

    def pause(self, name: str) -> float:
        return lognormal(self.rng, *PAUSES[name])


@dataclass(frozen=True)
class Activity:
    """One thing done in a sitting: ``kind`` daily/weekly/topic/challenge and its ``key``
    (day, week, topic key); ``tab_gap``: opened this many seconds after the previous one."""

    kind: str
    key: Any
    tab_gap: float | None = None


@dataclass
class Sitting:
    start: datetime.datetime
    activities: list[Activity]


def _hour(rng: random.Random, slot: tuple[float, float]) -> float:
    return min(23.3, max(6.5, rng.gauss(*slot)))


def _other_slot(rng: random.Random) -> tuple[float, float]:
    hour, spread, _share = rng.choice(SLOTS)
    return hour, spread


def plan_member(
    traits: Traits,
    rng: random.Random,
    branch: str,
    meetings: dict[tuple[str, str], datetime.datetime],
) -> list[Sitting]:
    """The member's sittings over the simulated days, in time order."""
    days: dict[int, list[Sitting]] = {}

    def add(day: int, activity: Activity, *, join: float = 0.5) -> None:
        sittings = days.setdefault(day, [])
        if sittings and rng.random() < join:
            rng.choice(sittings).activities.append(activity)
            return
        slot = traits.slot if not sittings else _other_slot(rng)
        sittings.append(Sitting(local(day_of(day), _hour(rng, slot)), [activity]))

    for day in range(DAYS):
        weekend = day_of(day).weekday() >= 5
        habit = traits.daily_habit * (WEEKEND_HABIT if weekend else 1.0)
        if rng.random() < habit:
            add(day, Activity("daily", day), join=0.0)
        if rng.random() < traits.challenge_habit:
            add(day, Activity("challenge", day), join=0.6)
    for week in range((DAYS + 6) // 7):
        if rng.random() < traits.keenness * WEEKLY_TURNOUT:
            add(rng.randrange(7 * week, min(DAYS, 7 * week + 7)), Activity("weekly", week))
    for plan in TOPICS:
        if rng.random() >= traits.keenness * plan.turnout / (sum(KEENNESS) / 2):
            continue
        meeting = meetings.get((plan.key, branch))
        if meeting is not None and rng.random() < MEETING_SHARE:
            start = meeting + datetime.timedelta(minutes=rng.uniform(0, 15))
            day = (start.date() - day_of(0)).days
            days.setdefault(day, []).append(Sitting(start, [Activity("topic", plan.key)]))
            continue
        add(rng.randrange(plan.opens, min(plan.closes, DAYS)), Activity("topic", plan.key))
    sittings = []
    for day in sorted(days):
        sittings.extend(_merged(sorted(days[day], key=lambda sitting: sitting.start)))
    for sitting in sittings:
        quizzes = [index for index, a in enumerate(sitting.activities) if a.kind != "challenge"]
        if len(quizzes) >= 2 and rng.random() < TAB_CHANCE:
            second = quizzes[1]
            activity = sitting.activities[second]
            sitting.activities[second] = Activity(
                activity.kind, activity.key, tab_gap=rng.uniform(*TAB_GAP)
            )
            # The tab is opened right after the first quiz's start: it comes next.
            sitting.activities.insert(quizzes[0] + 1, sitting.activities.pop(second))
    return sittings


def _merged(sittings: list[Sitting]) -> list[Sitting]:
    """Sittings of one day less than 45 minutes apart become one (done one after another)."""
    merged: list[Sitting] = []
    for sitting in sittings:
        if merged and sitting.start - merged[-1].start < datetime.timedelta(minutes=45):
            merged[-1].activities.extend(sitting.activities)
        else:
            merged.append(sitting)
    return merged


def retake_plan(mind: Mind, missed_share: float) -> str | None:
    """After a first attempt at a topic quiz with a second allowed: ``now``, ``later`` or None."""
    if mind.rng.random() >= RETAKE_BASE + RETAKE_PER_MISS * missed_share:
        return None
    return "now" if mind.rng.random() < RETAKE_AT_ONCE else "later"
