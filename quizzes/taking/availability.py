"""Who may take which quiz, and a member's record at each (selectors, read only).

The lists of quizzes on the web and in the API, the quiz pages and the admin's home panel
read these, so "open", "meant for the member" and "attempts left" mean the same everywhere.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from typing import Any

from django.db.models import Count, Max, Q, QuerySet
from django.utils import timezone

from learning.models import Member
from quizzes.models import Attempt, Quiz


def audience_filter(member: Member) -> Q:
    """Quizzes whose audience includes ``member``: no audience, or one above their branch."""
    organization = member.organization
    if organization is None:
        return Q(organizations__isnull=True)
    ancestors = organization.ancestor_paths()
    return Q(organizations__isnull=True) | Q(organizations__path__in=ancestors)


# The kinds listed as "quizzes and exams" (web and API); the daily quiz and the challenge
# have cards of their own.
LISTED_KINDS = (Quiz.Kind.WEEKLY, Quiz.Kind.TOPIC, Quiz.Kind.EXAM, Quiz.Kind.LESSON)


def attempts_left(quiz: Quiz, used: int) -> int | None:
    """How many more attempts a member who has used ``used`` may start; None: no limit."""
    if not quiz.attempts_allowed:
        return None
    return max(0, quiz.attempts_allowed - used)


def quizzes_open_at(at: datetime.datetime) -> QuerySet[Quiz]:
    """Published quizzes whose window (opens, closes) holds ``at``, for anyone."""
    return (
        Quiz.objects.filter(is_published=True)
        .filter(Q(opens_at__isnull=True) | Q(opens_at__lte=at))
        .filter(Q(closes_at__isnull=True) | Q(closes_at__gt=at))
    )


def quizzes_open_to(member: Member, *, at: datetime.datetime | None = None) -> QuerySet[Quiz]:
    """Published quizzes that are open now and meant for ``member`` (daily quizzes too)."""
    return quizzes_open_at(at or timezone.now()).filter(audience_filter(member)).distinct()


def quiz_records_of(member_id: int, quizzes: Iterable[Quiz]) -> dict[int, dict[str, Any]]:
    """The member's attempts at each quiz: used, best score, in progress, latest, held
    for the secretary; one query."""
    return {
        row["quiz_id"]: row
        for row in Attempt.objects.filter(member_id=member_id, quiz__in=[q.pk for q in quizzes])
        .values("quiz_id")
        .annotate(
            used=Count("pk"),
            best=Max("score"),
            # At most one attempt per quiz is in progress (a database constraint).
            in_progress=Max("pk", filter=Q(state=Attempt.State.IN_PROGRESS)),
            latest=Max("pk"),
            held=Count(
                "pk",
                filter=Q(state=Attempt.State.SUBMITTED, integrity=Attempt.Integrity.HELD),
            ),
        )
        .order_by()
    }


def quiz_is_for(quiz: Quiz, member: Member) -> bool:
    return Quiz.objects.filter(pk=quiz.pk).filter(audience_filter(member)).exists()
