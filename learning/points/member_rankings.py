"""Members ranked by points in a subtree, and a member's own points and rank.

Read from the same totals tables as the branch rankings in ``learning.points.leaderboards``
(one row per member and branch per period): the top of a large subtree is read with a
bounded query (``_top_members``), smaller ones in full (``_all_members``).
"""

from __future__ import annotations

import datetime

from django.db import connection
from django.db.models import Max, QuerySet, Sum
from django.utils import timezone

from learning.common.periods import ALL_TIME_START, DateRange, Period, headcount_day
from learning.common.raw_sql import sql_date, sql_table
from learning.models import Member, MemberPeriodPoints, Organization
from learning.models.points import MemberYearBranches
from learning.points.leaderboards import (
    MemberStanding,
    names_hidden,
    organization_headcount,
    subtree_ids,
    subtree_pattern,
)


def member_ranking(
    *, root: Organization, date_range: DateRange, limit: int | None = None
) -> list[MemberStanding]:
    """Members of ``root``'s subtree by points over ``date_range``, names allowed only.

    Returns nothing when ``root`` or an organisation above it hides names; members whose
    points count for a branch that hides names are left out. Ties share a rank; among
    them, members are listed by id.
    """
    if names_hidden(root):
        return []
    hidden = list(
        Organization.objects.filter(path__startswith=root.path, hide_member_names=True).values_list(
            "path", flat=True
        )
    )
    if limit is not None and date_range.is_stored and root.kind in _LARGE_KINDS:
        rows = _top_members(root, date_range, hidden, limit)
    else:
        rows = _all_members(root, date_range, hidden, limit)
    standings = []
    rank = 0
    previous: int | None = None
    for position, (total, member_id, name, branch_name) in enumerate(rows, start=1):
        if total != previous:
            rank, previous = position, total
        standings.append(
            MemberStanding(
                member_id=member_id,
                display_name=name,
                organization_name=branch_name or "",
                rank=rank,
                points=total,
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


# --- internals -----------------------------------------------------------------

_ORGANIZATIONS = sql_table(Organization)
_MEMBERS = sql_table(Member)
_MEMBER_PERIODS = sql_table(MemberPeriodPoints)
_YEAR_BRANCHES = sql_table(MemberYearBranches)

# (total, member id, display name, branch name), best first
MemberRow = tuple[int, int, str, str]

# Subtrees large enough that a top-N list reads the period's highest rows rather than
# summing all of the subtree's (a branch's rows are few, and found by its own index).
_LARGE_KINDS = (Organization.Kind.COMMITTEE, Organization.Kind.GENERAL_BRANCH)

# Rows read at first for a top-N list (N times the factor, at least the least), growing
# by the factor, and the most read before summing every row instead.
_TOP_READ_FACTOR = 4
_TOP_READ_LEAST = 40
_TOP_READ_MOST = 40_000


def _all_members(
    root: Organization, date_range: DateRange, hidden: list[str], limit: int | None
) -> list[MemberRow]:
    """Every member's sum over the subtree and range, best first (one GROUP BY)."""
    rows = _member_totals(root, date_range)
    for path in hidden:
        # Hidden where the points count (the branch) or where the member is now (a
        # party group below a branch can hide its own members' names).
        rows = rows.exclude(branch__path__startswith=path).exclude(
            member__organization__path__startswith=path
        )
    rows = (
        rows.values("member_id", "member__display_name")
        .annotate(total=Sum("points"), branch_name=Max("branch__name"))
        .filter(total__gt=0)
        .order_by("-total", "member_id")
    )
    if limit is not None:
        rows = rows[:limit]
    return [
        (row["total"], row["member_id"], row["member__display_name"], row["branch_name"])
        for row in rows
    ]


def _top_members(
    root: Organization, date_range: DateRange, hidden: list[str], limit: int
) -> list[MemberRow]:
    """The best ``limit`` members of a stored period, from the period's highest rows.

    A member's points in a period are one ``MemberPeriodPoints`` row unless they earned
    them in several branches; ``MemberYearBranches`` counts those branches per year (and
    for all time), at most ``most`` for anyone. Read the rows from the highest down:
    members seen get their exact totals (their one row, or their rows summed when they
    have several branches), and anyone not seen has at most ``most`` rows no higher than
    the lowest row read. Once the list's last member has more than that, nobody unseen
    can reach the list; otherwise read four times as many rows. The answer equals
    summing every row (``_all_members``), which remains the fallback.
    """
    counted_from = _branches_counted_from(date_range)
    most = _most_branches(counted_from)
    read = max(_TOP_READ_FACTOR * limit, _TOP_READ_LEAST)
    while read <= _TOP_READ_MOST:
        highest = _highest_rows(root, date_range, hidden, read)
        several = set()
        if most > 1:
            several = _several_branch_members(counted_from, {row[1] for row in highest})
        rows = [row for row in highest if row[1] not in several]
        if several:
            rows += _member_sums(root, date_range, hidden, sorted(several))
        best = sorted((row for row in rows if row[0] > 0), key=lambda row: (-row[0], row[1]))
        best = best[:limit]
        if len(highest) < read:  # every row of the period has been read
            return best
        if len(best) == limit and best[-1][0] > most * highest[-1][0]:
            return best
        read *= _TOP_READ_FACTOR
    return _all_members(root, date_range, hidden, limit)


def _branches_counted_from(date_range: DateRange) -> datetime.date:
    """The ``MemberYearBranches`` start that covers ``date_range``: its year, or all time."""
    if date_range.kind != Period.ALL and date_range.start.year == date_range.end.year:
        return date_range.start.replace(month=1, day=1)
    return ALL_TIME_START


def _hidden_conditions(hidden: list[str], alias: str) -> tuple[str, list[str]]:
    """SQL (and parameters) that leave out organisations hiding names: ``b`` for the
    row's branch, ``mo`` for the organisation the member is in now (may be NULL).
    """
    conditions = []
    params: list[str] = []
    for path in hidden:
        if alias == "b":
            conditions.append(" AND b.path NOT LIKE %s ESCAPE '\\'")
        else:
            conditions.append(" AND (mo.path IS NULL OR mo.path NOT LIKE %s ESCAPE '\\')")
        params.append(connection.ops.prep_for_like_query(path) + "%")
    return "".join(conditions), params


def _highest_rows(
    root: Organization, date_range: DateRange, hidden: list[str], read: int
) -> list[MemberRow]:
    """The ``read`` highest rows of the period in the subtree, as (points, member, name,
    branch name): a plain walk down the (period, start, points) index.
    """
    branch_hidden, branch_params = _hidden_conditions(hidden, "b")
    member_hidden, member_params = _hidden_conditions(hidden, "mo")
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT p.points, p.member_id, m.display_name, b.name"  # noqa: S608
            f" FROM {_MEMBER_PERIODS} p"
            f" JOIN {_ORGANIZATIONS} b ON b.id = p.branch_id"
            f" JOIN {_MEMBERS} m ON m.id = p.member_id"
            f" LEFT JOIN {_ORGANIZATIONS} mo ON mo.id = m.organization_id"
            f" WHERE p.period = %s AND p.start = %s AND p.points > 0"
            f" AND b.path LIKE %s ESCAPE '\\'{branch_hidden}{member_hidden}"
            " ORDER BY p.points DESC LIMIT %s",
            [
                date_range.kind,
                sql_date(date_range.start),
                subtree_pattern(root),
                *branch_params,
                *member_params,
                read,
            ],
        )
        return [tuple(row) for row in cursor.fetchall()]


def _most_branches(counted_from: datetime.date) -> int:
    """The most branches anyone earned in during the year (or ever) starting ``counted_from``."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT MAX(branches) FROM {_YEAR_BRANCHES} WHERE start = %s",  # noqa: S608
            [sql_date(counted_from)],
        )
        return max(1, int(cursor.fetchone()[0] or 1))


def _several_branch_members(counted_from: datetime.date, member_ids: set[int]) -> set[int]:
    """Which of ``member_ids`` earned in more than one branch in the year (or ever)."""
    if not member_ids:
        return set()
    ids = sorted(member_ids)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT member_id FROM {_YEAR_BRANCHES}"  # noqa: S608
            f" WHERE start = %s AND branches > 1 AND member_id IN ({', '.join(['%s'] * len(ids))})",
            [sql_date(counted_from), *ids],
        )
        return {member_id for (member_id,) in cursor.fetchall()}


def _member_sums(
    root: Organization, date_range: DateRange, hidden: list[str], member_ids: list[int]
) -> list[MemberRow]:
    """The exact totals of ``member_ids`` over the subtree and a stored period, each with
    the name of (the last, alphabetically, of) the branches they earned them in.
    """
    branch_hidden, branch_params = _hidden_conditions(hidden, "b")
    member_hidden, member_params = _hidden_conditions(hidden, "mo")
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT SUM(p.points), p.member_id, MAX(m.display_name), MAX(b.name)"  # noqa: S608
            f" FROM {_MEMBER_PERIODS} p"
            f" JOIN {_ORGANIZATIONS} b ON b.id = p.branch_id"
            f" JOIN {_MEMBERS} m ON m.id = p.member_id"
            f" LEFT JOIN {_ORGANIZATIONS} mo ON mo.id = m.organization_id"
            f" WHERE p.member_id IN ({', '.join(['%s'] * len(member_ids))})"
            f" AND p.period = %s AND p.start = %s"
            f" AND b.path LIKE %s ESCAPE '\\'{branch_hidden}{member_hidden}"
            " GROUP BY p.member_id",
            [
                *member_ids,
                date_range.kind,
                sql_date(date_range.start),
                subtree_pattern(root),
                *branch_params,
                *member_params,
            ],
        )
        return [(int(total), *rest) for total, *rest in cursor.fetchall()]


def _member_totals(root: Organization, date_range: DateRange) -> QuerySet[MemberPeriodPoints]:
    rows = MemberPeriodPoints.objects.filter(branch__in=subtree_ids(root))
    return _restrict_to_range(rows, date_range)


def _restrict_to_range(
    rows: QuerySet[MemberPeriodPoints], date_range: DateRange
) -> QuerySet[MemberPeriodPoints]:
    if date_range.is_stored:
        return rows.filter(period=date_range.kind, start=date_range.start)
    return rows.filter(period=Period.DAY, start__gte=date_range.start, start__lte=date_range.end)
