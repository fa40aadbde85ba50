"""Quizzes and bank questions of every type for the attempt tests."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

from django.utils import timezone

from quizzes.bank.formats.base import ParsedChoice, ParsedQuestion
from quizzes.models import Question, Quiz, QuizDrawRule, QuizQuestion
from tests.quizzes.factories import question_create, single_choice


def multiple_choice(
    stem: str = "下列属于“四个意识”的有？", correct: tuple[int, ...] = (0, 1)
) -> ParsedQuestion:
    options = ("政治意识", "大局意识", "市场意识", "品牌意识")
    share = Decimal(1) / len(correct)
    return ParsedQuestion(
        type=Question.Type.MULTIPLE,
        stem=stem,
        choices=[
            ParsedChoice(
                text=text,
                is_correct=index in correct,
                weight=share.quantize(Decimal("0.0000001")) if index in correct else Decimal(-1),
            )
            for index, text in enumerate(options)
        ],
        category_path=["理论"],
        explanation="四个意识：政治意识、大局意识、核心意识、看齐意识。",
    )


def true_false(
    stem: str = "党的最高领导机关是党的全国代表大会和它所产生的中央委员会。", answer: bool = True
) -> ParsedQuestion:
    return ParsedQuestion(
        type=Question.Type.TRUE_FALSE,
        stem=stem,
        true_false_answer=answer,
        category_path=["党章"],
        explanation="见党章第十条。",
    )


def fill_blank(
    stem: str = "中国共产党成立于____年。", answers: tuple[str, ...] = ("1921",)
) -> ParsedQuestion:
    return ParsedQuestion(
        type=Question.Type.FILL_BLANK,
        stem=stem,
        blanks=[list(answers)],
        category_path=["党史"],
    )


def short_answer(stem: str = "简述党的群众路线。") -> ParsedQuestion:
    return ParsedQuestion(
        type=Question.Type.SHORT_ANSWER,
        stem=stem,
        reference_answer="一切为了群众，一切依靠群众，从群众中来，到群众中去。",
        category_path=["理论"],
    )


def bank_of_each_type() -> dict[str, Question]:
    return {
        "single": question_create(single_choice()),
        "multiple": question_create(multiple_choice()),
        "true_false": question_create(true_false()),
        "fill_blank": question_create(fill_blank()),
    }


def fixed_quiz(questions: list[Question], **fields: Any) -> Quiz:
    values: dict[str, Any] = {
        "title": "专项答题：党章",
        "kind": Quiz.Kind.TOPIC,
        "is_published": True,
        "shuffle_options": False,
        "attempts_allowed": 1,
        "min_seconds_per_question": 0,
    }
    values.update(fields)
    organizations = values.pop("organizations", [])
    quiz = Quiz.objects.create(**values)
    # A ParentalManyToManyField keeps the set in memory until the quiz is saved.
    quiz.organizations.set(organizations)
    quiz.save()
    for order, question in enumerate(questions):
        QuizQuestion.objects.create(quiz=quiz, question=question, sort_order=order)
    return quiz


def drawn_quiz(count: int, **fields: Any) -> Quiz:
    quiz = fixed_quiz([], **fields)
    QuizDrawRule.objects.create(quiz=quiz, count=count)
    return quiz


def right_answer(snapshot: dict[str, Any]) -> dict[str, Any]:
    """The correct response to a frozen question (what a member who knows would send)."""
    kind = snapshot["type"]
    if kind in (Question.Type.SINGLE, Question.Type.MULTIPLE):
        return {"choices": [choice["id"] for choice in snapshot["choices"] if choice["is_correct"]]}
    if kind == Question.Type.TRUE_FALSE:
        return {"value": snapshot["true_false_answer"]}
    if kind == Question.Type.FILL_BLANK:
        return {"blanks": [accepted[0] for accepted in snapshot["blanks"]]}
    return {"text": "一切为了群众"}


def wrong_answer(snapshot: dict[str, Any]) -> dict[str, Any]:
    kind = snapshot["type"]
    if kind in (Question.Type.SINGLE, Question.Type.MULTIPLE):
        return {"choices": [next(c["id"] for c in snapshot["choices"] if not c["is_correct"])]}
    if kind == Question.Type.TRUE_FALSE:
        return {"value": not snapshot["true_false_answer"]}
    if kind == Question.Type.FILL_BLANK:
        return {"blanks": ["不知道" for _ in snapshot["blanks"]]}
    return {"text": "不知道"}


def later(minutes: float) -> datetime.datetime:
    return timezone.now() + datetime.timedelta(minutes=minutes)
