"""The world of the integrity simulation: the bank, the branches, the quizzes, the questions.

Everything here is made through the product's own services, as an organisation makes it:

- **The bank** is the demo's (``demo/data/bank``: 300 questions written for the demo in 8
  categories, 276 scored by the quiz itself), imported with ``questions_import`` under a
  root category of its own. Its stems and options are 10–105 characters read (stem and
  options, median 36), difficulty 1–5 as the files say.
- **The organisation**: a committee with general branches and branches of 20–50 members
  (``organization_create``, ``members_bulk_create``).
- **The quizzes** of ``DAYS`` days from ``START_DAY`` (a Monday): a daily quiz each day
  (``daily_quiz_make``: 5 questions from the whole bank, none asked again within 7 days,
  the answer shown after each question), a weekly quiz each week (8 drawn and shuffled
  questions of the four scored types, one attempt, answers after submitting), three topic quizzes
  (two with fixed questions in a fixed order, every member sees the same sequence: the
  hardest case for the same-answers signal) and a challenge over the bank (one question at
  a time, ended by the first wrong answer, unlimited attempts).

``QuestionModel`` is what members know about a question as people do: how easy it is, how
well a guess does, and which wrong answers people give, in which shares (``wrong``). The
shares are the question's, not the member's, so honest members who miss a question often
miss it the same way, as in real tests (one attractive distractor).
"""

from __future__ import annotations

import datetime
import math
import random
import zoneinfo
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from demo.quizzes import demo_bank_parsed
from learning.models import Member, Organization
from learning.people import services
from quizzes.bank.selectors import question_snapshot
from quizzes.bank.services import questions_import
from quizzes.models import (
    DailyQuizSettings,
    Question,
    QuestionCategory,
    Quiz,
    QuizDrawRule,
    QuizQuestion,
)
from quizzes.taking.daily import daily_quiz_make
from quizzes.taking.pacing import question_characters

SEED = 20261207
# A question's easiness (log-odds): this much per step of difficulty, and its own spread.
EASINESS_SLOPE, EASINESS_SIGMA = 0.6, 0.5
ZONE = zoneinfo.ZoneInfo("Asia/Shanghai")
START_DAY = datetime.date(2026, 3, 2)  # a Monday
DAYS = 30
BANK_ROOT = "诚信模拟题库"
PASSWORD = "Moni-2026-honest"
BRANCH_SIZES = (20, 50)
GENERAL_BRANCHES = 4
DAILY_QUESTIONS = 5
# The weekly quiz's 8 questions by type: scored by the quiz itself (a short answer waits
# for a person's mark and takes minutes to write: it could only make an attempt slower).
WEEKLY_MIX = (
    (Question.Type.SINGLE, 3),
    (Question.Type.MULTIPLE, 2),
    (Question.Type.TRUE_FALSE, 2),
    (Question.Type.FILL_BLANK, 1),
)
CHALLENGE_LENGTH = 30
# What people write into a blank they do not know (as demo.quizzes does), besides the
# answers of the category's other blanks.
BLANK_GUESSES = ("不清楚", "记不清了", "人民", "五", "三", "纪律", "改革", "发展")
# A drawn topic quiz asks a category's questions of the scored types in this order.
TYPE_CYCLE = (
    Question.Type.SINGLE,
    Question.Type.TRUE_FALSE,
    Question.Type.MULTIPLE,
    Question.Type.SINGLE,
    Question.Type.FILL_BLANK,
)
AUTO_SCORED = (
    Question.Type.SINGLE,
    Question.Type.MULTIPLE,
    Question.Type.TRUE_FALSE,
    Question.Type.FILL_BLANK,
)


def local(day: datetime.date, hours: float) -> datetime.datetime:
    """``hours`` (fractional) after local midnight of ``day``."""
    midnight = datetime.datetime.combine(day, datetime.time.min, tzinfo=ZONE)
    return midnight + datetime.timedelta(hours=hours)


def day_of(index: int) -> datetime.date:
    return START_DAY + datetime.timedelta(days=index)


@dataclass(frozen=True)
class TopicPlan:
    """A topic quiz: its categories, open days, attempts, and whether its order is fixed."""

    key: str
    title: str
    categories: tuple[tuple[str, int], ...]
    opens: int
    closes: int
    attempts: int
    fixed: bool
    # Branches hold a meeting (主题党日) where members take it together.
    meeting: bool
    turnout: float


TOPICS = (
    TopicPlan(
        "discipline",
        "专项答题：纪律建设与廉洁文化",
        (("纪律建设", 5), ("廉洁文化", 5)),
        opens=2,
        closes=16,
        attempts=2,
        fixed=True,
        meeting=True,
        turnout=0.85,
    ),
    TopicPlan(
        "law",
        "专项答题：纪律与法规（随机抽题）",
        (("纪律建设", 5), ("廉洁文化", 3), ("法律法规", 2)),
        opens=9,
        closes=30,
        attempts=2,
        fixed=False,
        meeting=False,
        turnout=0.6,
    ),
    TopicPlan(
        "history",
        "党史党章知识测验",
        (("党史", 5), ("党章党规", 5)),
        opens=16,
        closes=DAYS,
        attempts=1,
        fixed=True,
        meeting=True,
        turnout=0.85,
    ),
)


@dataclass(frozen=True)
class QuestionModel:
    """A bank question as members meet it (``pk`` and choice ids are the bank's)."""

    pk: int
    type: str
    category: str
    characters: int
    # Added to a member's log-odds of knowing the answer: easy questions above 0.
    easiness: float
    # The chance that a guess by a member who does not know is right.
    guess: float
    right: dict[str, Any]
    # The wrong answers people give and their shares (summing to 1).
    wrong: tuple[tuple[dict[str, Any], float], ...]
    # Characters typed for a blank answer (0 for the other types).
    typed: int = 0


@dataclass
class World:
    """What one worker process made: its branches, members and the shared quizzes."""

    root: QuestionCategory
    committee: Organization
    branches: dict[str, Organization]
    members: dict[int, Member]
    questions: dict[int, QuestionModel]
    daily: dict[int, Quiz]
    weekly: dict[int, Quiz]
    topics: dict[str, Quiz]
    challenge: Quiz
    meetings: dict[tuple[str, str], datetime.datetime] = field(default_factory=dict)


def branch_sizes(total: int, rng: random.Random) -> list[int]:
    """Branch sizes between ``BRANCH_SIZES`` adding up to ``total`` members."""
    low, high = BRANCH_SIZES
    count = max(1, round(total / ((low + high) / 2)))
    sizes = [rng.randint(low, high) for _ in range(count)]
    while sum(sizes) != total:
        index = rng.randrange(count)
        if sum(sizes) < total and sizes[index] < high:
            sizes[index] += 1
        elif sum(sizes) > total and sizes[index] > low:
            sizes[index] -= 1
    return sizes


def bank_import() -> QuestionCategory:
    """The demo bank under ``BANK_ROOT``, through the import service; the daily pool."""
    imported = questions_import(demo_bank_parsed(), category=BANK_ROOT)
    assert imported.ok, [str(problem) for problem in imported.problems]
    root = QuestionCategory.get_root_nodes().get(name=BANK_ROOT)
    config = DailyQuizSettings.current()
    config.question_count = DAILY_QUESTIONS
    config.category = root
    config.avoid_days = 7
    config.time_limit_minutes = None
    config.save()
    return root


def question_models(root: QuestionCategory) -> dict[int, QuestionModel]:
    """Each scored question of the bank as members meet it, from its own seeded draw."""
    questions = (
        Question.objects.filter(category__path__startswith=root.path, type__in=AUTO_SCORED)
        .select_related("category")
        .prefetch_related("choices", "blanks")
        .order_by("pk")
    )
    snapshots = [(question, question_snapshot(question)) for question in questions]
    blank_answers: dict[str, list[str]] = {}
    for question, snapshot in snapshots:
        for accepted in snapshot["blanks"]:
            blank_answers.setdefault(question.category.name, []).append(accepted[0])
    models = {}
    for question, snapshot in snapshots:
        # Seeded by the stem, so a question behaves the same whatever its id.
        rng = random.Random(f"{SEED}:question:{question.stem}")
        right, wrong, guess, typed = _answers(snapshot, blank_answers[question.category.name], rng)
        models[question.pk] = QuestionModel(
            pk=question.pk,
            type=question.type,
            category=question.category.name,
            characters=question_characters(snapshot),
            easiness=-EASINESS_SLOPE * (question.difficulty - 2.5) + rng.gauss(0, EASINESS_SIGMA),
            guess=guess,
            right=right,
            wrong=wrong,
            typed=typed,
        )
    return models


def _shares(count: int, rng: random.Random) -> list[float]:
    """A Dirichlet(1, …, 1) draw: how a question's wrong answers split between ``count``."""
    weights = [rng.expovariate(1.0) for _ in range(count)]
    total = sum(weights)
    return [weight / total for weight in weights]


def _answers(
    snapshot: dict[str, Any], blanks_of_category: list[str], rng: random.Random
) -> tuple[dict[str, Any], tuple[tuple[dict[str, Any], float], ...], float, int]:
    """The right response, the wrong ones with their shares, a guess's chance, typing."""
    kind = snapshot["type"]
    choices = snapshot["choices"]
    if kind == Question.Type.TRUE_FALSE:
        answer = snapshot["true_false_answer"]
        return {"value": answer}, (({"value": not answer}, 1.0),), 0.5, 0
    if kind == Question.Type.SINGLE:
        right_id = next(choice["id"] for choice in choices if choice["is_correct"])
        others = [choice["id"] for choice in choices if not choice["is_correct"]]
        wrong = tuple(
            ({"choices": [pk]}, share)
            for pk, share in zip(others, _shares(len(others), rng), strict=True)
        )
        return {"choices": [right_id]}, wrong, 1 / len(choices), 0
    if kind == Question.Type.MULTIPLE:
        right_ids = sorted(choice["id"] for choice in choices if choice["is_correct"])
        others = [choice["id"] for choice in choices if not choice["is_correct"]]
        # The usual mistakes: one right option missed, or one wrong option added.
        mistakes = [sorted(set(right_ids) - {pk}) for pk in right_ids if len(right_ids) > 1]
        mistakes += [sorted([*right_ids, pk]) for pk in others]
        wrong = tuple(
            ({"choices": ids}, share)
            for ids, share in zip(mistakes, _shares(len(mistakes), rng), strict=True)
        )
        return {"choices": right_ids}, wrong, 0.05, 0
    accepted = [answers[0] for answers in snapshot["blanks"]]
    pool = sorted(set(BLANK_GUESSES) | set(blanks_of_category))
    guesses = [text for text in rng.sample(pool, 4) if text not in accepted][:3]
    wrong = tuple(
        ({"blanks": [text] * len(accepted)}, share)
        for text, share in zip(guesses, _shares(len(guesses), rng), strict=True)
    )
    return {"blanks": accepted}, wrong, 0.0, sum(len(text) for text in accepted)


def organisation_create(
    branch_plan: list[tuple[str, int]], *, tag: str
) -> tuple[Organization, dict[str, Organization]]:
    """A committee, ``GENERAL_BRANCHES`` general branches and the planned branches."""
    committee = services.organization_create(
        name=f"模拟{tag}党委", code=f"SIM{tag}", kind=Organization.Kind.COMMITTEE
    )
    generals = [
        services.organization_create(
            name=f"模拟{tag}第{number + 1}党总支",
            code=f"SIM{tag}-G{number + 1}",
            kind=Organization.Kind.GENERAL_BRANCH,
            parent=committee,
        )
        for number in range(GENERAL_BRANCHES)
    ]
    branches = {}
    for index, (code, _size) in enumerate(branch_plan):
        branches[code] = services.organization_create(
            name=f"模拟{tag}{code}党支部",
            code=f"SIM{tag}-{code}",
            kind=Organization.Kind.BRANCH,
            parent=generals[index % GENERAL_BRANCHES],
        )
    return committee, branches


def members_create(
    people: list[tuple[int, str]], branches: dict[str, Organization]
) -> dict[int, Member]:
    """One member per (index, branch code), named by the index; bulk, as an import does."""
    created = services.members_bulk_create(
        people=[
            services.NewMember(
                username=f"sim{index:05d}",
                display_name=f"模拟党员{index}",
                organization=branches[code],
                joined_on=START_DAY - datetime.timedelta(days=365),
            )
            for index, code in people
        ],
        password=PASSWORD,
    )
    return {index: member for (index, _code), member in zip(people, created, strict=True)}


def _quiz(committee: Organization, **fields: Any) -> Quiz:
    fields.setdefault("min_seconds_per_question", 2)
    quiz = Quiz.objects.create(is_published=True, **fields)
    # A ParentalManyToManyField keeps the set in memory until the quiz is saved.
    quiz.organizations.set([committee])
    quiz.save()
    return quiz


def quizzes_create(
    committee: Organization, root: QuestionCategory, models: dict[int, QuestionModel]
) -> tuple[dict[int, Quiz], dict[int, Quiz], dict[str, Quiz], Quiz]:
    """The daily quizzes, the weekly quizzes, the topic quizzes and the challenge."""
    clash = Quiz.objects.filter(
        kind=Quiz.Kind.DAILY, local_date__range=(START_DAY, day_of(DAYS))
    ).exists()
    assert not clash, "the test database already has daily quizzes in the simulated days"
    daily = {index: daily_quiz_make(day=day_of(index)) for index in range(DAYS)}
    weekly = {}
    for week in range((DAYS + 6) // 7):
        opens = local(day_of(7 * week), 0)
        quiz = _quiz(
            committee,
            title=f"模拟每周答题（第{week + 1}周）",
            kind=Quiz.Kind.WEEKLY,
            opens_at=opens,
            closes_at=opens + datetime.timedelta(days=7),
            attempts_allowed=1,
            shuffle_questions=True,
            review=Quiz.Review.AFTER_SUBMIT,
        )
        for order, (kind, count) in enumerate(WEEKLY_MIX):
            QuizDrawRule.objects.create(
                quiz=quiz, category=root, question_type=kind, count=count, sort_order=order
            )
        weekly[week] = quiz
    categories = {category.name: category for category in root.get_children()}
    topics = {plan.key: _topic(committee, plan, categories, models) for plan in TOPICS}
    challenge = _quiz(
        committee,
        title="模拟挑战答题",
        kind=Quiz.Kind.CHALLENGE,
        attempts_allowed=0,
        review=Quiz.Review.AFTER_EACH,
    )
    QuizDrawRule.objects.create(quiz=challenge, category=root, count=CHALLENGE_LENGTH)
    return daily, weekly, topics, challenge


def _topic(
    committee: Organization,
    plan: TopicPlan,
    categories: dict[str, QuestionCategory],
    models: dict[int, QuestionModel],
) -> Quiz:
    quiz = _quiz(
        committee,
        title=plan.title,
        kind=Quiz.Kind.TOPIC,
        opens_at=local(day_of(plan.opens), 0),
        closes_at=local(day_of(plan.closes), 0),
        attempts_allowed=plan.attempts,
        grading_method=Quiz.GradingMethod.HIGHEST,
        shuffle_questions=not plan.fixed,
        review=Quiz.Review.AFTER_SUBMIT,
        multiple_rule=Quiz.MultipleRule.PARTIAL,
    )
    rng = random.Random(f"{SEED}:topic:{plan.key}")
    order = 0
    for name, count in plan.categories:
        if not plan.fixed:
            for kind, share in Counter(
                TYPE_CYCLE[n % len(TYPE_CYCLE)] for n in range(count)
            ).items():
                QuizDrawRule.objects.create(
                    quiz=quiz,
                    category=categories[name],
                    question_type=kind,
                    count=share,
                    sort_order=order,
                )
                order += 1
            continue
        pool = sorted(pk for pk, model in models.items() if model.category == name)
        for pk in rng.sample(pool, count):
            QuizQuestion.objects.create(quiz=quiz, question_id=pk, sort_order=order)
            order += 1
    return quiz


def meeting_times(branch_codes: list[str], rng_of: Any) -> dict[tuple[str, str], datetime.datetime]:
    """When each branch meets to take each meeting topic quiz: a weekday, 14:30."""
    meetings = {}
    for plan in TOPICS:
        if not plan.meeting:
            continue
        for code in branch_codes:
            rng = rng_of(f"meeting:{plan.key}:{code}")
            weekdays = [
                index
                for index in range(plan.opens, min(plan.closes, DAYS))
                if day_of(index).weekday() < 5
            ]
            meetings[(plan.key, code)] = local(day_of(rng.choice(weekdays)), 14.5)
    return meetings


def logit(share: float) -> float:
    return math.log(share / (1 - share))


def sigmoid(value: float) -> float:
    return 1 / (1 + math.exp(-value))
