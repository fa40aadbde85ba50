"""Quizzes, the answers a member sends, and attempts taken from start to submission.

Attempts go through the taking services (``attempt_start``, ``attempt_answer_save``,
``attempt_submit``), as a member's requests do.
"""

from __future__ import annotations

from typing import Any

from learning.models import Member
from quizzes.models import Attempt, AttemptQuestion, Question, Quiz, QuizDrawRule, QuizQuestion
from quizzes.taking.attempts import attempt_answer_save, attempt_start
from quizzes.taking.submitting import attempt_submit
from tests.factories.questions import question_create, short_answer, single_choice


def fixed_quiz(questions: list[Question], **fields: Any) -> Quiz:
    """A published topic quiz of ``questions`` in that order, one attempt, no shuffling."""
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
    """A quiz that draws ``count`` questions from the whole bank."""
    quiz = fixed_quiz([], **fields)
    QuizDrawRule.objects.create(quiz=quiz, count=count)
    return quiz


def quiz_with_short_answer(**fields: Any) -> Quiz:
    """A single choice and a short answer: a submitted attempt waits for a secretary's mark."""
    essay = question_create(short_answer())
    single = question_create(single_choice(stem="党的最高领导机关是？"))
    return fixed_quiz([single, essay], **fields)


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


def answer_all(attempt: Attempt, member: Member, *, right: bool | list[bool] = True) -> None:
    """Answer every question of ``attempt`` in order, right or wrong (per question if a list)."""
    items = list(attempt.questions.order_by("position"))
    verdicts = right if isinstance(right, list) else [right] * len(items)
    for item, correct in zip(items, verdicts, strict=True):
        response = right_answer(item.snapshot) if correct else wrong_answer(item.snapshot)
        attempt_answer_save(
            attempt=attempt, member=member, position=item.position, response=response, seq=1
        )


def take(quiz: Quiz, member: Member, *, right: bool | list[bool] = True) -> Attempt:
    """Start, answer every question (right or wrong, per question if a list) and submit."""
    attempt = attempt_start(quiz=quiz, member=member)
    answer_all(attempt, member, right=right)
    return attempt_submit(attempt=attempt, member=member)


def answer_to_grade(member: Member) -> AttemptQuestion:
    """The member's one answer that waits for a mark."""
    return AttemptQuestion.objects.get(
        attempt__member=member, state=AttemptQuestion.State.NEEDS_GRADING
    )
