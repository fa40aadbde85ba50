"""Reads of the question bank that several callers share."""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch, Q, QuerySet

from quizzes.bank.formats.base import ParsedChoice, ParsedQuestion
from quizzes.models import (
    Blank,
    Choice,
    Question,
    QuestionCategory,
    QuizDrawRule,
    TaggedQuestion,
)


def category_by_path(names: list[str]) -> QuestionCategory | None:
    """The category reached by following ``names`` from a root, or None."""
    category: QuestionCategory | None = None
    for name in names:
        if category is None:
            candidates = QuestionCategory.get_root_nodes()
        else:
            candidates = category.get_children()
        category = candidates.filter(name=name).order_by("path").first()
        if category is None:
            return None
    return category


def category_path_names() -> dict[int, list[str]]:
    """Every category's path of names, by id, from one query."""
    categories = list(QuestionCategory.objects.order_by("path").only("id", "path", "name"))
    by_path = {category.path: category for category in categories}
    step = QuestionCategory.steplen
    return {
        category.pk: [
            by_path[category.path[:end]].name for end in range(step, len(category.path) + 1, step)
        ]
        for category in categories
    }


def questions_for_export(
    *, category: QuestionCategory | None = None, include_retired: bool = False
) -> QuerySet[Question]:
    """The bank (or a category and everything below it), by category then age, prefetched."""
    questions = Question.objects.all()
    if category is not None:
        questions = questions.filter(category__in=category.subtree())
    if not include_retired:
        questions = questions.filter(status=Question.Status.ACTIVE)
    return questions.order_by("category__path", "pk").prefetch_related(
        Prefetch("choices", queryset=Choice.objects.order_by("sort_order", "pk")),
        Prefetch("blanks", queryset=Blank.objects.order_by("sort_order", "pk")),
        Prefetch(
            "tagged_items", queryset=TaggedQuestion.objects.select_related("tag").order_by("pk")
        ),
    )


def question_as_parsed(question: Question, *, category_path: list[str]) -> ParsedQuestion:
    """A question of the bank in the form the importers produce (for export)."""
    return ParsedQuestion(
        type=question.type,
        stem=question.stem,
        choices=[
            ParsedChoice(
                text=choice.text,
                is_correct=choice.is_correct,
                weight=choice.weight,
                feedback=choice.feedback,
            )
            for choice in question.choices.all()
        ],
        blanks=[list(blank.answers) for blank in question.blanks.all()],
        true_false_answer=question.true_false_answer,
        reference_answer=question.reference_answer,
        explanation=question.explanation,
        difficulty=question.difficulty,
        category_path=list(category_path),
        tags=[item.tag.name for item in question.tagged_items.all()],
        title=question.title,
        source=question.pk,
    )


def questions_as_parsed(questions: QuerySet[Question]) -> list[ParsedQuestion]:
    paths = category_path_names()
    return [
        question_as_parsed(question, category_path=paths[question.category_id])
        for question in questions
    ]


def question_snapshot(question: Question) -> dict[str, Any]:
    """What an attempt copies when it starts: the content as it is now, as plain JSON.

    An attempt keeps this copy (with ``id`` and ``version``), never a reference to the
    live options, so editing or retiring the question later changes nothing in it.
    """
    return {
        "id": question.pk,
        "version": question.version,
        "type": question.type,
        "stem": question.stem,
        "image_id": question.image_id,
        "choices": [
            {
                "id": choice.pk,
                "text": choice.text,
                "is_correct": choice.is_correct,
                "weight": str(choice.weight),
                "feedback": choice.feedback,
            }
            for choice in question.choices.all()
        ],
        "blanks": [list(blank.answers) for blank in question.blanks.all()],
        "true_false_answer": question.true_false_answer,
        "reference_answer": question.reference_answer,
        "explanation": question.explanation,
    }


def draw_rule_filter(rule: QuizDrawRule) -> Q:
    """The questions a drawing rule describes (whatever their status), as a filter.

    The one definition of a rule's pool: drawing for an attempt, the admin's check of a
    rule and the exam locks (``quizzes.taking.locks``) all read it, so they cannot disagree.
    Reads ``rule.category`` (select it with the rule).
    """
    condition = Q(difficulty__gte=rule.min_difficulty, difficulty__lte=rule.max_difficulty)
    if rule.category_id:
        condition &= Q(category__path__startswith=rule.category.path)
    if rule.tag_id:
        # A subquery rather than a join: no duplicate rows, and safe inside exclude().
        tagged = TaggedQuestion.objects.filter(tag_id=rule.tag_id).values("content_object_id")
        condition &= Q(pk__in=tagged)
    if rule.question_type:
        condition &= Q(type=rule.question_type)
    return condition
