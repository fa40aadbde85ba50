"""Quizzes, the attempts members make at them, and the wrong-answer book.

An attempt freezes what it asks (docs/design.md, decision 5): each ``AttemptQuestion`` holds a
JSON copy of the question as it was at the start (``question_snapshot``), the order in
which its options are shown, and its mark. Scoring reads only that copy, so editing or
retiring a question never changes a past attempt.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from modelcluster.fields import ParentalKey, ParentalManyToManyField
from modelcluster.models import ClusterableModel
from wagtail.models import Orderable

from learning.common.text import json_cleaned, validate_text
from quizzes.models.bank import Question, QuestionCategory, QuestionTag
from quizzes.taking import scoring

DEFAULT_MARK = Decimal(1)


class MemberJSONField(models.JSONField):
    """JSON a member wrote, read back with any invalid text repaired (``json_cleaned``).

    Input is checked since the API and the pages parse bodies with ``json_body_parse``;
    a value stored before that (SQLite keeps a lone surrogate escaped inside JSON) would
    make every page and export that shows it fail, so it is repaired as it is read.
    ``clean_stored_text`` repairs the stored rows. Migrations see a plain JSONField.
    """

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> Any:
        return json_cleaned(super().from_db_value(value, expression, connection))

    def deconstruct(self) -> tuple[str, str, list[Any], dict[str, Any]]:
        name, _path, args, kwargs = super().deconstruct()
        return name, "django.db.models.JSONField", args, kwargs


class Quiz(ClusterableModel):
    """A set of questions members answer: fixed, drawn by rules, or both."""

    class Kind(models.TextChoices):
        DAILY = "daily", _("Daily quiz")
        WEEKLY = "weekly", _("Weekly quiz")
        TOPIC = "topic", _("Topic quiz")
        EXAM = "exam", _("Exam")
        LESSON = "lesson", _("Lesson quiz")
        PRACTICE = "practice", _("Practice")
        CHALLENGE = "challenge", _("Challenge")

    GradingMethod = scoring.GradingMethod

    class Review(models.TextChoices):
        AFTER_EACH = "after_each", _("After each question")
        AFTER_SUBMIT = "after_submit", _("After the attempt is submitted")
        AFTER_CLOSE = "after_close", _("After the quiz closes")
        NEVER = "never", pgettext_lazy("quiz review", "Never")

    MultipleRule = scoring.MultipleRule

    title = models.CharField(_("title"), max_length=200, validators=[validate_text])
    description = models.TextField(_("description"), blank=True, validators=[validate_text])
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.TOPIC)
    is_published = models.BooleanField(
        _("published"),
        default=False,
        help_text=_("Members see the quiz only when it is published and open."),
    )
    organizations = ParentalManyToManyField(
        "learning.Organization",
        verbose_name=_("audience"),
        blank=True,
        related_name="quizzes",
        help_text=_(
            "Members of these organisations and every organisation below them may take "
            "the quiz. Leave empty for everyone."
        ),
    )
    opens_at = models.DateTimeField(_("opens at"), null=True, blank=True)
    closes_at = models.DateTimeField(_("closes at"), null=True, blank=True)
    time_limit_minutes = models.PositiveIntegerField(
        _("time limit (minutes)"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(600)],
        help_text=_("Leave empty for no time limit."),
    )
    attempts_allowed = models.PositiveIntegerField(
        _("attempts allowed"), default=1, help_text=_("0 means unlimited.")
    )
    grading_method = models.CharField(
        _("grading method"),
        max_length=10,
        choices=GradingMethod.choices,
        default=GradingMethod.HIGHEST,
    )
    pass_percent = models.PositiveSmallIntegerField(
        _("pass mark (%)"),
        null=True,
        blank=True,
        validators=[MaxValueValidator(100)],
        help_text=_("Share of the full marks needed to pass; empty for no pass mark."),
    )
    shuffle_questions = models.BooleanField(_("shuffle questions"), default=False)
    shuffle_options = models.BooleanField(_("shuffle options"), default=True)
    review = models.CharField(
        _("show answers and explanations"),
        max_length=20,
        choices=Review.choices,
        default=Review.AFTER_SUBMIT,
    )
    multiple_rule = models.CharField(
        _("multiple-choice scoring"),
        max_length=20,
        choices=MultipleRule.choices,
        default=MultipleRule.ALL_OR_NOTHING,
    )
    min_seconds_per_question = models.PositiveSmallIntegerField(
        _("fastest plausible seconds per question"),
        default=2,
        help_text=_(
            "An attempt answered faster than this per question is flagged for the secretary."
        ),
    )
    local_date = models.DateField(
        _("day"), null=True, blank=True, help_text=_("The local day of a daily quiz.")
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("quiz")
        verbose_name_plural = _("quizzes")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["local_date"],
                condition=Q(kind="daily"),
                name="quizzes_one_daily_quiz_per_day",
            ),
            models.CheckConstraint(
                condition=Q(closes_at__isnull=True)
                | Q(opens_at__isnull=True)
                | Q(closes_at__gt=models.F("opens_at")),
                name="quizzes_quiz_closes_after_opening",
                violation_error_message=_("The quiz must close after it opens."),
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def is_open(self, at: object = None) -> bool:
        now = at or timezone.now()
        if not self.is_published:
            return False
        if self.opens_at and now < self.opens_at:
            return False
        return not (self.closes_at and now >= self.closes_at)

    @property
    def has_closed(self) -> bool:
        return bool(self.closes_at and timezone.now() >= self.closes_at)


class QuizQuestion(Orderable):
    """A question every attempt of the quiz asks."""

    quiz = ParentalKey(Quiz, on_delete=models.CASCADE, related_name="fixed_questions")
    question = models.ForeignKey(
        Question, verbose_name=_("question"), on_delete=models.PROTECT, related_name="+"
    )
    mark = models.DecimalField(
        _("mark"),
        max_digits=6,
        decimal_places=2,
        default=DEFAULT_MARK,
        validators=[MinValueValidator(Decimal("0.01"))],
    )

    class Meta(Orderable.Meta):
        verbose_name = _("fixed question")
        verbose_name_plural = _("fixed questions")

    def __str__(self) -> str:
        return str(self.question)


class QuizDrawRule(Orderable):
    """Draw ``count`` questions at random from a part of the bank for each attempt."""

    quiz = ParentalKey(Quiz, on_delete=models.CASCADE, related_name="draw_rules")
    category = models.ForeignKey(
        QuestionCategory,
        verbose_name=_("category"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("Including its subcategories. Empty for the whole bank."),
    )
    tag = models.ForeignKey(
        QuestionTag,
        verbose_name=_("tag"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    question_type = models.CharField(
        _("question type"), max_length=20, choices=Question.Type.choices, blank=True
    )
    min_difficulty = models.PositiveSmallIntegerField(
        _("lowest difficulty"), default=1, validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    max_difficulty = models.PositiveSmallIntegerField(
        _("highest difficulty"),
        default=5,
        validators=[MinValueValidator(1), MaxValueValidator(5)],
    )
    count = models.PositiveSmallIntegerField(
        _("number of questions"),
        default=5,
        validators=[MinValueValidator(1), MaxValueValidator(200)],
    )
    mark = models.DecimalField(
        _("mark per question"),
        max_digits=6,
        decimal_places=2,
        default=DEFAULT_MARK,
        validators=[MinValueValidator(Decimal("0.01"))],
    )

    class Meta(Orderable.Meta):
        verbose_name = _("drawing rule")
        verbose_name_plural = _("drawing rules")
        constraints = [
            models.CheckConstraint(
                condition=Q(min_difficulty__lte=models.F("max_difficulty")),
                name="quizzes_draw_rule_difficulty_range",
                violation_error_message=_("The highest difficulty cannot be below the lowest."),
            ),
        ]

    def __str__(self) -> str:
        return str(_("%(count)s questions") % {"count": self.count})


class Attempt(models.Model):
    """One member's go at a quiz, with the questions frozen when it started."""

    class State(models.TextChoices):
        IN_PROGRESS = "in_progress", pgettext_lazy("attempt", "In progress")
        SUBMITTED = "submitted", pgettext_lazy("attempt", "Submitted")

    class ResultState(models.TextChoices):
        """What a member's result is waiting for, if anything (``result_state``)."""

        IN_PROGRESS = "in_progress", _("Not submitted yet")
        WAITING_FOR_GRADING = "waiting_for_grading", _("Waiting for grading")
        # An integrity flag is open (docs/integrity.md): the points wait for its review.
        HELD = "held", _("Under review")
        # A reviewer confirmed a flag: the score stands, no points.
        VOID = "void", _("Reviewed: no points")
        FINAL = "final", _("Final")

    class Integrity(models.TextChoices):
        """Whether an integrity flag holds the attempt's points (``learning.integrity``)."""

        CLEAR = "clear", _("Clear")
        HELD = "held", _("Under review")
        VOID = "void", _("Reviewed: no points")

    class FinishedBy(models.TextChoices):
        MEMBER = "member", _("Submitted by the member")
        DEADLINE = "deadline", _("Submitted when time ran out")
        CHALLENGE = "challenge", _("Ended by a wrong answer")

    quiz = models.ForeignKey(
        Quiz, verbose_name=_("quiz"), on_delete=models.PROTECT, related_name="attempts"
    )
    member = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("member"),
        on_delete=models.PROTECT,
        related_name="quiz_attempts",
    )
    organization = models.ForeignKey(
        "learning.Organization",
        verbose_name=_("organisation"),
        on_delete=models.PROTECT,
        null=True,
        related_name="+",
        help_text=_("The member's organisation when the attempt started."),
    )
    number = models.PositiveIntegerField(_("attempt number"), default=1)
    state = models.CharField(
        _("state"), max_length=20, choices=State.choices, default=State.IN_PROGRESS
    )
    started_at = models.DateTimeField(_("started at"), default=timezone.now)
    deadline = models.DateTimeField(_("deadline"), null=True, blank=True)
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    finished_by = models.CharField(
        pgettext_lazy("attempt", "finished by"),
        max_length=20,
        choices=FinishedBy.choices,
        blank=True,
    )
    multiple_rule = models.CharField(max_length=20, choices=Quiz.MultipleRule.choices)
    review = models.CharField(max_length=20, choices=Quiz.Review.choices)
    pass_percent = models.PositiveSmallIntegerField(null=True, blank=True)
    score = models.DecimalField(_("score"), max_digits=8, decimal_places=2, null=True, blank=True)
    max_score = models.DecimalField(_("full marks"), max_digits=8, decimal_places=2, default=0)
    correct_count = models.PositiveIntegerField(_("correct answers"), default=0)
    needs_grading = models.BooleanField(_("waiting for grading"), default=False)
    passed = models.BooleanField(_("passed"), null=True, blank=True)
    too_fast = models.BooleanField(
        _("implausibly fast"),
        default=False,
        help_text=_("Answered faster than a person can read the questions."),
    )
    integrity = models.CharField(
        _("review"), max_length=10, choices=Integrity.choices, default=Integrity.CLEAR
    )
    # The answers in the order they were saved (question, answer), hashed: members of a
    # branch handing in the same sequence, wrong answers included, raise a flag.
    answer_fingerprint = models.CharField(max_length=64, blank=True)
    points = models.IntegerField(_("points awarded"), default=0)

    class Meta:
        verbose_name = _("attempt")
        verbose_name_plural = _("attempts")
        ordering = ["-started_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["quiz", "member", "number"], name="quizzes_attempt_number_unique"
            ),
            models.UniqueConstraint(
                fields=["quiz", "member"],
                condition=Q(state="in_progress"),
                name="quizzes_one_open_attempt_per_quiz",
            ),
        ]
        indexes = [
            models.Index(fields=["state", "deadline"], name="quizzes_attempt_due"),
            models.Index(fields=["member", "-started_at"], name="quizzes_attempt_member"),
            models.Index(
                fields=["quiz", "answer_fingerprint"],
                condition=~Q(answer_fingerprint=""),
                name="quizzes_attempt_fingerprint",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.quiz} · {self.member} · {self.number}"

    @property
    def is_submitted(self) -> bool:
        return self.state == self.State.SUBMITTED

    @property
    def result_state(self) -> str:
        """In progress, waiting for a mark, under review, reviewed without points, or final.

        Waiting for grading comes first: the score is not known yet. An attempt under
        review has its score but no points until a reviewer dismisses its flags.
        """
        if not self.is_submitted:
            return self.ResultState.IN_PROGRESS
        if self.needs_grading:
            return self.ResultState.WAITING_FOR_GRADING
        if self.integrity == self.Integrity.HELD:
            return self.ResultState.HELD
        if self.integrity == self.Integrity.VOID:
            return self.ResultState.VOID
        return self.ResultState.FINAL

    @property
    def is_held(self) -> bool:
        """Submitted with an open integrity flag: its points wait for the review."""
        return self.is_submitted and self.integrity == self.Integrity.HELD

    @property
    def percent(self) -> Decimal | None:
        if self.score is None or not self.max_score:
            return None
        return (self.score * 100 / self.max_score).quantize(Decimal("0.1"))


class AttemptQuestion(models.Model):
    """One question of an attempt, frozen, with the member's latest saved answer."""

    class State(models.TextChoices):
        UNANSWERED = "unanswered", _("Not answered")
        CORRECT = "correct", _("Correct")
        PARTIAL = "partial", _("Partially correct")
        WRONG = "wrong", _("Wrong")
        NEEDS_GRADING = "needs_grading", _("Waiting for grading")
        GRADED = "graded", _("Graded")

    attempt = models.ForeignKey(Attempt, on_delete=models.CASCADE, related_name="questions")
    position = models.PositiveSmallIntegerField()
    question = models.ForeignKey(
        Question, on_delete=models.SET_NULL, null=True, related_name="attempt_questions"
    )
    snapshot = models.JSONField(help_text="question_snapshot() when the attempt started")
    choice_order = models.JSONField(default=list)
    max_mark = models.DecimalField(max_digits=6, decimal_places=2, default=DEFAULT_MARK)
    response = MemberJSONField(null=True, blank=True)
    response_seq = models.PositiveIntegerField(default=0)
    # When the question was served: at the start, or (a challenge) after the previous check.
    served_at = models.DateTimeField(null=True, blank=True)
    saved_at = models.DateTimeField(null=True, blank=True)
    mark = models.DecimalField(max_digits=6, decimal_places=2, null=True, blank=True)
    state = models.CharField(max_length=20, choices=State.choices, default=State.UNANSWERED)
    graded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    graded_at = models.DateTimeField(null=True, blank=True)
    grader_comment = models.TextField(blank=True, validators=[validate_text])

    class Meta:
        verbose_name = _("attempt question")
        verbose_name_plural = _("attempt questions")
        ordering = ["attempt", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["attempt", "position"], name="quizzes_attempt_question_position"
            ),
        ]
        indexes = [
            models.Index(
                fields=["state"],
                condition=Q(state="needs_grading"),
                name="quizzes_grading_queue",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.attempt_id}:{self.position}"


class WrongAnswer(models.Model):
    """A question in a member's wrong-answer book (错题本)."""

    member = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="wrong_answers"
    )
    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="+")
    wrong_count = models.PositiveIntegerField(_("times wrong"), default=1)
    correct_streak = models.PositiveSmallIntegerField(_("correct in a row"), default=0)
    last_wrong_at = models.DateTimeField(_("last wrong"), default=timezone.now)
    mastered_at = models.DateTimeField(_("mastered at"), null=True, blank=True)
    mastered_count = models.PositiveIntegerField(default=0)
    removed_at = models.DateTimeField(_("removed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("wrong answer")
        verbose_name_plural = _("wrong-answer book")
        constraints = [
            models.UniqueConstraint(
                fields=["member", "question"], name="quizzes_wrong_answer_once"
            ),
        ]
        indexes = [models.Index(fields=["member", "-last_wrong_at"], name="quizzes_wrong_book")]

    def __str__(self) -> str:
        return f"{self.member_id}:{self.question_id}"

    @property
    def is_open(self) -> bool:
        return self.mastered_at is None and self.removed_at is None


class DailyQuizSettings(models.Model):
    """How the daily quiz is made each day (one row; editable in the admin)."""

    question_count = models.PositiveSmallIntegerField(
        _("questions per day"), default=5, validators=[MinValueValidator(1), MaxValueValidator(50)]
    )
    category = models.ForeignKey(
        QuestionCategory,
        verbose_name=_("question pool"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("Draw from this category and its subcategories; empty for the whole bank."),
    )
    avoid_days = models.PositiveSmallIntegerField(
        _("avoid repeats for (days)"),
        default=7,
        help_text=_("A member is not asked again what they were asked in this many days."),
    )
    time_limit_minutes = models.PositiveIntegerField(
        _("time limit (minutes)"), null=True, blank=True
    )

    class Meta:
        verbose_name = _("daily quiz settings")
        verbose_name_plural = _("daily quiz settings")

    def __str__(self) -> str:
        return str(_("Daily quiz settings"))

    @classmethod
    def current(cls) -> DailyQuizSettings:
        found = cls.objects.order_by("pk").first()
        return found if found is not None else cls.objects.create()
