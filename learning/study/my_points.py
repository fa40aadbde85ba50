"""What a member's *My points* page shows: today's points per rule against its cap,
the total, and where they and their branch stand this week and this month."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.utils import timezone

from learning.common.periods import DateRange, Period, period_range
from learning.models import Member, MemberRuleDayPoints, Organization, PointsRule
from learning.points.leaderboards import BranchStanding, branch_ranking
from learning.points.member_rankings import member_points_in, member_rank_in
from learning.study.progress import StudyTimeToday, study_time_today


@dataclass(frozen=True)
class RuleProgress:
    """Today's points with one rule against its daily cap (e.g. 2 / 6)."""

    code: str
    name: str
    description: str
    points_today: int
    daily_cap: int | None
    # For the study-time rule: the minutes behind the points (today, to the next point).
    study_time: StudyTimeToday | None = None

    @property
    def percent(self) -> int:
        if not self.daily_cap:
            return 0
        return max(0, min(100, round(100 * self.points_today / self.daily_cap)))

    @property
    def capped(self) -> bool:
        return self.daily_cap is not None and self.points_today >= self.daily_cap


@dataclass(frozen=True)
class PeriodStanding:
    """Where a member and their branch stand over one period."""

    date_range: DateRange
    points: int
    my_rank: tuple[int, int] | None
    branch: BranchStanding | None
    branch_count: int


@dataclass(frozen=True)
class MemberPointsSummary:
    today: int
    total: int
    rules: list[RuleProgress]
    standings: list[PeriodStanding]
    branch: Organization | None
    root: Organization | None


def member_branch(member: Member) -> Organization | None:
    """The branch ``member``'s points count for now (see ``ledger._member_placement``)."""
    organization = member.organization
    if organization is None:
        return None
    branch = (
        Organization.objects.filter(
            path__in=organization.ancestor_paths(), kind=Organization.Kind.BRANCH
        )
        .order_by("-depth")
        .first()
    )
    return branch or organization


def member_points_summary(
    *, member: Member, today: datetime.date | None = None
) -> MemberPointsSummary:
    """What "my points" shows: today, total, each rule against its cap, week and month."""
    today = today or timezone.localdate()
    day_range = period_range(Period.DAY, today)
    points_today_by_rule = dict(
        MemberRuleDayPoints.objects.filter(member=member, day=today).values_list(
            "rule_id", "points"
        )
    )
    rules = [
        RuleProgress(
            code=rule.code,
            name=rule.display_name,
            description=rule.display_description,
            points_today=points_today_by_rule.get(rule.pk, 0),
            daily_cap=rule.daily_cap,
            study_time=(
                study_time_today(member=member, day=today) if rule.code == "study_time" else None
            ),
        )
        for rule in PointsRule.objects.filter(is_active=True).order_by("sort_order", "code")
    ]
    branch = member_branch(member)
    root = None
    standings = []
    if member.organization is not None:
        root = Organization.objects.get(path=member.organization.path[: Organization.steplen])
        for kind in (Period.WEEK, Period.MONTH):
            date_range = period_range(kind, today)
            ranking = branch_ranking(root=root, date_range=date_range, today=today)
            mine = next(
                (row for row in ranking if branch and row.organization_id == branch.pk), None
            )
            standings.append(
                PeriodStanding(
                    date_range=date_range,
                    points=member_points_in(member=member, date_range=date_range),
                    my_rank=member_rank_in(member=member, root=branch, date_range=date_range)
                    if branch
                    else None,
                    branch=mine,
                    branch_count=len(ranking),
                )
            )
    return MemberPointsSummary(
        today=member_points_in(member=member, date_range=day_range),
        total=member_points_in(member=member, date_range=period_range(Period.ALL, today)),
        rules=rules,
        standings=standings,
        branch=branch,
        root=root,
    )
