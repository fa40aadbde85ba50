"""Read side of the points ledger: rankings, standings and subtree figures.

Every figure here is a sum over the small totals tables that ``learning.points.ledger``
maintains (one row per branch or member per period), never a scan of the ledger:
a year's branch ranking is one prepared query that reads the period's totals of every
branch, then ranks them with exact integer keys. The subtree's branch list (names, tree
order, members, minimum size) is kept per process and read again only when the branch
list version changes (see ``_branch_rows``); the points are read on every call.
"""

from __future__ import annotations

import datetime
from collections import OrderedDict, defaultdict
from dataclasses import dataclass
from fractions import Fraction

from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.db.models import QuerySet, Sum
from django.utils import timezone

from learning.common.periods import DateRange, Period, headcount_day, period_range
from learning.common.raw_sql import sql_date, sql_table
from learning.models import (
    BranchPeriodTotal,
    HeadcountChange,
    LeaderboardSettings,
    Member,
    MemberPeriodPoints,
    Organization,
)
from learning.models.points import BranchListVersion, MemberYearBranches, OrganizationHeadcount
from learning.points.db import prepared_cursor

Metric = LeaderboardSettings.Metric


@dataclass(slots=True)
class BranchStanding:
    """One branch's line in a ranking (a value: nothing changes it after the ranking).

    Not ``frozen``: a frozen dataclass sets each field through ``object.__setattr__``,
    which made building 500 of them cost more than the ranking's query.
    """

    organization_id: int
    name: str
    path: str
    rank: int
    points: int
    members: int
    active_members: int
    below_min_size: bool
    metric: str

    @property
    def metric_value(self) -> Fraction:
        """The value the branch is ranked by, exactly."""
        return _metric_fraction(self.metric, self.points, self.active_members, self.members)

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
    Branches smaller than ``min_size`` (default: the leaderboard settings) are ranked
    but marked. Equal values share a rank (1, 2, 2, 4); among them, branches keep their
    tree order.
    """
    if metric not in Metric.values:
        raise ValueError(f"unknown metric {metric!r}")
    today = today or timezone.localdate()
    rows, stored_min_size = _branch_rows(root, date_range, headcount_day(date_range, today))
    return _rank(rows, metric, stored_min_size if min_size is None else min_size)


def subtree_figures(*, root: Organization, date_range: DateRange) -> SubtreeFigures:
    """Points, active members and members of ``root``'s whole subtree over ``date_range``.

    A member who moved between branches during the range counts as active in each.
    """
    if date_range.is_stored:
        totals = BranchPeriodTotal.objects.filter(
            branch__in=subtree_ids(root), period=date_range.kind, start=date_range.start
        ).aggregate(points=Sum("points"), active=Sum("active_members"))
        points, active = totals["points"] or 0, totals["active"] or 0
    else:
        by_branch_points, by_branch_active = _custom_range_totals(root, date_range)
        points, active = sum(by_branch_points.values()), sum(by_branch_active.values())
    members = organization_headcount(root, headcount_day(date_range, timezone.localdate()))
    return SubtreeFigures(points=points, active_members=active, members=members)


def organization_headcount(organization: Organization, day: datetime.date) -> int:
    """Members in ``organization``'s subtree on ``day``.

    The organisations' running totals count every change; the changes dated after
    ``day`` (for today, usually none) are taken back out.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT (SELECT COALESCE(SUM(h.members), 0) FROM {_HEADCOUNTS} h"  # noqa: S608
            f"         JOIN {_ORGANIZATIONS} o ON o.id = h.organization_id"
            f"        WHERE o.path LIKE %s ESCAPE '\\')"
            f" - (SELECT COALESCE(SUM(c.delta), 0) FROM {_CHANGES} c"
            f"     JOIN {_ORGANIZATIONS} o ON o.id = c.organization_id"
            f"    WHERE c.day > %s AND o.path LIKE %s ESCAPE '\\')",
            [subtree_pattern(organization), sql_date(day), subtree_pattern(organization)],
        )
        return int(cursor.fetchone()[0])


def names_hidden(organization: Organization) -> bool:
    """True when ``organization`` or an organisation above it hides member names."""
    return Organization.objects.filter(
        path__in=organization.ancestor_paths(), hide_member_names=True
    ).exists()


# --- internals -----------------------------------------------------------------


_ORGANIZATIONS = sql_table(Organization)
_HEADCOUNTS = sql_table(OrganizationHeadcount)
_CHANGES = sql_table(HeadcountChange)
_BRANCH_TOTALS = sql_table(BranchPeriodTotal)
_SETTINGS = sql_table(LeaderboardSettings)
_MEMBERS = sql_table(Member)
_MEMBER_PERIODS = sql_table(MemberPeriodPoints)
_YEAR_BRANCHES = sql_table(MemberYearBranches)
_VERSION = sql_table(BranchListVersion)
_DEFAULT_MIN_SIZE = LeaderboardSettings._meta.get_field("min_branch_size").default

# Branches of a subtree in tree order with their members on a day (the organisations'
# running totals by branch, less the changes after that day), the leaderboard's minimum
# size and the branch list's version, all read in one snapshot. Table names come from
# model metadata; every value is a parameter.
_BRANCH_LIST = f"""
SELECT b.id, b.name, b.path,
       COALESCE(h.members, 0) - COALESCE(later.delta, 0),
       COALESCE((SELECT s.min_branch_size FROM {_SETTINGS} s ORDER BY s.id LIMIT 1),
                {_DEFAULT_MIN_SIZE}),
       (SELECT v.version FROM {_VERSION} v WHERE v.id = 1)
FROM {_ORGANIZATIONS} b
LEFT JOIN (SELECT branch_id, SUM(members) AS members FROM {_HEADCOUNTS}
            WHERE branch_id IS NOT NULL GROUP BY branch_id) h ON h.branch_id = b.id
LEFT JOIN (SELECT oh.branch_id, SUM(c.delta) AS delta FROM {_CHANGES} c
             JOIN {_HEADCOUNTS} oh ON oh.organization_id = c.organization_id
            WHERE c.day > %s AND oh.branch_id IS NOT NULL
            GROUP BY oh.branch_id) later ON later.branch_id = b.id
WHERE b.kind = %s AND b.path LIKE %s ESCAPE '\\'
ORDER BY b.path
"""  # noqa: S608

# The period's totals of every branch (one range of the (period, start, branch) key)
# and, in the same snapshot, the branch list's version (the row whose branch is NULL).
_PERIOD_TOTALS = (
    f"SELECT NULL, v.version, 0 FROM {_VERSION} v WHERE v.id = 1"  # noqa: S608
    f" UNION ALL SELECT t.branch_id, t.points, t.active_members FROM {_BRANCH_TOTALS} t"
    " WHERE t.period = %s AND t.start = %s"
)

# (branch id, name, path, points, active members, members)
BranchRow = tuple[int, str, str, int, int, int]


@dataclass(frozen=True, slots=True)
class _BranchList:
    """A subtree's branches in tree order, as (id, name, path, members) on one day, the
    leaderboard's minimum size, and the branch list version they were read at.
    """

    version: int | None
    branches: tuple[tuple[int, str, str, int], ...]
    min_size: int


# Per process: (database alias, subtree path, headcount day) -> the branch list. A day
# rolls over once a day per subtree and period end, so a few dozen entries are plenty;
# the oldest go first.
_BRANCH_LISTS: OrderedDict[tuple[str, str, datetime.date], _BranchList] = OrderedDict()
_BRANCH_LISTS_KEPT = 64


def _branch_rows(
    root: Organization, date_range: DateRange, day: datetime.date
) -> tuple[list[BranchRow], int]:
    """Every branch of the subtree with its figures, and the minimum branch size.

    A stored period costs one prepared query: the period's totals and the branch list's
    version. The branch list itself (names, tree order, members on ``day``, minimum
    size) is read again only when that version has changed since this process last
    read it, which only a change to the tree, a membership or the settings does; the
    points are read on every call, so every committed award is in the answer.
    """
    if not date_range.is_stored:
        listed = _read_branch_list(root, day)
        points, active = _custom_range_totals(root, date_range)
        rows = [
            (branch_id, name, path, points.get(branch_id, 0), active.get(branch_id, 0), members)
            for branch_id, name, path, members in listed.branches
        ]
        return rows, listed.min_size
    version, totals = _period_totals(date_range)
    listed = _known_branch_list(root, day, version)
    if listed is None:
        listed = _read_branch_list(root, day)
        if listed.version != version:
            # The tree changed between the two statements: read the totals again, so
            # that they and the list come from one moment.
            version, totals = _period_totals(date_range)
            if listed.version != version:
                listed = _read_branch_list(root, day)
                version, totals = _period_totals(date_range)
    zero = (0, 0)
    rows = []
    for branch_id, name, path, members in listed.branches:
        points, active = totals.get(branch_id, zero)
        rows.append((branch_id, name, path, points, active, members))
    return rows, listed.min_size


def _period_totals(date_range: DateRange) -> tuple[int | None, dict[int, tuple[int, int]]]:
    """The branch list's version and {branch id: (points, active members)} for a period.

    Prepared on PostgreSQL: its plan is the same for every period (one range of the
    totals' unique key), so planning it on every call would be wasted.
    """
    db = connections[DEFAULT_DB_ALIAS]
    with prepared_cursor(db) as cursor:
        cursor.execute(_PERIOD_TOTALS, [date_range.kind, sql_date(date_range.start)])
        fetched = cursor.fetchall()
    version = None
    totals: dict[int, tuple[int, int]] = {}
    for branch_id, points, active in fetched:
        if branch_id is None:
            version = points
        else:
            totals[branch_id] = (points, active)
    return version, totals


def _known_branch_list(
    root: Organization, day: datetime.date, version: int | None
) -> _BranchList | None:
    """The branch list this process read at ``version``, if it has it."""
    if version is None:  # no version row (a test suite emptied the table): never trust one
        return None
    listed = _BRANCH_LISTS.get((connection.alias, root.path, day))
    if listed is None or listed.version != version:
        return None
    return listed


def _read_branch_list(root: Organization, day: datetime.date) -> _BranchList:
    """Read the subtree's branch list and keep it for the next call (when versioned)."""
    # Not prepared: PostgreSQL's generic plan for it scans every headcount change,
    # slower than planning it each time; it runs only when the tree has changed.
    with connection.cursor() as cursor:
        cursor.execute(
            _BRANCH_LIST, [sql_date(day), Organization.Kind.BRANCH.value, subtree_pattern(root)]
        )
        fetched = cursor.fetchall()
        if not fetched:
            cursor.execute(f"SELECT version FROM {_VERSION} WHERE id = 1")  # noqa: S608
            found = cursor.fetchone()
            version, min_size = (found[0] if found else None), _DEFAULT_MIN_SIZE
        else:
            version, min_size = fetched[0][5], int(fetched[0][4])
    listed = _BranchList(
        version=version,
        branches=tuple((row[0], row[1], row[2], int(row[3])) for row in fetched),
        min_size=min_size,
    )
    if version is not None:
        key = (connection.alias, root.path, day)
        _BRANCH_LISTS[key] = listed
        _BRANCH_LISTS.move_to_end(key)
        while len(_BRANCH_LISTS) > _BRANCH_LISTS_KEPT:
            _BRANCH_LISTS.popitem(last=False)
    return listed


def _rank(rows: list[BranchRow], metric: str, min_size: int) -> list[BranchStanding]:
    """Standings by ``metric``, best first; ties share a rank and keep the tree order.

    The sort key is exact without fractions: for a ratio p / m it is floor(p * 2**64 / m),
    and two different ratios with denominators below 2**32 differ by more than 2**-64,
    so their keys differ in the same direction (equal ratios give equal keys).
    """
    keyed = _sort_keys(rows, metric)
    keyed.sort()
    standings = []
    rank = 0
    previous: int | None = None
    for position, (key, _order, row) in enumerate(keyed, start=1):
        if key != previous:
            rank, previous = position, key
        branch_id, name, path, points, active, members = row
        standings.append(
            BranchStanding(
                branch_id, name, path, rank, points, members, active, members < min_size, metric
            )
        )
    return standings


def _sort_keys(rows: list[BranchRow], metric: str) -> list[tuple[int, int, BranchRow]]:
    """(key, tree order, row) per branch; the key is the metric's value negated, so that
    sorting puts the best first (see ``_rank``). Written out per metric: 500 calls of a
    key function cost more than the sort.
    """
    if metric == Metric.TOTAL:
        return [(-row[3], order, row) for order, row in enumerate(rows)]
    if metric == Metric.PARTICIPATION:
        return [
            (-((min(row[4], row[5]) << 64) // row[5]) if row[5] else 0, order, row)
            for order, row in enumerate(rows)
        ]
    return [
        (-((row[3] << 64) // row[5]) if row[5] else 0, order, row) for order, row in enumerate(rows)
    ]


def _metric_fraction(metric: str, points: int, active: int, members: int) -> Fraction:
    if metric == Metric.TOTAL:
        return Fraction(points)
    if not members:
        return Fraction(0)
    if metric == Metric.PARTICIPATION:
        return Fraction(min(active, members), members)
    return Fraction(points, members)


def subtree_pattern(organization: Organization) -> str:
    """A LIKE pattern (escape character ``\\``) for ``organization``'s path and below."""
    return connection.ops.prep_for_like_query(organization.path) + "%"


def subtree_ids(root: Organization) -> QuerySet[Organization]:
    """The ids of ``root``'s subtree, as a subquery: filtering the totals by branch id lets
    SQLite use their branch index (it cannot use an index for a join on a path prefix).
    """
    return Organization.objects.filter(path__startswith=root.path).values("id")


def _custom_range_totals(
    root: Organization, date_range: DateRange
) -> tuple[dict[int, int], dict[int, int]]:
    """Totals over any range of days, from the per-day rows (no distinct counts stored)."""
    day_rows = BranchPeriodTotal.objects.filter(
        branch__in=subtree_ids(root),
        period=Period.DAY,
        start__gte=date_range.start,
        start__lte=date_range.end,
    )
    points = dict(
        day_rows.values("branch_id").annotate(t=Sum("points")).values_list("branch_id", "t")
    )
    members_in_range = (
        MemberPeriodPoints.objects.filter(
            branch__in=subtree_ids(root),
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


__all__ = [
    "BranchStanding",
    "MemberStanding",
    "Metric",
    "SubtreeFigures",
    "branch_ranking",
    "leaderboard_range",
    "names_hidden",
    "organization_headcount",
    "subtree_figures",
]
