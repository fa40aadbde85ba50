"""Who may see which quiz results: the scope of every results page, the grading queue, the
quizzes listed under results and the audience a quiz's not-yet list is drawn from.

Scope follows the rest of the admin (docs/roles.md): administrators and those who build
quizzes (``quizzes.change_quiz``: editors, approvers) see every attempt; a branch secretary
sees the attempts made by members of their subtree — by the organisation the member
belonged to *when the attempt started* (``Attempt.organization``), so a transfer does not
move old results between branches.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import Count, Exists, OuterRef, Q, QuerySet

from learning.integrity.selectors import can_review_flags
from learning.models import Member
from learning.people.selectors import (
    organizations_visible_to,
    secretary_roots,
    touching_subtrees_q,
    user_is_administrator,
)
from quizzes.models import Attempt, AttemptQuestion, Quiz
from quizzes.taking.availability import LISTED_KINDS

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

# Those who build quizzes see all of their results, like administrators.
ALL_RESULTS_PERMISSION = "quizzes.change_quiz"
VIEW_RESULTS_PERMISSION = "quizzes.view_attempt"
GRADE_PERMISSION = "quizzes.change_attemptquestion"
ACCEPT_FAST_PERMISSION = "quizzes.change_attempt"


def _active(user: Member | AnonymousUser) -> bool:
    return bool(user.is_authenticated and user.is_active)


def can_see_all_results(user: Member | AnonymousUser) -> bool:
    """Administrators and quiz builders see every attempt of every organisation."""
    if not _active(user):
        return False
    return user_is_administrator(user) or user.has_perm(ALL_RESULTS_PERMISSION)


_SCOPE_CACHE_ATTRIBUTE = "_quiz_results_scope"


def results_scope_paths(user: Member | AnonymousUser) -> list[str] | None:
    """``None`` for everything, else the tree paths of the top of a secretary's subtrees.

    An empty list means nothing at all (a member, or a secretary with no organisation).
    Kept on the user object, like Django's permission cache: the admin menu asks on every
    page, several times, and the answer cannot change within a request.
    """
    cached = getattr(user, _SCOPE_CACHE_ATTRIBUTE, False)
    if cached is not False:
        return cached
    paths = _scope_paths(user)
    if user.is_authenticated:
        setattr(user, _SCOPE_CACHE_ATTRIBUTE, paths)
    return paths


def _scope_paths(user: Member | AnonymousUser) -> list[str] | None:
    if can_see_all_results(user):
        return None
    if not _active(user) or not organizations_visible_to(user).exists():
        return []
    return list(secretary_roots(user).values_list("path", flat=True))


def _in_scope(paths: list[str], prefix: str) -> Q:
    condition = Q(pk__in=[])
    for path in paths:
        condition |= Q(**{f"{prefix}organization__path__startswith": path})
    return condition


def attempts_visible_to(user: Member | AnonymousUser) -> QuerySet[Attempt]:
    """The attempts ``user`` may see results of (needs ``quizzes.view_attempt``)."""
    if not _active(user) or not user.has_perm(VIEW_RESULTS_PERMISSION):
        return Attempt.objects.none()
    paths = results_scope_paths(user)
    if paths is None:
        return Attempt.objects.all()
    if not paths:
        return Attempt.objects.none()
    return Attempt.objects.filter(_in_scope(paths, ""))


def _may_in_scope(user: Member | AnonymousUser, permission: str) -> bool:
    """An active ``user`` with ``permission`` and at least some attempts in scope."""
    if not _active(user) or not user.has_perm(permission):
        return False
    return results_scope_paths(user) != []


def can_view_results(user: Member | AnonymousUser) -> bool:
    return _may_in_scope(user, VIEW_RESULTS_PERMISSION)


def can_grade(user: Member | AnonymousUser) -> bool:
    return _may_in_scope(user, GRADE_PERMISSION)


def can_accept_fast(user: Member | AnonymousUser) -> bool:
    """Reviewers of integrity flags (secretaries, administrators) with results in scope."""
    return can_review_flags(user) and _may_in_scope(user, ACCEPT_FAST_PERMISSION)


def grading_queue_for(user: Member | AnonymousUser) -> QuerySet[AttemptQuestion]:
    """Answers waiting for a person's mark, oldest submission first, within ``user``'s scope."""
    if not can_grade(user):
        return AttemptQuestion.objects.none()
    queue = AttemptQuestion.objects.filter(
        state=AttemptQuestion.State.NEEDS_GRADING, attempt__state=Attempt.State.SUBMITTED
    )
    paths = results_scope_paths(user)
    if paths is not None:
        queue = queue.filter(_in_scope(paths, "attempt__"))
    return queue.select_related(
        "attempt__quiz", "attempt__member", "attempt__organization"
    ).order_by("attempt__submitted_at", "attempt_id", "position")


# Quizzes members are expected to take (the kinds their quiz page lists) appear in the
# results before anyone has submitted, so their not-yet list can be reached. The daily
# quiz (one a day), practice and the challenge are listed once somebody has taken them.
EXPECTED_KINDS = LISTED_KINDS


def _expected_in_scope(user: Member | AnonymousUser) -> Q:
    """Published quizzes of ``EXPECTED_KINDS`` whose audience reaches ``user``'s scope.

    A quiz reaches a secretary's subtree when it has no audience (everyone), or an
    audience organisation inside the subtree or above it (a committee-wide exam).
    """
    expected = Q(is_published=True, kind__in=EXPECTED_KINDS)
    paths = results_scope_paths(user)
    if paths is None:
        return expected
    if not paths:
        return Q(pk__in=[])
    audience = Quiz.organizations.through.objects.filter(quiz=OuterRef("pk"))
    touching = audience.filter(touching_subtrees_q(paths, prefix="organization__"))
    return expected & (~Exists(audience) | Exists(touching))


def quizzes_with_results_for(user: Member | AnonymousUser) -> QuerySet[Quiz]:
    """Quizzes with submitted attempts in ``user``'s scope, and the published quizzes meant
    for members in it that nobody has submitted yet (counted as ``scoped_attempts``, with
    those ``waiting`` for grading and those ``held`` as too fast)."""
    if not can_view_results(user):
        return Quiz.objects.none()
    attempts = attempts_visible_to(user).filter(state=Attempt.State.SUBMITTED)
    return (
        Quiz.objects.filter(Q(pk__in=attempts.values("quiz_id")) | _expected_in_scope(user))
        .annotate(
            scoped_attempts=Count(
                "attempts", filter=Q(attempts__in=attempts.values("pk")), distinct=True
            ),
            waiting=Count(
                "attempts",
                filter=Q(attempts__in=attempts.filter(needs_grading=True).values("pk")),
                distinct=True,
            ),
            held=Count(
                "attempts",
                filter=Q(
                    attempts__in=attempts.filter(integrity=Attempt.Integrity.HELD).values("pk")
                ),
                distinct=True,
            ),
        )
        .order_by("-created_at", "-pk")
    )


def audience_members(quiz: Quiz, user: Member | AnonymousUser) -> QuerySet[Member]:
    """The active members ``quiz`` is meant for that ``user`` may see results of.

    The audience is the quiz's organisations and everything below them (none: everyone);
    membership is by the member's current organisation. Empty without the right to see
    results.
    """
    if not _active(user) or not user.has_perm(VIEW_RESULTS_PERMISSION):
        return Member.objects.none()
    members = Member.objects.filter(is_active=True, organization__isnull=False)
    paths = results_scope_paths(user)
    if paths is not None:
        if not paths:
            return Member.objects.none()
        members = members.filter(_in_scope(paths, ""))
    audience = list(quiz.organizations.values_list("path", flat=True))
    if audience:
        members = members.filter(_in_scope(audience, ""))
    return members
