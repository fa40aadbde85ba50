"""The question bank: categories (a tree), tags, questions, their options and blanks.

A question's *content* is its type, stem, options (with correctness and weights),
blanks (with accepted answers), true/false answer, reference answer and explanation.
Attempts never point at live content: they copy it when they start (see
``quizzes.bank.selectors.question_snapshot``), and every change of content goes through
``quizzes.bank.services.question_content_changed``, which bumps ``version`` and refreshes
``fingerprint`` — so editing or retiring a question never changes a past attempt.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.text import Truncator
from django.utils.translation import gettext_lazy as _
from modelcluster.contrib.taggit import ClusterTaggableManager
from modelcluster.fields import ParentalKey
from modelcluster.models import ClusterableModel
from taggit.models import ItemBase, TagBase
from treebeard.mp_tree import MP_Node
from wagtail.images import get_image_model_string
from wagtail.models import Orderable

from learning.common.text import validate_text

CATEGORY_NAME_MAX_LENGTH = 100
CATEGORY_SEPARATOR = "/"
MIN_DIFFICULTY = 1
MAX_DIFFICULTY = 5
DEFAULT_DIFFICULTY = 3


class QuestionCategory(MP_Node):
    """A node of the question-bank tree, e.g. 党史 › 新民主主义革命时期.

    Sibling names are unique (``quizzes.bank.services.category_get_or_create_path`` keeps
    them so), so a path of names such as ``党史/新民主主义革命时期`` names one category.
    """

    name = models.CharField(
        _("category name"), max_length=CATEGORY_NAME_MAX_LENGTH, validators=[validate_text]
    )
    description = models.TextField(_("description"), blank=True, validators=[validate_text])
    sort_order = models.PositiveIntegerField(_("sort order"), default=0)
    exam_only = models.BooleanField(
        _("for exams only"),
        default=False,
        help_text=_(
            "Questions of this category and of every category below it are asked in exams "
            "only: never in practice, the wrong-answer book, challenges or other quizzes."
        ),
    )

    node_order_by = ["sort_order", "name"]

    class Meta:
        verbose_name = _("question category")
        verbose_name_plural = _("question categories")

    def __str__(self) -> str:
        return self.name

    def path_names(self) -> list[str]:
        """The names from the root down to this category."""
        return [*(ancestor.name for ancestor in self.get_ancestors()), self.name]

    def path_display(self) -> str:
        """The category as it is written in import files: ``党史/新民主主义革命时期``."""
        return CATEGORY_SEPARATOR.join(self.path_names())

    def subtree(self) -> models.QuerySet[QuestionCategory]:
        """This category and every category below it."""
        return QuestionCategory.objects.filter(path__startswith=self.path, depth__gte=self.depth)


class QuestionTag(TagBase):
    """A tag of the question bank (kept apart from the tags of courses and lessons)."""

    class Meta:
        verbose_name = _("question tag")
        verbose_name_plural = _("question tags")


class TaggedQuestion(ItemBase):
    tag = models.ForeignKey(QuestionTag, on_delete=models.CASCADE, related_name="tagged_questions")
    content_object = ParentalKey(
        "quizzes.Question", on_delete=models.CASCADE, related_name="tagged_items"
    )

    class Meta:
        verbose_name = _("question tag assignment")
        verbose_name_plural = _("question tag assignments")
        constraints = [
            models.UniqueConstraint(
                fields=["content_object", "tag"], name="quizzes_tagged_question_once"
            )
        ]


class Question(ClusterableModel):
    """One question of the bank."""

    class Type(models.TextChoices):
        SINGLE = "single", _("Single choice")
        MULTIPLE = "multiple", _("Multiple choice")
        TRUE_FALSE = "true_false", _("True or false")
        FILL_BLANK = "fill_blank", _("Fill in the blank")
        SHORT_ANSWER = "short_answer", _("Short answer")

    class Status(models.TextChoices):
        ACTIVE = "active", _("In use")
        RETIRED = "retired", _("Retired")

    category = models.ForeignKey(
        QuestionCategory,
        verbose_name=_("category"),
        on_delete=models.PROTECT,
        related_name="questions",
    )
    type = models.CharField(_("question type"), max_length=20, choices=Type.choices)
    title = models.CharField(
        _("title"),
        max_length=255,
        validators=[validate_text],
        blank=True,
        help_text=_("Optional short name shown in lists (GIFT files call it the question name)."),
    )
    stem = models.TextField(
        _("stem"),
        validators=[validate_text],
        help_text=_("The question text. In fill-in-the-blank questions write each blank as ____."),
    )
    difficulty = models.PositiveSmallIntegerField(
        _("difficulty"),
        default=DEFAULT_DIFFICULTY,
        validators=[MinValueValidator(MIN_DIFFICULTY), MaxValueValidator(MAX_DIFFICULTY)],
        help_text=_("From 1 (easiest) to 5 (hardest)."),
    )
    status = models.CharField(
        _("question status"), max_length=10, choices=Status.choices, default=Status.ACTIVE
    )
    true_false_answer = models.BooleanField(
        _("correct answer (true or false)"),
        null=True,
        blank=True,
        help_text=_("Only for true-or-false questions."),
    )
    reference_answer = models.TextField(
        _("reference answer"),
        validators=[validate_text],
        blank=True,
        help_text=_("For short-answer questions: what the graders compare the answer with."),
    )
    explanation = models.TextField(
        _("explanation"),
        validators=[validate_text],
        blank=True,
        help_text=_("Shown to members after they answer."),
    )
    image = models.ForeignKey(
        get_image_model_string(),
        verbose_name=_("image"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    tags = ClusterTaggableManager(verbose_name=_("tags"), through=TaggedQuestion, blank=True)
    fingerprint = models.CharField(
        _("duplicate fingerprint"),
        max_length=64,
        db_index=True,
        editable=False,
        help_text=_("A hash of the normalised stem and options; equal for duplicates."),
    )
    version = models.PositiveIntegerField(
        _("version"),
        default=1,
        editable=False,
        help_text=_("Increases each time the content changes; attempts record it."),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("question")
        verbose_name_plural = _("questions")
        indexes = [
            models.Index(fields=["category", "status", "type"], name="quizzes_q_category_idx"),
            models.Index(fields=["status", "type", "difficulty"], name="quizzes_q_draw_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(difficulty__gte=MIN_DIFFICULTY, difficulty__lte=MAX_DIFFICULTY),
                name="quizzes_question_difficulty_range",
            ),
            models.CheckConstraint(
                condition=(
                    Q(type="true_false", true_false_answer__isnull=False)
                    | (~Q(type="true_false") & Q(true_false_answer__isnull=True))
                ),
                name="quizzes_question_true_false_answer",
            ),
        ]

    def __str__(self) -> str:
        return self.title or Truncator(self.stem).chars(40)

    @property
    def is_choice(self) -> bool:
        return self.type in (self.Type.SINGLE, self.Type.MULTIPLE)


class Choice(Orderable):
    """An option of a single- or multiple-choice question.

    ``weight`` is the fraction of the mark the option earns under Moodle-style scoring
    (1 = 100 %, -1 = -100 %); ``is_correct`` is what all-or-nothing and partial scoring
    use. For a multiple-choice question the correct options are those with a positive
    weight, and the positive weights add up to 1.
    """

    question = ParentalKey(Question, on_delete=models.CASCADE, related_name="choices")
    text = models.TextField(_("text"), validators=[validate_text])
    is_correct = models.BooleanField(_("correct"), default=False)
    weight = models.DecimalField(
        _("weight"),
        max_digits=8,
        decimal_places=7,
        default=Decimal(0),
        validators=[MinValueValidator(Decimal(-1)), MaxValueValidator(Decimal(1))],
        help_text=_("Share of the mark, from -1 (-100 %) to 1 (100 %)."),
    )
    feedback = models.TextField(_("feedback"), blank=True, validators=[validate_text])

    class Meta(Orderable.Meta):
        verbose_name = _("option")
        verbose_name_plural = _("options")
        constraints = [
            models.CheckConstraint(
                condition=Q(weight__gte=-1, weight__lte=1), name="quizzes_choice_weight_range"
            )
        ]

    def __str__(self) -> str:
        return Truncator(self.text).chars(40)


class Blank(Orderable):
    """A blank of a fill-in-the-blank question and the answers it accepts.

    The n-th blank (by ``sort_order``) is the n-th ``____`` in the stem. Answers are
    compared after ``quizzes.bank.normalise.normalise_answer``; the first one is shown as
    the correct answer.
    """

    question = ParentalKey(Question, on_delete=models.CASCADE, related_name="blanks")
    answers = models.JSONField(_("accepted answers"), default=list)

    class Meta(Orderable.Meta):
        verbose_name = _("blank")
        verbose_name_plural = _("blanks")

    def __str__(self) -> str:
        return " / ".join(self.answers)
