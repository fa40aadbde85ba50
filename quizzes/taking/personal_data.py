"""The member's quiz attempts and wrong-answer book in their data export, and their
short answers on erasure (``learning.people.privacy``).

An attempt is exported as its result page shows it: the member's own answer to every
question asked, and the verdict, mark and grader's comment only where the review rules
let the member see them (``attempt_items``: never during an exam lock, never for an
unaccepted too-fast attempt). Right answers and explanations are not the member's data
and stay out, so the export is no way around the locks.

A short answer is free text the member wrote and may say anything about them; erasure
empties it and the grader's comment on it, keeping the mark, so scores and points stay.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.utils.html import strip_tags
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext

from learning.models import Member
from learning.people.privacy import (
    EXPORT_CHUNK,
    PersonalDataSection,
    local_time,
    personal_data_section_register,
)
from quizzes.models import Attempt, AttemptQuestion, Question, WrongAnswer
from quizzes.taking.practice import without_held_questions
from quizzes.taking.presenting import ANSWER_SEPARATOR, attempt_items, review_allowed


def response_text(snapshot: dict[str, Any], response: Any) -> str:
    """A saved answer as the member gave it: option texts, 对/错, blanks or their text."""
    if not isinstance(response, dict):
        return ""
    if "text" in response:
        return str(response.get("text") or "")
    if "value" in response:
        return _("True") if response.get("value") else _("False")
    if "blanks" in response:
        return ANSWER_SEPARATOR.join(str(blank) for blank in response.get("blanks") or [])
    texts = {choice["id"]: choice["text"] for choice in snapshot.get("choices", [])}
    chosen = response.get("choices") or []
    return ANSWER_SEPARATOR.join(strip_tags(texts.get(pk, "")) for pk in chosen if pk in texts)


def _answers(attempt: Attempt) -> list[dict[str, Any]]:
    snapshots = dict(attempt.questions.values_list("position", "snapshot"))
    rows = []
    for item in attempt_items(attempt, review=review_allowed(attempt)):
        feedback = item.get("feedback") or {}
        rows.append(
            {
                _("Question"): strip_tags(item["stem"]),
                _("Your answer"): response_text(snapshots[item["position"]], item["response"]),
                _("Result"): feedback.get("state_label", ""),
                _("Mark given"): feedback.get("mark"),
                pgettext("personal data", "Comment"): feedback.get("comment", ""),
            }
        )
    return rows


def _attempts(member: Member) -> Iterator[dict[str, Any]]:
    attempts = (
        Attempt.objects.filter(member=member).select_related("quiz").order_by("started_at", "pk")
    )
    for attempt in attempts.iterator(chunk_size=EXPORT_CHUNK):
        submitted = attempt.state == Attempt.State.SUBMITTED
        yield {
            _("Quiz"): attempt.quiz.title,
            _("Attempt number"): attempt.number,
            pgettext("personal data", "Started at"): local_time(attempt.started_at),
            _("Submitted at"): local_time(attempt.submitted_at),
            _("Result"): str(Attempt.ResultState(attempt.result_state).label),
            _("Score"): str(attempt.score) if submitted and attempt.score is not None else None,
            _("Full marks"): str(attempt.max_score),
            _("Points awarded"): attempt.points,
            _("Answers"): _answers(attempt),
        }


def _wrong_answers(member: Member) -> Iterator[dict[str, Any]]:
    # Questions an exam holds back stay out until the lock ends, as in the book itself.
    entries = (
        without_held_questions(WrongAnswer.objects.filter(member=member))
        .select_related("question")
        .order_by("last_wrong_at", "pk")
    )
    for entry in entries.iterator(chunk_size=EXPORT_CHUNK):
        yield {
            _("Question"): entry.question.title or strip_tags(entry.question.stem),
            _("Times wrong"): entry.wrong_count,
            _("Last wrong"): local_time(entry.last_wrong_at),
            _("Mastered at"): local_time(entry.mastered_at),
            _("Removed at"): local_time(entry.removed_at),
        }


def _short_answers_empty(member: Member, former_name: str) -> int:
    """Empty the text of the member's short answers and the comments on them."""
    items = AttemptQuestion.objects.filter(
        attempt__member=member, snapshot__type=Question.Type.SHORT_ANSWER
    ).exclude(response__isnull=True, grader_comment="")
    return items.update(response=None, grader_comment="")


def quiz_sections_register() -> None:
    personal_data_section_register(
        PersonalDataSection(
            key="quiz_attempts",
            label=gettext_lazy("Quiz attempts"),
            rows=_attempts,
            erase=_short_answers_empty,
        )
    )
    personal_data_section_register(
        PersonalDataSection(
            key="wrong_answers", label=gettext_lazy("Wrong-answer book"), rows=_wrong_answers
        )
    )
