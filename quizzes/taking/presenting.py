"""What a member is shown of a frozen question: before submitting, and in the review.

``public_question`` is the only way an attempt's question reaches a page or the API while
the attempt is in progress. It is built from an allow-list of the snapshot's keys, so the
correct options, accepted blanks, reference answer and explanation cannot slip through.
``question_review`` adds them, and is used only when ``review_allowed`` says so — and
never for a question an exam still holds back (``quizzes.taking.locks``).
"""

from __future__ import annotations

import datetime
import math
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _
from wagtail.images import get_image_model

from quizzes.bank.normalise import BLANK_MARKER
from quizzes.models import Attempt, AttemptQuestion, Question, Quiz
from quizzes.taking.locks import exam_locks

LETTERS = "ABCDEFGHIJ"


def type_label(kind: str) -> str:
    try:
        return str(Question.Type(kind).label)
    except ValueError:
        return kind


def option_letter(index: int) -> str:
    return LETTERS[index] if index < len(LETTERS) else str(index + 1)


def question_view(snapshot: dict[str, Any], choice_order: list[int]) -> dict[str, Any]:
    """What a member sees of a question (a ``question_snapshot``): the stem, the blanks,
    the options in ``choice_order`` — built from an allow-list, so no answer is in it."""
    choices = {choice["id"]: choice for choice in snapshot.get("choices", [])}
    kind = snapshot["type"]
    return {
        "type": kind,
        "type_label": type_label(kind),
        "stem": snapshot["stem"],
        "stem_parts": snapshot["stem"].split(BLANK_MARKER)
        if kind == Question.Type.FILL_BLANK
        else [],
        "blank_count": len(snapshot.get("blanks", [])),
        "image_id": snapshot.get("image_id"),
        "options": [
            {"id": choice_id, "letter": option_letter(index), "text": choices[choice_id]["text"]}
            for index, choice_id in enumerate(choice_order)
            if choice_id in choices
        ],
    }


def public_question(item: AttemptQuestion) -> dict[str, Any]:
    """The question as asked: stem, options in the attempt's order, the saved answer."""
    return {
        "position": item.position,
        **question_view(item.snapshot, item.choice_order),
        "mark": str(item.max_mark),
        "response": item.response,
        "seq": item.response_seq,
        "answered": item.response is not None,
        "held": False,
    }


# Between the texts of several right options, or of several blanks.
ANSWER_SEPARATOR = "；"


def correct_answer_text(snapshot: dict[str, Any]) -> str:
    """The right answer as a member reads it: the right options' texts, 对/错, the
    accepted blanks, or the reference answer.

    Options are named by their text, never by a letter: letters follow the order a view
    shows (each attempt shuffles its own, practice and the wrong-answer book show the bank's
    order), so "D" on the result page could be "B" in the wrong-answer book. Several right
    options are listed in the bank's order, the same in every view.
    """
    kind = snapshot["type"]
    if kind == Question.Type.TRUE_FALSE:
        return _("True") if snapshot.get("true_false_answer") else _("False")
    if kind == Question.Type.FILL_BLANK:
        return ANSWER_SEPARATOR.join(
            " / ".join(accepted) for accepted in snapshot.get("blanks", [])
        )
    if kind == Question.Type.SHORT_ANSWER:
        return snapshot.get("reference_answer", "")
    return ANSWER_SEPARATOR.join(
        choice["text"] for choice in snapshot.get("choices", []) if choice["is_correct"]
    )


def question_feedback(item: AttemptQuestion) -> dict[str, Any]:
    """The verdict on one scored question: right or wrong, the right answer, 解析."""
    snapshot = item.snapshot
    return {
        "state": item.state,
        "state_label": str(AttemptQuestion.State(item.state).label),
        "correct": item.state == AttemptQuestion.State.CORRECT,
        "mark": None if item.mark is None else str(item.mark),
        "correct_answer": correct_answer_text(snapshot),
        "correct_option_ids": [c["id"] for c in snapshot.get("choices", []) if c["is_correct"]],
        "correct_value": snapshot.get("true_false_answer")
        if snapshot["type"] == Question.Type.TRUE_FALSE
        else None,
        "explanation": snapshot.get("explanation", ""),
        "comment": item.grader_comment,
        "held": False,
    }


def checked_feedback(item: AttemptQuestion) -> dict[str, Any]:
    """The feedback on an answer just checked, without the answer while an exam holds
    the question back (an attempt that drew it before the exam was published)."""
    feedback = question_feedback(item)
    if not exam_locks().locked_ids([item.question_id]):
        return feedback
    return {
        **feedback,
        "correct_answer": "",
        "correct_option_ids": [],
        "correct_value": None,
        "explanation": "",
        "held": True,
    }


def question_review(item: AttemptQuestion) -> dict[str, Any]:
    return {**public_question(item), "feedback": question_feedback(item)}


def review_allowed(attempt: Attempt, quiz: Quiz | None = None) -> bool:
    """Whether the member may now see right answers and explanations of ``attempt``."""
    if attempt.state != Attempt.State.SUBMITTED:
        return False
    if attempt.review in (Quiz.Review.AFTER_EACH, Quiz.Review.AFTER_SUBMIT):
        return True
    if attempt.review == Quiz.Review.AFTER_CLOSE:
        quiz = quiz or attempt.quiz
        return bool(quiz.closes_at and timezone.now() >= quiz.closes_at)
    return False


def attempt_items(attempt: Attempt, *, review: bool) -> list[dict[str, Any]]:
    """The attempt's questions for a page or the API, with feedback only where allowed.

    During an attempt that shows answers after each question, questions already answered
    carry their feedback (the member has seen it); nothing else does.
    """
    items = list(attempt.questions.order_by("position"))
    if attempt.quiz.kind == Quiz.Kind.CHALLENGE:
        # A challenge draws more questions than it asks and asks them one at a time: the
        # questions answered and, while it runs, the next one; never further ahead, and
        # the review leaves out the unasked ones (it would hand out answers to the bank).
        asked = [item for item in items if item.response is not None]
        if attempt.state == Attempt.State.IN_PROGRESS:
            asked += [item for item in items if item.response is None][:1]
        items = asked
    if review and attempt.too_fast and attempt.integrity != Attempt.Integrity.CLEAR:
        # Answered faster than it can be read and not (yet) accepted: a script submitting
        # at machine speed to read the answers gets none (docs/integrity.md).
        review = False
    feedback = [
        item
        for item in items
        # The review shows the answers of the questions the member answered: a blank
        # submission is not a way to collect the bank's answers.
        if (review and item.response is not None)
        or (attempt.review == Quiz.Review.AFTER_EACH and item.mark is not None)
    ]
    held = _held_back(feedback)
    with_feedback = {item.position for item in feedback}
    shown = []
    for item in items:
        if item.question_id in held:
            # Locked by an exam: the member's own answer, but no verdict, right answer or
            # explanation until the lock ends (quizzes.taking.locks).
            shown.append(
                {**public_question(item), "held": True, "held_until": held[item.question_id]}
            )
        elif item.position in with_feedback:
            shown.append(question_review(item))
        else:
            shown.append(public_question(item))
    return shown


def _held_back(items: list[AttemptQuestion]) -> dict[int, datetime.datetime | None]:
    """Which of ``items``' questions exams lock now, and when each is free again."""
    if not items:
        return {}
    locks = exam_locks()
    locked = locks.locked_ids(item.question_id for item in items)
    if not locked:
        return {}
    return {pk: lock.until for pk, lock in locks.locks_of(locked).items()}


def with_images(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``items`` with each question's image (a Wagtail image) for the templates, loaded
    in one query whatever the number of questions that have one."""
    ids = {item["image_id"] for item in items if item.get("image_id")}
    images = get_image_model().objects.in_bulk(ids) if ids else {}
    for item in items:
        item["image"] = images.get(item.get("image_id"))
    return items


def seconds_left(attempt: Attempt) -> int | None:
    """The server's count of seconds to the deadline (None without one)."""
    if attempt.deadline is None:
        return None
    # Rounded up, so the page's countdown never ends before the server's deadline.
    return max(0, math.ceil((attempt.deadline - timezone.now()).total_seconds()))
