"""The secretary's panel on the admin home: their organisation's headline numbers.

It lives in ``quizzes`` because it shows quiz figures beside the learning ones, and only
``quizzes`` may read both (``learning`` never imports quizzes; docs/design.md).
"""

from __future__ import annotations

import datetime
from typing import Any

from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone
from wagtail.admin.ui.components import Component

from learning.integrity.selectors import open_flags_count
from learning.models import Member
from learning.study.headline import organisation_headline, scope_members, secretary_scope
from quizzes.models import Attempt, Quiz
from quizzes.taking.availability import quizzes_open_at

# Quizzes a member is expected to take while they are open. The daily quiz and practice
# are habits, not obligations, and lesson quizzes belong to their lesson.
EXPECTED_KINDS = (Quiz.Kind.WEEKLY, Quiz.Kind.TOPIC, Quiz.Kind.EXAM)


def quizzes_not_taken_count(*, members: QuerySet[Member], now: datetime.datetime) -> int:
    """Open quizzes not yet submitted, counted once per member and quiz.

    A member counts for a quiz when the quiz's audience includes them (no audience: all).
    Three queries however many quizzes and members: the admin home asks on every visit.
    """
    quizzes = list(
        quizzes_open_at(now).filter(kind__in=EXPECTED_KINDS).prefetch_related("organizations")
    )
    if not quizzes:
        return 0
    took = set(
        Attempt.objects.filter(quiz__in=quizzes, member__in=members, state=Attempt.State.SUBMITTED)
        .values_list("quiz_id", "member_id")
        .distinct()
    )
    member_paths = list(members.values_list("pk", "organization__path"))
    missing = 0
    for quiz in quizzes:
        audience = tuple(organization.path for organization in quiz.organizations.all())
        missing += sum(
            1
            for member_id, path in member_paths
            if (not audience or path.startswith(audience)) and (quiz.pk, member_id) not in took
        )
    return missing


class OrganisationSummaryPanel(Component):
    """Members, active this week, overdue study, quizzes not taken, integrity flags waiting
    for review: the secretary's subtree."""

    name = "organisation_summary"
    order = 50
    template_name = "quizzes/admin/organisation_summary_panel.html"

    def __init__(self, user: Member, now: datetime.datetime | None = None) -> None:
        self.user = user
        self.now = now or timezone.now()

    def get_context_data(self, parent_context: Any = None) -> dict[str, Any]:
        headline = organisation_headline(user=self.user, now=self.now)
        _roots, scope = secretary_scope(self.user)
        return {
            "headline": headline,
            "quizzes_not_taken": quizzes_not_taken_count(
                members=scope_members(scope), now=self.now
            ),
            "members_url": reverse("wagtailusers_users:index"),
            "assignments_url": reverse("assignments:index"),
            "results_url": reverse("quizzes_results"),
            "flags_open": open_flags_count(self.user),
            "flags_url": reverse("learning_integrity_flags"),
        }


def organisation_summary_panel_for(user: Member) -> OrganisationSummaryPanel | None:
    """The panel for a secretary; None for anybody assigned to no organisation."""
    roots, _scope = secretary_scope(user)
    if not roots:
        return None
    return OrganisationSummaryPanel(user)
