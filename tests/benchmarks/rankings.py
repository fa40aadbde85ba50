"""Branch rankings from the stored totals, timed and checked against the live ledger.

The "live" answer is computed here independently of ``learning.points.leaderboards``: plain
SQL over ``learning_pointsentry``, ``learning_membership`` and ``learning_organization``
(GROUP BY branch and member, HAVING-style filtering of net-positive members, a
subtree join on paths), ranked by a separate implementation of the ranking rules.
Because the dataset contains reversals, a member is active when their *net* points in
the branch and range are above zero, so the live query groups by (branch, member) and
counts positive sums rather than COUNT(DISTINCT) over positive entries.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from django.db import connection

from learning.common.periods import STORED_PERIODS, DateRange, Period, custom_range, period_range
from learning.models import Organization
from learning.points.leaderboards import Metric, branch_ranking, subtree_figures
from tests.benchmarks.queries import query_breakdown
from tests.benchmarks.timing import Timing, time_calls

STORED_RUNS = 200
STORED_WARMUP = 10
LIVE_RUNS = 7
LIVE_WARMUP = 1
LIVE_BUDGET_SECONDS = 40.0


@dataclass(frozen=True)
class LiveFigures:
    """Per-branch figures straight from the ledger and the memberships."""

    branches: list[tuple[int, str]]  # (id, path) in tree order
    points: dict[int, int]
    active: dict[int, int]
    members: dict[int, int]


def live_figures(root: Organization, date_range: DateRange, today: datetime.date) -> LiveFigures:
    """Points, net-active members and headcount per branch of ``root``'s subtree, live."""
    subtree = root.path + "%"
    headcount_day = min(date_range.end, today)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id, path FROM learning_organization"
            " WHERE kind = 'branch' AND path LIKE %s ORDER BY path",
            [subtree],
        )
        branches = [(branch_id, path) for branch_id, path in cursor.fetchall()]
        cursor.execute(
            "SELECT per_member.branch_id, SUM(per_member.total),"
            " SUM(CASE WHEN per_member.total > 0 THEN 1 ELSE 0 END)"
            " FROM (SELECT e.branch_id, e.member_id, SUM(e.points) AS total"
            "       FROM learning_pointsentry e"
            "       JOIN learning_organization b ON b.id = e.branch_id"
            "       WHERE e.local_date >= %s AND e.local_date <= %s"
            "         AND b.kind = 'branch' AND b.path LIKE %s"
            "       GROUP BY e.branch_id, e.member_id) per_member"
            " GROUP BY per_member.branch_id",
            [date_range.start, date_range.end, subtree],
        )
        points: dict[int, int] = {}
        active: dict[int, int] = {}
        for branch_id, total, positive in cursor.fetchall():
            points[branch_id] = int(total)
            active[branch_id] = int(positive)
        # Memberships are counted per organisation first: joined row by row to the
        # branches on a path prefix, SQLite tests every membership against every branch
        # (about 50 million LIKE comparisons, 9 s), which would flatter the stored answer.
        cursor.execute(
            "SELECT b.id, SUM(per_organization.members) FROM learning_organization b"
            " JOIN learning_organization o ON o.path LIKE b.path || '%%'"
            " JOIN (SELECT organization_id, COUNT(*) AS members FROM learning_membership"
            "       WHERE start_date <= %s AND (end_date IS NULL OR end_date > %s)"
            "       GROUP BY organization_id) per_organization"
            "   ON per_organization.organization_id = o.id"
            " WHERE b.kind = 'branch' AND b.path LIKE %s"
            " GROUP BY b.id",
            [headcount_day, headcount_day, subtree],
        )
        members = {branch_id: int(count) for branch_id, count in cursor.fetchall()}
    return LiveFigures(branches=branches, points=points, active=active, members=members)


def live_ranking(figures: LiveFigures, metric: str) -> list[tuple[int, int, int, int, int]]:
    """(branch id, rank, points, members, active) by ``metric``; ties share a rank (1, 2, 2, 4).

    Empty branches have a per-member value and a participation of zero; participation
    counts at most every member (a member who joined and left may have earned points).
    """
    valued = []
    for branch_id, path in figures.branches:
        points = figures.points.get(branch_id, 0)
        active = figures.active.get(branch_id, 0)
        members = figures.members.get(branch_id, 0)
        if metric == Metric.TOTAL:
            value = Fraction(points)
        elif members == 0:
            value = Fraction(0)
        elif metric == Metric.PARTICIPATION:
            value = Fraction(min(active, members), members)
        else:
            value = Fraction(points, members)
        valued.append((value, path, branch_id, points, members, active))
    valued.sort(key=lambda row: (-row[0], row[1]))
    ranked = []
    rank = 0
    for position, (value, _path, branch_id, points, members, active) in enumerate(valued, 1):
        if position == 1 or value != valued[position - 2][0]:
            rank = position
        ranked.append((branch_id, rank, points, members, active))
    return ranked


def stored_ranking(
    root: Organization, date_range: DateRange, metric: str, today: datetime.date
) -> list[tuple[int, int, int, int, int]]:
    standings = branch_ranking(root=root, date_range=date_range, metric=metric, today=today)
    return [
        (row.organization_id, row.rank, row.points, row.members, row.active_members)
        for row in standings
    ]


def _first_difference(
    stored: list[tuple[int, ...]], live: list[tuple[int, ...]]
) -> dict[str, Any] | None:
    if stored == live:
        return None
    if len(stored) != len(live):
        return {"stored_rows": len(stored), "live_rows": len(live)}
    for position, (mine, theirs) in enumerate(zip(stored, live, strict=True)):
        if mine != theirs:
            fields = "(branch, rank, points, members, active)"
            return {"position": position, "fields": fields, "stored": mine, "live": theirs}
    return None


def measure(today: datetime.date) -> dict[str, Any]:
    """Every period and metric: stored timing, live timing, identical or not."""
    root = Organization.objects.get(code="DW")
    results: dict[str, Any] = {"rankings": [], "live": {}, "subtree": []}
    for kind in STORED_PERIODS:
        date_range = period_range(kind, today)
        figures = live_figures(root, date_range, today)
        live_timing = time_calls(
            lambda dr=date_range: live_ranking(live_figures(root, dr, today), Metric.PER_MEMBER),
            runs=LIVE_RUNS,
            warmup=LIVE_WARMUP,
            budget_seconds=LIVE_BUDGET_SECONDS,
        )
        results["live"][kind] = live_timing.as_dict()
        print(f"  rankings: {kind} live {live_timing.median_ms:.1f} ms", flush=True)
        for metric in Metric.values:
            stored = stored_ranking(root, date_range, metric, today)
            difference = _first_difference(stored, live_ranking(figures, metric))
            timing = time_calls(
                lambda dr=date_range, m=metric: branch_ranking(
                    root=root, date_range=dr, metric=m, today=today
                ),
                runs=STORED_RUNS,
                warmup=STORED_WARMUP,
            )
            results["rankings"].append(
                {
                    "period": kind,
                    "range": [date_range.start.isoformat(), date_range.end.isoformat()],
                    "metric": metric,
                    "branches": len(stored),
                    "identical": difference is None,
                    "difference": difference,
                    "stored": timing.as_dict(),
                }
            )
            print(
                f"  rankings: {kind} {metric} stored {timing.median_ms:.2f} ms,"
                f" identical={difference is None}",
                flush=True,
            )
        if kind in (Period.DAY, Period.MONTH, Period.YEAR):
            results["subtree"].append(_subtree(root, date_range, figures, today))

    results["custom"] = _custom_range(root, today)
    year = period_range(Period.YEAR, today)
    results["fresh_connection"] = _fresh_connection(root, year, today).as_dict()
    results["phases"] = {
        kind: _phases(root, period_range(kind, today), today) for kind in (Period.DAY, Period.YEAR)
    }
    results["query_breakdown"] = query_breakdown(
        lambda: branch_ranking(root=root, date_range=year, metric=Metric.PER_MEMBER, today=today)
    )
    return results


def _phases(root: Organization, date_range: DateRange, today: datetime.date) -> dict[str, Any]:
    """Median ms of each part of ``branch_ranking``, to show where its time goes.

    Calls the module's private helpers (named as of this writing); when they are renamed
    the breakdown is left out rather than the benchmark failing.
    """
    from learning.points import leaderboards

    rows_of = getattr(leaderboards, "_branch_rows", None)
    rank = getattr(leaderboards, "_rank", None)
    if rows_of is None or rank is None:
        return {}
    day = min(date_range.end, today)
    rows, min_size = rows_of(root, date_range, day)
    parts = {
        "whole ranking": lambda: branch_ranking(root=root, date_range=date_range, today=today),
        "the query (branches, totals, members, settings)": lambda: rows_of(root, date_range, day),
        "ranking in Python (sort keys, ranks, result objects)": lambda: rank(
            rows, Metric.PER_MEMBER, min_size
        ),
    }
    medians = {
        name: time_calls(call, runs=100, warmup=10).median_ms for name, call in parts.items()
    }
    medians["the rest (call overhead)"] = medians["whole ranking"] - sum(
        value for name, value in medians.items() if name != "whole ranking"
    )
    return medians


def _subtree(
    root: Organization, date_range: DateRange, figures: LiveFigures, today: datetime.date
) -> dict[str, Any]:
    """The whole subtree's participation (an office screen's "today" panel, or a report)."""
    stored = subtree_figures(root=root, date_range=date_range)
    live = (
        sum(figures.points.values()),
        sum(figures.active.values()),
        _live_headcount(root, min(date_range.end, today)),
    )
    timing = time_calls(
        lambda: subtree_figures(root=root, date_range=date_range),
        runs=STORED_RUNS,
        warmup=STORED_WARMUP,
    )
    return {
        "period": date_range.kind,
        "stored": timing.as_dict(),
        "identical": (stored.points, stored.active_members, stored.members) == live,
        "values": {"stored": [stored.points, stored.active_members, stored.members], "live": live},
    }


def _live_headcount(root: Organization, day: datetime.date) -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT COUNT(*) FROM learning_membership m"
            " JOIN learning_organization o ON o.id = m.organization_id"
            " WHERE o.path LIKE %s AND m.start_date <= %s"
            " AND (m.end_date IS NULL OR m.end_date > %s)",
            [root.path + "%", day, day],
        )
        return int(cursor.fetchone()[0])


def _custom_range(root: Organization, today: datetime.date) -> dict[str, Any]:
    """A free range of days (the last 30) is summed from day rows: no target, for scale."""
    date_range = custom_range(today - datetime.timedelta(days=29), today)
    figures = live_figures(root, date_range, today)
    difference = _first_difference(
        stored_ranking(root, date_range, Metric.PER_MEMBER, today),
        live_ranking(figures, Metric.PER_MEMBER),
    )
    stored = time_calls(
        lambda: branch_ranking(root=root, date_range=date_range, today=today),
        runs=20,
        warmup=2,
        budget_seconds=20.0,
    )
    live = time_calls(
        lambda: live_ranking(live_figures(root, date_range, today), Metric.PER_MEMBER),
        runs=5,
        warmup=1,
        budget_seconds=20.0,
    )
    return {
        "range": [date_range.start.isoformat(), date_range.end.isoformat()],
        "identical": difference is None,
        "difference": difference,
        "stored": stored.as_dict(),
        "live": live.as_dict(),
    }


def _fresh_connection(root: Organization, date_range: DateRange, today: datetime.date) -> Timing:
    """The year ranking when every call opens its own connection (SQLite's CONN_MAX_AGE=0)."""

    def call() -> None:
        connection.close()
        branch_ranking(root=root, date_range=date_range, today=today)

    return time_calls(call, runs=100, warmup=5)
