"""Recompute every total from the ledger and list where the stored totals disagree.

Used by ``python manage.py check_ledger`` and by the nightly Celery task. The ledger
is the truth; the totals are a cache of it kept in the same transaction, so any
difference means a bug or a manual edit, and is reported, never silently fixed.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterator

from django.db import connection, transaction
from django.db.models import F, Sum
from django.db.models.functions import TruncMonth, TruncQuarter, TruncWeek, TruncYear

from learning.common.periods import ALL_TIME_START, STORED_PERIODS, Period
from learning.models import (
    BranchPeriodTotal,
    HeadcountChange,
    MemberPeriodPoints,
    MemberRuleDayPoints,
    Membership,
    PointsEntry,
)
from learning.models.points import MemberYearBranches, OrganizationHeadcount
from learning.people.headcounts import organization_branches
from learning.points.db import branch_list_triggers_missing

_TRUNCATE = {
    Period.WEEK: TruncWeek,
    Period.MONTH: TruncMonth,
    Period.QUARTER: TruncQuarter,
    Period.YEAR: TruncYear,
}


def ledger_differences(limit: int = 100) -> list[str]:
    """Every disagreement between the ledger and the stored totals (at most ``limit``).

    Everything is read from one snapshot, so awards committed while the check runs
    cannot look like differences: on PostgreSQL a REPEATABLE READ transaction, on
    SQLite the transaction itself (it holds the write lock, so awards wait briefly).
    """
    differences: list[str] = []
    starts_transaction = not connection.in_atomic_block
    with transaction.atomic():
        if connection.vendor == "postgresql" and starts_transaction:
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        for difference in _all_differences():
            differences.append(difference)
            if len(differences) >= limit:
                break
    return differences


def _all_differences() -> Iterator[str]:
    yield from _rule_day_differences()
    for kind in STORED_PERIODS:
        yield from _period_differences(kind)
    yield from _year_branch_differences()
    yield from _headcount_differences()
    for trigger in branch_list_triggers_missing(connection):
        # Not a total, but what keeps the rankings' branch lists current.
        yield f"branch list version: trigger {trigger} is missing (run migrate)"


def _compare(what: str, expected: dict[tuple, int], stored: dict[tuple, int]) -> Iterator[str]:
    for key in sorted(set(expected) | set(stored), key=str):
        want, have = expected.get(key, 0), stored.get(key, 0)
        if want != have:
            yield f"{what} {key}: ledger says {want}, stored {have}"


def _rule_day_differences() -> Iterator[str]:
    expected = {
        (row["member_id"], row["rule_id"], row["local_date"]): row["total"]
        for row in PointsEntry.objects.values("member_id", "rule_id", "local_date")
        .annotate(total=Sum("points"))
        .order_by()
        .iterator()
    }
    stored = {
        (row["member_id"], row["rule_id"], row["day"]): row["points"]
        for row in MemberRuleDayPoints.objects.exclude(points=0)
        .values("member_id", "rule_id", "day", "points")
        .iterator()
    }
    yield from _compare("points per member, rule and day", expected, stored)


def _expected_member_periods(kind: str) -> dict[tuple[int, int, datetime.date], int]:
    entries = PointsEntry.objects.order_by()
    if kind == Period.DAY:
        entries = entries.annotate(start=F("local_date"))
    elif kind == Period.ALL:
        rows = entries.values("member_id", "branch_id").annotate(total=Sum("points"))
        return {
            (r["member_id"], r["branch_id"], ALL_TIME_START): r["total"] for r in rows.iterator()
        }
    else:
        entries = entries.annotate(start=_TRUNCATE[kind]("local_date"))
    rows = entries.values("member_id", "branch_id", "start").annotate(total=Sum("points"))
    return {
        (r["member_id"], r["branch_id"], _as_date(r["start"])): r["total"] for r in rows.iterator()
    }


def _period_differences(kind: str) -> Iterator[str]:
    expected_members = _expected_member_periods(kind)
    stored_members = {
        (row["member_id"], row["branch_id"], row["start"]): row["points"]
        for row in MemberPeriodPoints.objects.filter(period=kind)
        .values("member_id", "branch_id", "start", "points")
        .iterator()
    }
    yield from _compare(f"member points ({kind})", expected_members, stored_members)

    expected_points: dict[tuple, int] = defaultdict(int)
    expected_active: dict[tuple, int] = defaultdict(int)
    for (_member, branch, start), total in expected_members.items():
        expected_points[(branch, start)] += total
        expected_active[(branch, start)] += int(total > 0)
    stored_points: dict[tuple, int] = {}
    stored_active: dict[tuple, int] = {}
    for row in BranchPeriodTotal.objects.filter(period=kind).values(
        "branch_id", "start", "points", "active_members"
    ):
        stored_points[(row["branch_id"], row["start"])] = row["points"]
        stored_active[(row["branch_id"], row["start"])] = row["active_members"]
    yield from _compare(f"branch points ({kind})", dict(expected_points), stored_points)
    yield from _compare(f"branch active members ({kind})", dict(expected_active), stored_active)


def _year_branch_differences() -> Iterator[str]:
    """Each member's branch count per year and all time covers the branches with rows.

    It may be higher (a reversal that emptied a row, then an award there again, counts
    the branch twice); it is only an upper bound for top-member lists.
    """
    expected: dict[tuple, int] = defaultdict(int)
    for member_id, start in (
        MemberPeriodPoints.objects.filter(period__in=[Period.YEAR, Period.ALL])
        .values_list("member_id", "start")
        .iterator()
    ):
        expected[(member_id, start)] += 1
    stored = dict(
        ((member_id, start), branches)
        for member_id, start, branches in MemberYearBranches.objects.values_list(
            "member_id", "start", "branches"
        ).iterator()
    )
    for key in sorted(expected, key=str):
        if stored.get(key, 0) < expected[key]:
            yield (
                f"member branches {key}: rows in {expected[key]} branches,"
                f" stored {stored.get(key, 0)}"
            )


def _headcount_differences() -> Iterator[str]:
    expected: dict[tuple, int] = defaultdict(int)
    for organization_id, start, end in Membership.objects.values_list(
        "organization_id", "start_date", "end_date"
    ).iterator():
        expected[(organization_id, start)] += 1
        if end is not None:
            expected[(organization_id, end)] -= 1
    stored = {
        (row["organization_id"], row["day"]): row["delta"]
        for row in HeadcountChange.objects.values("organization_id", "day", "delta")
    }
    yield from _compare("headcount change", dict(expected), stored)

    expected_members: dict[tuple, int] = defaultdict(int)
    for (organization_id, _day), delta in expected.items():
        expected_members[(organization_id,)] += delta
    totals = list(
        OrganizationHeadcount.objects.values_list("organization_id", "branch_id", "members")
    )
    stored_members = {(organization_id,): members for organization_id, _b, members in totals}
    yield from _compare("organisation headcount", dict(expected_members), stored_members)

    # Every organisation with headcount changes needs its row: it names the branch.
    missing = {org for (org, _day) in stored} - {org for org, _b, _m in totals}
    for organization_id in sorted(missing):
        yield f"organisation headcount ({organization_id},): no row for its changes"
    branches = organization_branches(organization_id for organization_id, _b, _m in totals)
    for organization_id, branch_id, _members in totals:
        if branches.get(organization_id) != branch_id:
            yield (
                f"organisation headcount ({organization_id},): counts for branch {branch_id},"
                f" the tree says {branches.get(organization_id)}"
            )


def _as_date(value: datetime.date | datetime.datetime) -> datetime.date:
    return value.date() if isinstance(value, datetime.datetime) else value
