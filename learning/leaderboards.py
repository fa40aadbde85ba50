"""Read side of the points ledger: rankings, standings and subtree figures.

Every figure here is a sum over the small totals tables that ``learning.ledger``
maintains (one row per branch or member per period), never a scan of the ledger:
a year's branch ranking reads about as many rows as there are branches.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass
from fractions import Fraction

from django.db.models import Max, QuerySet, Sum
from django.utils import timezone

from learning.models import (
    BranchPeriodTotal,
    HeadcountChange,
    LeaderboardSettings,
    Member,
    MemberPeriodPoints,
    MemberRuleDayPoints,
    Organization,
    PointsRule,
)
from learning.periods import DateRange, Period, headcount_day, period_range

Metric = LeaderboardSettings.Metric


@dataclass(frozen=True)
class BranchStanding:
    """One branch's line in a ranking."""

    organization_id: int
    name: str
    path: str
    rank: int
    points: int
    members: int
    active_members: int
    below_min_size: bool
    metric_value: Fraction

    @property
    def per_member(self) -> float:
        return round(self.points / self.members, 2) if self.members else 0.0

    @property
    def participation(self) -> float:
        """Share of members active in the period, 0–1."""
        if not self.members:
            return 0.0
        return min(1.0, self.active_members / self.members)


@dataclass(frozen=True)
class MemberStanding:
    member_id: int
    display_name: str
    organization_name: str
    rank: int
    points: int


@dataclass(frozen=True)
class SubtreeFigures:
    """Totals for a whole subtree over one period (e.g. today on an office screen)."""

    points: int
    active_members: int
    members: int

    @property
    def participation(self) -> float:
        return min(1.0, self.active_members / self.members) if self.members else 0.0


def leaderboard_range(kind: str, today: datetime.date | None = None) -> DateRange:
    """The current period of ``kind`` in local time (today by default)."""
    return period_range(kind, today or timezone.localdate())


def branch_ranking(
    *,
    root: Organization,
    date_range: DateRange,
    metric: str = Metric.PER_MEMBER,
    min_size: int | None = None,
    today: datetime.date | None = None,
) -> list[BranchStanding]:
    """Rank the branches in ``root``'s subtree by ``metric`` over ``date_range``.

    Member counts are the memberships on the range's last day (today while it runs).
    Branches smaller than ``min_size`` are ranked but marked. Equal values share a rank
    (1, 2, 2, 4); among them, branches keep their tree order.
    """
    if metric not in Metric.values:
        raise ValueError(f"unknown metric {metric!r}")
    if min_size is None:
        min_size = LeaderboardSettings.load().min_branch_size
    today = today or timezone.localdate()
    branches = list(
        Organization.objects.filter(path__startswith=root.path, kind=Organization.Kind.BRANCH)
        .order_by("path")
        .values_list("id", "name", "path")
    )
    if not branches:
        return []
    points, active = _branch_totals(root, date_range)
    headcounts = _branch_headcounts(
        root, [path for _id, _name, path in branches], date_range, today
    )

    unranked = []
    for order, (branch_id, name, path) in enumerate(branches):
        members = headcounts.get(path, 0)
        branch_points = points.get(branch_id, 0)
        branch_active = active.get(branch_id, 0)
        value = _metric_value(metric, branch_points, branch_active, members)
        unranked.append(
            (value, order, branch_id, name, path, branch_points, members, branch_active)
        )
    unranked.sort(key=lambda row: (-row[0], row[1]))

    standings = []
    rank = 0
    previous: Fraction | None = None
    for position, (value, _order, branch_id, name, path, pts, members, act) in enumerate(
        unranked, start=1
    ):
        if value != previous:
            rank, previous = position, value
        standings.append(
            BranchStanding(
                organization_id=branch_id,
                name=name,
                path=path,
                rank=rank,
                points=pts,
                members=members,
                active_members=act,
                below_min_size=members < min_size,
                metric_value=value,
            )
        )
    return standings


def member_ranking(
    *, root: Organization, date_range: DateRange, limit: int | None = None
) -> list[MemberStanding]:
    """Members of ``root``'s subtree by points over ``date_range``, names allowed only.

    Returns nothing when ``root`` or an organisation above it hides names; members whose
    points count for a branch that hides names are left out. Ties share a rank.
    """
    if names_hidden(root):
        return []
    hidden = list(
        Organization.objects.filter(path__startswith=root.path, hide_member_names=True).values_list(
            "path", flat=True
        )
    )
    rows = _member_totals(root, date_range)
    for path in hidden:
        # Hidden where the points count (the branch) or where the member is now (a
        # party group below a branch can hide its own members' names).
        rows = rows.exclude(branch__path__startswith=path).exclude(
            member__organization__path__startswith=path
        )
    rows = rows.values("member_id", "member__display_name")
    rows = (
        rows.annotate(total=Sum("points"), branch_name=Max("branch__name"))
        .filter(total__gt=0)
        .order_by("-total", "member_id")
    )
    if limit is not None:
        rows = rows[:limit]
    standings = []
    rank = 0
    previous: int | None = None
    for position, row in enumerate(rows, start=1):
        if row["total"] != previous:
            rank, previous = position, row["total"]
        standings.append(
            MemberStanding(
                member_id=row["member_id"],
                display_name=row["member__display_name"],
                organization_name=row["branch_name"] or "",
                rank=rank,
                points=row["total"],
            )
        )
    return standings


def member_points_in(*, member: Member, date_range: DateRange) -> int:
    """``member``'s net points over ``date_range`` (in whichever branches they earned them)."""
    rows = MemberPeriodPoints.objects.filter(member=member)
    rows = _restrict_to_range(rows, date_range)
    return rows.aggregate(total=Sum("points"))["total"] or 0


def member_rank_in(
    *, member: Member, root: Organization, date_range: DateRange
) -> tuple[int, int] | None:
    """``member``'s rank among the members of ``root``'s subtree, and how many there are.

    Only the member sees this about themselves, so it counts everyone, including
    branches that hide names. Members with no points share the last place.
    """
    mine = _member_totals(root, date_range).filter(member=member).aggregate(t=Sum("points"))["t"]
    mine = mine or 0
    ahead = (
        _member_totals(root, date_range)
        .values("member_id")
        .annotate(total=Sum("points"))
        .filter(total__gt=mine)
        .count()
    )
    members = organization_headcount(root, headcount_day(date_range, timezone.localdate()))
    if not members:
        return None
    return ahead + 1, max(members, ahead + 1)


def subtree_figures(*, root: Organization, date_range: DateRange) -> SubtreeFigures:
    """Points, active members and members of ``root``'s whole subtree over ``date_range``.

    A member who moved between branches during the range counts as active in each.
    """
    if date_range.is_stored:
        totals = BranchPeriodTotal.objects.filter(
            branch__path__startswith=root.path, period=date_range.kind, start=date_range.start
        ).aggregate(points=Sum("points"), active=Sum("active_members"))
        points, active = totals["points"] or 0, totals["active"] or 0
    else:
        by_branch_points, by_branch_active = _custom_range_totals(root, date_range)
        points, active = sum(by_branch_points.values()), sum(by_branch_active.values())
    members = organization_headcount(root, headcount_day(date_range, timezone.localdate()))
    return SubtreeFigures(points=points, active_members=active, members=members)


def organization_headcount(organization: Organization, day: datetime.date) -> int:
    """Members in ``organization``'s subtree on ``day``, from the headcount changes."""
    total = HeadcountChange.objects.filter(
        organization__path__startswith=organization.path, day__lte=day
    ).aggregate(total=Sum("delta"))["total"]
    return total or 0


def names_hidden(organization: Organization) -> bool:
    """True when ``organization`` or an organisation above it hides member names."""
    return Organization.objects.filter(
        path__in=organization.ancestor_paths(), hide_member_names=True
    ).exists()


# --- internals -----------------------------------------------------------------


def _metric_value(metric: str, points: int, active: int, members: int) -> Fraction:
    if metric == Metric.TOTAL:
        return Fraction(points)
    if not members:
        return Fraction(0)
    if metric == Metric.PARTICIPATION:
        return Fraction(min(active, members), members)
    return Fraction(points, members)


def _branch_totals(
    root: Organization, date_range: DateRange
) -> tuple[dict[int, int], dict[int, int]]:
    if not date_range.is_stored:
        return _custom_range_totals(root, date_range)
    rows = BranchPeriodTotal.objects.filter(
        branch__path__startswith=root.path, period=date_range.kind, start=date_range.start
    ).values_list("branch_id", "points", "active_members")
    points = {branch_id: pts for branch_id, pts, _active in rows}
    active = {branch_id: act for branch_id, _pts, act in rows}
    return points, active


def _custom_range_totals(
    root: Organization, date_range: DateRange
) -> tuple[dict[int, int], dict[int, int]]:
    """Totals over any range of days, from the per-day rows (no distinct counts stored)."""
    day_rows = BranchPeriodTotal.objects.filter(
        branch__path__startswith=root.path,
        period=Period.DAY,
        start__gte=date_range.start,
        start__lte=date_range.end,
    )
    points = dict(
        day_rows.values("branch_id").annotate(t=Sum("points")).values_list("branch_id", "t")
    )
    members_in_range = (
        MemberPeriodPoints.objects.filter(
            branch__path__startswith=root.path,
            period=Period.DAY,
            start__gte=date_range.start,
            start__lte=date_range.end,
        )
        .values("branch_id", "member_id")
        .annotate(t=Sum("points"))
        .filter(t__gt=0)
    )
    active: dict[int, int] = defaultdict(int)
    for row in members_in_range:
        active[row["branch_id"]] += 1
    return points, dict(active)


def _branch_headcounts(
    root: Organization, branch_paths: list[str], date_range: DateRange, today: datetime.date
) -> dict[str, int]:
    """Members of each branch (with its groups) on the range's headcount day, by path."""
    day = headcount_day(date_range, today)
    by_organization = (
        HeadcountChange.objects.filter(organization__path__startswith=root.path, day__lte=day)
        .values("organization__path")
        .annotate(total=Sum("delta"))
        .values_list("organization__path", "total")
    )
    known = set(branch_paths)
    step = Organization.steplen
    counts: dict[str, int] = defaultdict(int)
    for path, total in by_organization:
        # The branch is the deepest prefix of the organisation's path that is a branch.
        for end in range(len(path), 0, -step):
            if path[:end] in known:
                counts[path[:end]] += total
                break
    return counts


def _member_totals(root: Organization, date_range: DateRange) -> QuerySet[MemberPeriodPoints]:
    rows = MemberPeriodPoints.objects.filter(branch__path__startswith=root.path)
    return _restrict_to_range(rows, date_range)


def _restrict_to_range(
    rows: QuerySet[MemberPeriodPoints], date_range: DateRange
) -> QuerySet[MemberPeriodPoints]:
    if date_range.is_stored:
        return rows.filter(period=date_range.kind, start=date_range.start)
    return rows.filter(period=Period.DAY, start__gte=date_range.start, start__lte=date_range.end)


@dataclass(frozen=True)
class RuleProgress:
    """Today's points with one rule against its daily cap (e.g. 2 / 6)."""

    code: str
    name: str
    description: str
    points_today: int
    daily_cap: int | None

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
            name=rule.name,
            description=rule.description,
            points_today=points_today_by_rule.get(rule.pk, 0),
            daily_cap=rule.daily_cap,
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


__all__ = [
    "BranchStanding",
    "MemberPointsSummary",
    "MemberStanding",
    "Metric",
    "PeriodStanding",
    "RuleProgress",
    "SubtreeFigures",
    "branch_ranking",
    "leaderboard_range",
    "member_branch",
    "member_points_in",
    "member_points_summary",
    "member_rank_in",
    "member_ranking",
    "names_hidden",
    "organization_headcount",
    "subtree_figures",
]
