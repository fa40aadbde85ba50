"""How many members each organisation had on each day, kept in the transaction of every
join, transfer and departure (``headcount_record``), and the branch each organisation's
members count for (``headcount_branches_refresh`` when the tree changes). Leaderboards
divide by these headcounts; ``check_ledger`` recomputes them from the memberships."""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterable

from django.db import connection, transaction

from learning.common.raw_sql import chunks, rows_insert_or_add, sql_date, sql_table
from learning.models import HeadcountChange, Organization
from learning.models.points import OrganizationHeadcount


def headcount_record(changes: Iterable[tuple[int, datetime.date, int]]) -> None:
    """Add (organisation id, day, +/- members) changes to the headcounts.

    Writes the per-day changes (``HeadcountChange``) and each organisation's running
    total (``OrganizationHeadcount``), in that order and sorted, so that two opposite
    transfers cannot deadlock. The branch of an organisation seen for the first time is
    looked up after the first write: a tree change that is refreshing the branches
    (``headcount_branches_refresh``) either already sees this transaction's rows or has
    committed before the lookup.
    """
    summed: dict[tuple[int, datetime.date], int] = defaultdict(int)
    for organization_id, day, delta in changes:
        summed[(organization_id, day)] += delta
    rows = [(org, sql_date(day), delta) for (org, day), delta in sorted(summed.items()) if delta]
    if not rows:
        return
    per_organization: dict[int, int] = defaultdict(int)
    for organization_id, _day, delta in rows:
        per_organization[organization_id] += delta
    with connection.cursor() as cursor:
        rows_insert_or_add(
            cursor,
            model=HeadcountChange,
            columns=("organization_id", "day", "delta"),
            conflict=("organization_id", "day"),
            added="delta",
            rows=rows,
        )
    branches = organization_branches(per_organization)
    # Every organisation gets its row, even when its changes add up to nothing: the
    # row says which branch its changes on other days belong to.
    totals = [(org, branches.get(org), delta) for org, delta in sorted(per_organization.items())]
    with connection.cursor() as cursor:
        rows_insert_or_add(
            cursor,
            model=OrganizationHeadcount,
            columns=("organization_id", "branch_id", "members"),
            conflict=("organization_id",),
            added="members",
            rows=totals,
        )


def headcount_branches_refresh() -> int:
    """Point every organisation's headcount at its branch in the current tree.

    Call it in the transaction that moves an organisation or changes an organisation's
    kind. On PostgreSQL it first waits for membership changes in progress and holds
    new ones back until it commits, so none of them can file its members under the
    old tree. Returns how many organisations now count for another branch.
    """
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(
                    f"LOCK TABLE {sql_table(OrganizationHeadcount)} IN SHARE ROW EXCLUSIVE MODE"
                )
        stored = dict(OrganizationHeadcount.objects.values_list("organization_id", "branch_id"))
        current = organization_branches(stored)
        changed = [
            (current.get(org), org) for org, branch in stored.items() if current.get(org) != branch
        ]
        if changed:
            with connection.cursor() as cursor:
                cursor.executemany(
                    f"UPDATE {sql_table(OrganizationHeadcount)} SET branch_id = %s"
                    " WHERE organization_id = %s",
                    changed,
                )
    return len(changed)


def organization_branches(organization_ids: Iterable[int]) -> dict[int, int | None]:
    """The nearest branch at or above each organisation (None when there is none)."""
    ids = list(organization_ids)
    if not ids:
        return {}
    paths: dict[int, str] = {}
    for chunk in chunks(ids, 500):
        paths.update(Organization.objects.filter(pk__in=chunk).values_list("id", "path"))
    step = Organization.steplen
    ancestors = {path[:end] for path in paths.values() for end in range(step, len(path) + 1, step)}
    branch_by_path: dict[str, int] = {}
    ordered = sorted(ancestors)
    for chunk in chunks(ordered, 500):
        branch_by_path.update(
            Organization.objects.filter(path__in=chunk, kind=Organization.Kind.BRANCH).values_list(
                "path", "id"
            )
        )
    branches: dict[int, int | None] = {}
    for organization_id, path in paths.items():
        branches[organization_id] = next(
            (
                branch_by_path[path[:end]]
                for end in range(len(path), 0, -step)
                if path[:end] in branch_by_path
            ),
            None,
        )
    return branches
