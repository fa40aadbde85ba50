"""Attempts as the subject of integrity flags: what dismissing and confirming do to them.

Registered with ``learning.integrity.subjects`` when the app is ready. Both run inside the
reviewer's decision, with the attempt's row locked:

- **dismissed**: once no flag of the attempt is open any more, it is clear again and its
  points are awarded, through the same idempotent award as at submit (a second dismissal
  awards nothing);
- **confirmed**: the attempt is reviewed without points: held points are never awarded,
  and points awarded already (a flag raised after the award, such as shared answers
  found when another member submitted) are reversed through the ledger with the
  reviewer's reason, which the member sees on *My points*.
"""

from __future__ import annotations

import contextlib
import datetime
from collections.abc import Sequence

from django.db.models import Count, Q
from django.urls import reverse
from django.utils.translation import gettext as _

from learning.integrity.selectors import subject_flags_open
from learning.integrity.services import DISMISS, FlagDecisionError, flag_decide
from learning.integrity.subjects import SubjectType, subject_id, subject_type_register
from learning.models import IntegrityFlag, Member
from learning.points.ledger import points_reverse_source
from quizzes.models import Attempt, AttemptQuestion
from quizzes.taking.integrity import ATTEMPT_SUBJECT, attempt_subject_key
from quizzes.taking.submitting import ATTEMPT_ROW, attempt_points_award


def _attempt_id(flag: IntegrityFlag) -> int | None:
    key = subject_id(flag)
    return int(key) if key.isdigit() else None


def _attempt_of(flag: IntegrityFlag) -> Attempt | None:
    pk = _attempt_id(flag)
    if pk is None:
        return None
    return (
        Attempt.objects.select_for_update(of=ATTEMPT_ROW)
        .select_related("quiz")
        .filter(pk=pk)
        .first()
    )


def _dismissed(flag: IntegrityFlag, by: Member) -> None:
    attempt = _attempt_of(flag)
    if attempt is None or attempt.integrity != Attempt.Integrity.HELD:
        return
    if subject_flags_open(flag.subject_key).exists():
        return  # another flag of the attempt still waits for its review
    attempt.integrity = Attempt.Integrity.CLEAR
    attempt.save(update_fields=["integrity"])
    if attempt.is_submitted and not attempt.needs_grading:
        attempt_points_award(attempt)


def _confirmed(flag: IntegrityFlag, by: Member) -> None:
    attempt = _attempt_of(flag)
    if attempt is None:
        return
    reason = _("Integrity review: %(note)s") % {"note": flag.review_note}
    points_reverse_source(source=attempt, reason=reason, by=by)
    attempt.integrity = Attempt.Integrity.VOID
    attempt.points = 0
    attempt.save(update_fields=["integrity", "points"])


def _urls(flags: Sequence[IntegrityFlag]) -> dict[int, str]:
    """The quiz results page of each flag's attempt, in one query for a page of flags."""
    attempt_ids = {flag.pk: _attempt_id(flag) for flag in flags}
    quizzes = dict(
        Attempt.objects.filter(pk__in=[pk for pk in attempt_ids.values() if pk]).values_list(
            "pk", "quiz_id"
        )
    )
    return {
        flag_pk: reverse("quizzes_quiz_results", args=[quizzes[attempt_id]])
        for flag_pk, attempt_id in attempt_ids.items()
        if attempt_id in quizzes
    }


UNANSWERED = AttemptQuestion.State.UNANSWERED


def _context(flag: IntegrityFlag) -> list[tuple[str, str]]:
    """The member's last 90 days of attempts beside this one: pace, accuracy, count."""
    pk = _attempt_id(flag)
    attempt = Attempt.objects.filter(pk=pk).first() if pk is not None else None
    if attempt is None:
        return []
    since = attempt.started_at - datetime.timedelta(days=90)
    earlier = list(
        Attempt.objects.filter(
            member_id=attempt.member_id,
            state=Attempt.State.SUBMITTED,
            submitted_at__gte=since,
            submitted_at__lt=attempt.started_at,
        )
        .annotate(answered=Count("questions", filter=~Q(questions__state=UNANSWERED)))
        .order_by("-submitted_at")[:50]
    )
    answered = sum(row.answered for row in earlier)
    seconds = sum((row.submitted_at - row.started_at).total_seconds() for row in earlier)
    right = sum(row.correct_count for row in earlier)
    rows = [(_("Attempts in the 90 days before"), str(len(earlier)))]
    if answered:
        rows.append((_("Seconds per question usually"), f"{seconds / answered:.0f}"))
        rows.append((_("Right usually (%)"), f"{right * 100 / answered:.0f}"))
    this_answered = attempt.questions.exclude(state=AttemptQuestion.State.UNANSWERED).count()
    if this_answered and attempt.submitted_at:
        elapsed = (attempt.submitted_at - attempt.started_at).total_seconds()
        rows.append((_("Seconds per question in this attempt"), f"{elapsed / this_answered:.0f}"))
    return rows


def attempt_flags_dismiss(*, attempt: Attempt, by: Member, note: str) -> Attempt:
    """Dismiss every open flag of ``attempt`` (the quiz results' "accept as genuine")."""
    for flag in list(subject_flags_open(attempt_subject_key(attempt.pk))):
        with contextlib.suppress(FlagDecisionError):  # decided meanwhile by someone else
            flag_decide(flag=flag, by=by, decision=DISMISS, note=note)
    return Attempt.objects.get(pk=attempt.pk)


def attempt_subject_register() -> None:
    subject_type_register(
        SubjectType(
            prefix=ATTEMPT_SUBJECT,
            dismissed=_dismissed,
            confirmed=_confirmed,
            urls=_urls,
            context=_context,
        )
    )
