"""Demo quizzes for ``manage.py seed_demo``: the question bank, four quizzes, past attempts.

Writes the bank of ``demo/data/bank/*.gift`` (read by ``demo.bank_data``) through the
ordinary import service (all or nothing), sets the daily quiz to five questions, and
creates a topic quiz (专项答题), this week's quiz and an exam (考试) for the demo committee.
Then a few hundred demo members take them, and the daily quizzes of the last two weeks,
through the real attempt services with past timestamps: the frozen questions, scoring,
wrong-answer books and points all come from the same code as a member's own attempt, so
results and item statistics are real.

Members differ in ability and questions in difficulty: the chance of a right answer falls
with the question's difficulty and rises with the member's ability, so the easy questions
score high, the hard ones low, and the able members score high on both. Some short answers
are graded by the demo secretary; the others wait in the grading queue. One member of the
secretary's subtree clicks through a quiz faster than it can be read, so the integrity
review queue (学习诚信审核) has a case to show.

Everything is drawn from one seeded ``random.Random``, so the demo is the same on every
machine. The bank's top category (``bank_data.ROOT_CATEGORY``) marks a finished run: when
it exists, nothing is done.
"""

from __future__ import annotations

import copy
import datetime
import math
import random
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from demo import bank_data, people_data
from learning.models import Member, Organization
from learning.people.selectors import secretary_roots
from quizzes.bank.formats.base import ParseResult
from quizzes.bank.services import questions_import
from quizzes.models import (
    AttemptQuestion,
    DailyQuizSettings,
    Question,
    QuestionCategory,
    Quiz,
    QuizDrawRule,
    QuizQuestion,
)
from quizzes.taking.attempts import attempt_answer_save, attempt_start
from quizzes.taking.daily import daily_quiz_make
from quizzes.taking.errors import AttemptError
from quizzes.taking.submitting import attempt_question_grade, attempt_submit

RANDOM_SEED = people_data.RANDOM_SEED
DAILY_QUESTIONS = 5
DAILY_DAYS = 14
# Members who take part at all: the rest of the ~600 never open a quiz, as in real life.
PARTICIPANTS = 300
TOPIC_OPENED_DAYS_AGO = 18
TOPIC_OPEN_DAYS = 30
EXAM_OPENED_DAYS_AGO = 10
EXAM_OPEN_DAYS = 14
EXAM_MINUTES = 30
EXAM_PASS_PERCENT = 60
# Share of the short answers the secretary has graded; the rest wait in the queue.
GRADED_SHARE = 0.6
GRADER_USERNAMES = ("secretary", "admin")
# The chance that a member takes part in each kind of quiz, times their keenness.
TURNOUT = {Quiz.Kind.TOPIC: 0.27, Quiz.Kind.WEEKLY: 0.23, Quiz.Kind.EXAM: 0.3}

# What members who do not know write into a blank: wrong, but the kind of thing people write.
WRONG_BLANK_GUESSES = ("不清楚", "记不清了", "人民", "五", "三", "2012", "纪律", "改革")


class DemoQuizError(Exception):
    """The demo bank could not be imported; ``problems`` lists why."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("The demo question bank could not be imported: " + "; ".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class QuizSeedSummary:
    """What one run created; all zero when the demo bank was already there."""

    questions: int = 0
    categories: int = 0
    quizzes: int = 0
    attempts: int = 0
    waiting_for_grading: int = 0

    @property
    def created(self) -> bool:
        return bool(self.questions)


# --- The bank -------------------------------------------------------------------------


def demo_bank_parsed() -> ParseResult:
    """The whole demo bank as one import: every bank file's questions, in file order."""
    result = ParseResult(format="gift", unit="line")
    for category in bank_data.bank_categories():
        result.questions.extend(copy.deepcopy(category.questions))
    return result


def demo_bank_exists() -> bool:
    return QuestionCategory.get_root_nodes().filter(name=bank_data.ROOT_CATEGORY).exists()


# --- Seeding --------------------------------------------------------------------------


def demo_quiz_seed(
    *,
    committee: Organization,
    now: datetime.datetime | None = None,
    seed: int = RANDOM_SEED,
    participants: int = PARTICIPANTS,
) -> QuizSeedSummary:
    """Import the demo bank, create the demo quizzes and let members take them (once)."""
    if demo_bank_exists():
        return QuizSeedSummary()
    now = timezone.localtime(now)
    # Seeded on purpose: the demo must come out the same on every machine; no secrets.
    rng = random.Random(seed)  # noqa: S311
    with transaction.atomic():
        imported = questions_import(demo_bank_parsed(), category=bank_data.ROOT_CATEGORY)
        if not imported.ok:
            raise DemoQuizError([str(problem) for problem in imported.problems])
        root = QuestionCategory.get_root_nodes().get(name=bank_data.ROOT_CATEGORY)
        categories = {category.name: category for category in root.get_children()}
        _daily_settings()
        quizzes = [
            _topic_quiz(committee, categories, now),
            _weekly_quiz(committee, root, now),
            _exam(committee, categories, now),
        ]
        takers = _takers(committee, rng, participants)
        simulator = _Simulator(rng=rng, now=now, root=root)
        simulator.hurried_in = _secretary_paths(committee)
        for quiz in quizzes:
            simulator.plan(quiz, takers)
        daily = simulator.plan_daily_quizzes(takers, days=DAILY_DAYS)
        simulator.run()
        waiting = simulator.grade_some(_grader(committee))
    return QuizSeedSummary(
        questions=len(imported.created_ids),
        categories=len(categories),
        quizzes=len(quizzes) + daily,
        attempts=simulator.attempts,
        waiting_for_grading=waiting,
    )


def _daily_settings() -> None:
    settings = DailyQuizSettings.current()
    settings.question_count = DAILY_QUESTIONS
    settings.save(update_fields=["question_count"])


def _quiz_create(committee: Organization, **fields: Any) -> Quiz:
    quiz = Quiz.objects.create(is_published=True, min_seconds_per_question=2, **fields)
    quiz.organizations.set([committee])
    return quiz


def _day_start(day: datetime.date, now: datetime.datetime) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time.min, tzinfo=now.tzinfo)


def _topic_quiz(
    committee: Organization, categories: dict[str, QuestionCategory], now: datetime.datetime
) -> Quiz:
    opens_at = _day_start(now.date() - datetime.timedelta(days=TOPIC_OPENED_DAYS_AGO), now)
    quiz = _quiz_create(
        committee,
        title="专项答题：纪律建设与廉洁文化",
        description=(
            "围绕党的纪律、廉洁文化和法律法规出题，每次从题库随机抽取10道题，"
            "提交后即可查看答案和解析。可答两次，取最高分。"
        ),
        kind=Quiz.Kind.TOPIC,
        opens_at=opens_at,
        closes_at=opens_at + datetime.timedelta(days=TOPIC_OPEN_DAYS),
        attempts_allowed=2,
        grading_method=Quiz.GradingMethod.HIGHEST,
        shuffle_questions=True,
        review=Quiz.Review.AFTER_SUBMIT,
        multiple_rule=Quiz.MultipleRule.PARTIAL,
    )
    rules = (("纪律建设", 5), ("廉洁文化", 3), ("法律法规", 2))
    for order, (name, count) in enumerate(rules):
        QuizDrawRule.objects.create(
            quiz=quiz, category=categories[name], count=count, sort_order=order
        )
    return quiz


def _weekly_quiz(committee: Organization, root: QuestionCategory, now: datetime.datetime) -> Quiz:
    monday = now.date() - datetime.timedelta(days=now.weekday())
    opens_at = _day_start(monday, now)
    iso_year, iso_week, _weekday = monday.isocalendar()
    quiz = _quiz_create(
        committee,
        title=f"每周答题（{iso_year}年第{iso_week}周）",
        description="本周8道题，涵盖各个分类，周日24时截止。",
        kind=Quiz.Kind.WEEKLY,
        opens_at=opens_at,
        closes_at=opens_at + datetime.timedelta(days=7),
        attempts_allowed=1,
        shuffle_questions=True,
        review=Quiz.Review.AFTER_SUBMIT,
    )
    QuizDrawRule.objects.create(quiz=quiz, category=root, count=8, max_difficulty=4)
    return quiz


# The exam: 5 fixed questions of 4 marks and 15 drawn ones, 20 questions and 100 marks,
# all from one category. While the exam can be taken, that category's questions are
# locked (quizzes.taking.locks): practice, the daily quiz and the other quizzes use the rest.
EXAM_CATEGORY = "党章党规"
EXAM_FIXED_MARK = Decimal(4)
EXAM_RULES: tuple[tuple[str, int, Decimal], ...] = (
    (Question.Type.SINGLE, 6, Decimal(4)),
    (Question.Type.MULTIPLE, 3, Decimal(6)),
    (Question.Type.TRUE_FALSE, 4, Decimal(3)),
    (Question.Type.FILL_BLANK, 1, Decimal(6)),
    (Question.Type.SHORT_ANSWER, 1, Decimal(20)),
)


def _exam(
    committee: Organization, categories: dict[str, QuestionCategory], now: datetime.datetime
) -> Quiz:
    opens_at = _day_start(now.date() - datetime.timedelta(days=EXAM_OPENED_DAYS_AGO), now)
    quiz = _quiz_create(
        committee,
        title=f"{now.year}年度党章党规知识考试",
        description=(
            "限时30分钟，满分100分，60分合格。共20题：必考题5道，其余按题型从党章党规题库"
            "随机抽取；简答题由支部书记批阅。考试结束后公布答案和解析。"
        ),
        kind=Quiz.Kind.EXAM,
        opens_at=opens_at,
        closes_at=opens_at + datetime.timedelta(days=EXAM_OPEN_DAYS),
        time_limit_minutes=EXAM_MINUTES,
        attempts_allowed=1,
        pass_percent=EXAM_PASS_PERCENT,
        shuffle_questions=False,
        review=Quiz.Review.AFTER_CLOSE,
        multiple_rule=Quiz.MultipleRule.ALL_OR_NOTHING,
    )
    # The fixed questions: the first single choices on the constitution everyone must know.
    fixed = Question.objects.filter(
        category=categories[EXAM_CATEGORY], type=Question.Type.SINGLE
    ).order_by("pk")[:5]
    for order, question in enumerate(fixed):
        QuizQuestion.objects.create(
            quiz=quiz, question=question, mark=EXAM_FIXED_MARK, sort_order=order
        )
    for order, (question_type, count, mark) in enumerate(EXAM_RULES):
        QuizDrawRule.objects.create(
            quiz=quiz,
            category=categories[EXAM_CATEGORY],
            question_type=question_type,
            count=count,
            mark=mark,
            sort_order=order,
        )
    return quiz


def _takers(committee: Organization, rng: random.Random, count: int) -> list[_Taker]:
    """``count`` ordinary demo members with their ability and habits.

    The demo accounts stay out, so whoever tries the demo finds every quiz still open.
    """
    reserved = [account.username for account in people_data.DEMO_ACCOUNTS]
    members = list(
        Member.objects.filter(organization__path__startswith=committee.path, is_active=True)
        .exclude(username__in=reserved)
        .select_related("organization")
        .order_by("pk")
    )
    chosen = sorted(rng.sample(members, min(count, len(members))), key=lambda member: member.pk)
    return [
        _Taker(
            member=member,
            ability=rng.gauss(0.9, 0.9),
            # How likely the member is to take a given quiz, and the daily quiz on a given day.
            keenness=rng.uniform(0.3, 0.95),
            daily_habit=rng.choice((0.01, 0.02, 0.03, 0.05, 0.07, 0.1)),
        )
        for member in chosen
    ]


def _grader(committee: Organization) -> Member | None:
    for username in GRADER_USERNAMES:
        grader = Member.objects.filter(
            username=username, organization__path__startswith=committee.path
        ).first()
        if grader is not None:
            return grader
    return None


def _secretary_paths(committee: Organization) -> tuple[str, ...]:
    """The subtrees of the demo secretary, where one member will click through a quiz faster
    than it can be read: the integrity review (and the member's 待审核) have a real case."""
    secretary = Member.objects.filter(
        username=GRADER_USERNAMES[0], organization__path__startswith=committee.path
    ).first()
    if secretary is None:
        return ()
    return tuple(secretary_roots(secretary).values_list("path", flat=True))


# --- Simulated members ----------------------------------------------------------------


@dataclass(frozen=True)
class _Taker:
    """A demo member as the simulation sees them: how able, how keen, how regular."""

    member: Member
    ability: float
    keenness: float
    daily_habit: float


@dataclass(frozen=True)
class _Visit:
    """A member opening a quiz at a moment of the past."""

    start: datetime.datetime
    quiz: Quiz
    taker: _Taker


class _Simulator:
    """Takes quizzes the way members do: start, answer one by one, submit."""

    def __init__(
        self, *, rng: random.Random, now: datetime.datetime, root: QuestionCategory
    ) -> None:
        self.rng = rng
        self.now = now
        # Snapshots leave out the difficulty (members never see it); the bank has it.
        self.difficulty = dict(
            Question.objects.filter(category__path__startswith=root.path).values_list(
                "pk", "difficulty"
            )
        )
        self.attempts = 0
        # Where the first quiz taken (not a daily one) is clicked through (_secretary_paths).
        self.hurried_in: tuple[str, ...] = ()
        self.visits: list[_Visit] = []
        self.short_answers: list[tuple[AttemptQuestion, float]] = []
        # Every accepted blank answer of the bank: wrong guesses look like real answers.
        self.blank_answers = sorted(
            {
                answer
                for category in bank_data.bank_categories()
                for question in category.questions
                for answers in question.blanks
                for answer in answers
            }
        )

    def plan(self, quiz: Quiz, takers: list[_Taker]) -> None:
        """Who takes ``quiz`` and when, between its opening and an hour ago."""
        opens_at = quiz.opens_at or self.now
        latest = min(self.now, quiz.closes_at or self.now) - datetime.timedelta(hours=1)
        if latest <= opens_at:
            return  # A quiz that opened this very hour has had no takers yet.
        span = (latest - opens_at).total_seconds()
        turnout = TURNOUT.get(quiz.kind, 0.4)
        for taker in takers:
            if self.rng.random() >= taker.keenness * turnout:
                continue
            start = opens_at + datetime.timedelta(seconds=self.rng.uniform(0, span))
            start = _within(_daytime(start, self.rng), start, latest)
            self.visits.append(_Visit(start, quiz, taker))
            if quiz.attempts_allowed != 1 and self.rng.random() < 0.25 * taker.keenness:
                # On a later day, so the retake always follows the first attempt.
                retake = start + datetime.timedelta(days=self.rng.uniform(1, 3))
                if retake < latest:
                    retake = _within(_daytime(retake, self.rng), retake, latest)
                    self.visits.append(_Visit(retake, quiz, taker))

    def plan_daily_quizzes(self, takers: list[_Taker], *, days: int) -> int:
        """The daily quizzes of the last ``days`` days and who takes each; returns ``days``."""
        for offset in range(days, 0, -1):
            day = self.now.date() - datetime.timedelta(days=offset)
            quiz = daily_quiz_make(day=day)
            weekend = day.weekday() >= 5
            for taker in takers:
                chance = taker.daily_habit * (0.5 if weekend else 1.0)
                if self.rng.random() < chance:
                    start = _daytime(_day_start(day, self.now), self.rng)
                    self.visits.append(_Visit(start, quiz, taker))
        return days

    def run(self) -> None:
        """Make the planned attempts in the order they happened.

        In time order, the wrong-answer books, the daily quiz's "not asked again within a
        week" and the points caps see the past as it unfolded.
        """
        order = sorted(
            self.visits, key=lambda visit: (visit.start, visit.quiz.pk, visit.taker.member.pk)
        )
        for visit in order:
            self._attempt(visit.quiz, visit.taker, visit.start)

    def grade_some(self, grader: Member | None) -> int:
        """Grade a share of the short answers; returns how many still wait."""
        waiting = 0
        for item, quality in self.short_answers:
            if grader is None or self.rng.random() >= GRADED_SHARE:
                waiting += 1
                continue
            fraction = Decimal(str(round(min(1.0, max(0.0, quality)), 1)))
            attempt_question_grade(
                item=item,
                fraction=fraction,
                grader=grader,
                comment="要点较全，表述清楚。"
                if fraction >= Decimal("0.8")
                else "要点不全，请对照参考答案。",
            )
        return waiting

    def _attempt(self, quiz: Quiz, taker: _Taker, start: datetime.datetime) -> None:
        try:
            attempt = attempt_start(quiz=quiz, member=taker.member, at=start, rng=self.rng)
        except AttemptError:
            return  # Not open to this member (or no attempts left): they move on.
        self.attempts += 1
        moment = start
        items = list(attempt.questions.order_by("position"))
        organization = taker.member.organization
        hurried = bool(
            self.hurried_in
            and quiz.kind != Quiz.Kind.DAILY
            and organization is not None
            and organization.path.startswith(self.hurried_in)
        )
        if hurried:
            self.hurried_in = ()  # once
        for item in items:
            writing = item.snapshot["type"] == Question.Type.SHORT_ANSWER
            seconds = self.rng.uniform(90, 420) if writing else self.rng.uniform(12, 75)
            if hurried:
                seconds = self.rng.uniform(1.0, 2.0)
            moment += datetime.timedelta(seconds=seconds)
            if attempt.deadline is not None and moment >= attempt.deadline:
                break  # Out of time: what was saved is submitted.
            if self.rng.random() < 0.03:
                continue  # Skipped.
            response, quality = self._response(item.snapshot, taker.ability)
            attempt_answer_save(
                attempt=attempt,
                member=taker.member,
                position=item.position,
                response=response,
                seq=1,
                at=moment,
            )
            if writing:
                self.short_answers.append((item, quality))
        submit_at = moment + datetime.timedelta(seconds=1 if hurried else self.rng.uniform(5, 40))
        attempt_submit(attempt=attempt, member=taker.member, at=min(submit_at, self.now))

    def _response(self, snapshot: dict[str, Any], ability: float) -> tuple[dict[str, Any], float]:
        """A member's answer to a frozen question, and how good it is (0–1)."""
        difficulty = self.difficulty.get(snapshot["id"], 3)
        knows = self.rng.random() < _chance_right(ability, difficulty)
        kind = snapshot["type"]
        choices = snapshot["choices"]
        if kind == Question.Type.SINGLE:
            pool = [choice for choice in choices if choice["is_correct"] == knows]
            return {"choices": [self.rng.choice(pool)["id"]]}, float(knows)
        if kind == Question.Type.MULTIPLE:
            return {"choices": self._multiple(choices, knows)}, float(knows)
        if kind == Question.Type.TRUE_FALSE:
            answer = snapshot["true_false_answer"]
            return {"value": answer if knows else not answer}, float(knows)
        if kind == Question.Type.FILL_BLANK:
            return {"blanks": self._blanks(snapshot["blanks"], knows)}, float(knows)
        return self._short_answer(snapshot["reference_answer"], ability)

    def _multiple(self, choices: list[dict[str, Any]], knows: bool) -> list[int]:
        right = [choice["id"] for choice in choices if choice["is_correct"]]
        wrong = [choice["id"] for choice in choices if not choice["is_correct"]]
        if knows:
            return right
        # The usual mistakes: leaving out a right option, or ticking a wrong one too.
        if len(right) > 1 and (not wrong or self.rng.random() < 0.6):
            return self.rng.sample(right, len(right) - 1)
        if wrong:
            return [*right, self.rng.choice(wrong)]
        return right[:1]

    def _blanks(self, accepted: list[list[str]], knows: bool) -> list[str]:
        answers = [self.rng.choice(options) for options in accepted]
        if knows:
            return answers
        missed = self.rng.randrange(len(answers))
        guesses = [
            guess
            for guess in (*WRONG_BLANK_GUESSES, *self.rng.sample(self.blank_answers, 3))
            if guess not in accepted[missed]
        ]
        answers[missed] = self.rng.choice(guesses)
        return answers

    def _short_answer(self, reference: str, ability: float) -> tuple[dict[str, Any], float]:
        """A fuller answer from abler members: a share of the reference answer's clauses."""
        clauses = [clause for clause in reference.replace("；", "。").split("。") if clause]
        quality = min(1.0, max(0.0, self.rng.gauss(0.45 + 0.25 * ability, 0.2)))
        kept = max(1, round(len(clauses) * quality))
        text = "。".join(clauses[:kept]) + "。"
        if quality < 0.2:
            text = "结合学习体会，" + clauses[0][:12] + "……"
        return {"text": text}, quality


def _chance_right(ability: float, difficulty: int) -> float:
    """A logistic item-response curve: about even odds where ability meets difficulty."""
    hardness = (difficulty - 2.5) * 0.9
    return 0.05 + 0.93 / (1 + math.exp(-1.6 * (ability - hardness)))


def _daytime(day_start: datetime.datetime, rng: random.Random) -> datetime.datetime:
    """A moment between 7:30 and 22:00 local time on the day of ``day_start``."""
    local = timezone.localtime(day_start)
    base = local.replace(hour=7, minute=30, second=0, microsecond=0)
    moment = base + datetime.timedelta(minutes=rng.uniform(0, 14.5 * 60))
    return max(moment, day_start)


def _within(
    moment: datetime.datetime, fallback: datetime.datetime, latest: datetime.datetime
) -> datetime.datetime:
    """``moment`` when it is still inside the quiz's window, else ``fallback``."""
    return moment if moment <= latest else fallback
