"""One award (or reversal) in the database: the single prepared statement on PostgreSQL,
one read and four writes under ``BEGIN IMMEDIATE`` on SQLite, and the shared writes of
the rule-day row, the entry and the period totals. Only ``learning.points.ledger`` calls
these; its docstring explains the locking order they keep."""

from __future__ import annotations

import contextlib
import datetime
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache as memoize
from typing import Any

from django.db import (
    DEFAULT_DB_ALIAS,
    DatabaseError,
    IntegrityError,
    connection,
    connections,
    transaction,
)

from learning.common.periods import STORED_PERIODS, Period, period_starts_for
from learning.common.raw_sql import sql_date, sql_table
from learning.models import (
    BranchPeriodTotal,
    Member,
    MemberPeriodPoints,
    MemberRuleDayPoints,
    Membership,
    Organization,
    PointsEntry,
    PointsRule,
)
from learning.models.points import MemberYearBranches
from learning.points.db import prepared_cursor


@dataclass(frozen=True)
class Award:
    """One award's inputs, as the SQL of either vendor needs them."""

    member_id: int
    rule_code: str
    key: str
    quantity: int
    at: datetime.datetime
    day: datetime.date
    source_type_id: int | None
    source_id: str
    created_by_id: int | None
    note: str


@dataclass(frozen=True)
class Outcome:
    """What the database found and did for one award (``entry_id`` set when it wrote one)."""

    rule_id: int | None
    rule_active: bool
    requested: int
    earlier_id: int | None
    organization_id: int | None
    branch_id: int | None
    branch_path: str | None
    points: int
    entry_id: int | None


# --- internals: one award on PostgreSQL ----------------------------------------------

# One statement does the whole award; every CTE reads the statement's snapshot, and
# the rule-day upsert is where concurrent awards for the same member, rule and day
# queue: ON CONFLICT DO UPDATE locks the newest version of the row (waiting for the
# transaction that holds it) and computes the capped points from it, which is what
# the entry then records. A concurrent award with the same key makes the entry insert
# fail (unique key); the whole statement is then undone and the award reported as a
# duplicate. Lock order: rule-day row, entry key, member rows (by period), then the
# member's year-branch rows and the branch rows, in the statement's fixed order. A new
# year or all-time row of a member (its total equals the points just added) means a
# branch the member had not earned in that year: ``MemberYearBranches`` counts it.
_POSTGRESQL_AWARD = """
WITH rule AS (
    SELECT id, daily_cap, is_active,
           LEAST(points * %(quantity)s, COALESCE(max_points_per_award, points * %(quantity)s))
               AS requested
    FROM {rules} WHERE code = %(code)s
),
earlier AS (
    SELECT id FROM {entries} WHERE idempotency_key = %(key)s
),
placement AS (
    SELECT o.id AS organization_id, COALESCE(b.id, o.id) AS branch_id,
           COALESCE(b.path, o.path) AS branch_path
    FROM {organizations} o
    LEFT JOIN LATERAL (
        SELECT a.id, a.path FROM {organizations} a
        WHERE a.path = ANY (ARRAY(
                SELECT substr(o.path, 1, %(step)s * g) FROM generate_series(1, o.depth) g))
          AND a.kind = %(branch_kind)s
        ORDER BY a.depth DESC LIMIT 1
    ) b ON TRUE
    WHERE o.id = (
        SELECT COALESCE(
            (SELECT ms.organization_id FROM {memberships} ms
              WHERE ms.member_id = m.id AND ms.start_date <= %(day)s
                AND (ms.end_date IS NULL OR ms.end_date > %(day)s)
              ORDER BY ms.start_date DESC LIMIT 1),
            m.organization_id)
        FROM {members} m WHERE m.id = %(member)s)
),
go AS (
    SELECT rule.id AS rule_id, rule.requested, rule.daily_cap,
           placement.organization_id, placement.branch_id
    FROM rule, placement
    WHERE rule.is_active AND rule.requested > 0 AND NOT EXISTS (SELECT FROM earlier)
),
rule_day AS (
    INSERT INTO {rule_days} AS d (member_id, rule_id, day, points, last_change)
    SELECT %(member)s, go.rule_id, %(day)s, capped.points, capped.points
    FROM go, LATERAL (
        SELECT CASE WHEN go.daily_cap IS NULL THEN go.requested
                    ELSE LEAST(go.requested, go.daily_cap) END AS points
    ) capped
    ON CONFLICT (member_id, rule_id, day) DO UPDATE SET
        last_change = LEAST(excluded.points, GREATEST(
            COALESCE((SELECT daily_cap FROM go), d.points + excluded.points) - d.points, 0)),
        points = d.points + LEAST(excluded.points, GREATEST(
            COALESCE((SELECT daily_cap FROM go), d.points + excluded.points) - d.points, 0))
    RETURNING last_change AS points
),
entry AS (
    INSERT INTO {entries} (member_id, organization_id, branch_id, rule_id, points, local_date,
                           source_type_id, source_id, idempotency_key, created_at,
                           created_by_id, note)
    SELECT %(member)s, go.organization_id, go.branch_id, go.rule_id, rule_day.points, %(day)s,
           %(source_type)s, %(source_id)s, %(key)s, %(created_at)s, %(created_by)s, %(note)s
    FROM go, rule_day WHERE rule_day.points > 0
    RETURNING id, points, branch_id
),
member_totals AS (
    INSERT INTO {member_periods} AS t (member_id, branch_id, period, start, points)
    SELECT %(member)s, entry.branch_id, p.period, p.start, entry.points
    FROM entry, (VALUES {periods}) AS p (period, start)
    ORDER BY p.period
    ON CONFLICT (member_id, branch_id, period, start)
        DO UPDATE SET points = t.points + excluded.points
    RETURNING period, start, points
),
year_branches AS (
    INSERT INTO {year_branches} AS y (member_id, start, branches)
    SELECT %(member)s, mt.start, 1 FROM entry, member_totals mt
    WHERE mt.period IN (%(year)s, %(all)s) AND mt.points = entry.points
    ORDER BY mt.start
    ON CONFLICT (member_id, start) DO UPDATE SET branches = y.branches + 1
),
branch_totals AS (
    INSERT INTO {branch_periods} AS t (branch_id, period, start, points, active_members)
    SELECT entry.branch_id, mt.period, mt.start, entry.points,
           (mt.points > 0)::int - (mt.points - entry.points > 0)::int
    FROM entry, member_totals mt
    ORDER BY mt.period
    ON CONFLICT (period, start, branch_id) DO UPDATE SET
        points = t.points + excluded.points,
        active_members = t.active_members + excluded.active_members
)
SELECT (SELECT id FROM rule), (SELECT is_active FROM rule), (SELECT requested FROM rule),
       (SELECT id FROM earlier),
       (SELECT organization_id FROM placement), (SELECT branch_id FROM placement),
       (SELECT branch_path FROM placement),
       (SELECT points FROM entry), (SELECT id FROM entry)
"""


def _award_tables() -> dict[str, str]:
    """The tables both award statements read, by their names in the statements."""
    return {
        "rules": sql_table(PointsRule),
        "entries": sql_table(PointsEntry),
        "memberships": sql_table(Membership),
        "members": sql_table(Member),
        "organizations": sql_table(Organization),
        "rule_days": sql_table(MemberRuleDayPoints),
    }


@memoize
def _postgresql_award_sql() -> str:
    # The period kinds are our own constants; their starts are parameters.
    periods = ", ".join(f"('{kind}', %(start_{kind})s::date)" for kind in sorted(STORED_PERIODS))
    sql = _POSTGRESQL_AWARD.format(
        **_award_tables(),
        member_periods=sql_table(MemberPeriodPoints),
        branch_periods=sql_table(BranchPeriodTotal),
        year_branches=sql_table(MemberYearBranches),
        periods=periods,
    )
    # One line without runs of spaces: psycopg caches its parse of statements up to 4 kB
    # (it holds no quoted text, so collapsing whitespace changes nothing else).
    return " ".join(sql.split())


def _postgresql_params(award: Award) -> dict[str, Any]:
    params: dict[str, Any] = {
        "member": award.member_id,
        "code": award.rule_code,
        "key": award.key,
        "quantity": award.quantity,
        "day": award.day,
        "created_at": award.at,
        "source_type": award.source_type_id,
        "source_id": award.source_id,
        "created_by": award.created_by_id,
        "note": award.note,
        "branch_kind": Organization.Kind.BRANCH.value,
        "step": Organization.steplen,
        "year": Period.YEAR.value,
        "all": Period.ALL.value,
    }
    for kind, start in period_starts_for(award.day):
        params[f"start_{kind}"] = start
    return params


def _postgresql_outcome(row: Any) -> Outcome:
    (rule_id, active, requested, earlier_id, organization_id, branch_id, branch_path) = row[:7]
    points, entry_id = row[7], row[8]
    return Outcome(
        rule_id=rule_id,
        rule_active=bool(active),
        requested=int(requested or 0),
        earlier_id=earlier_id,
        organization_id=organization_id,
        branch_id=branch_id,
        branch_path=branch_path,
        points=int(points or 0),
        entry_id=entry_id,
    )


def award_postgresql(award: Award) -> Outcome | None:
    """The award in one prepared statement; None when a concurrent award took the key."""
    db = connections[DEFAULT_DB_ALIAS]  # the connection itself, not the per-call proxy
    try:
        if db.in_atomic_block:
            # Inside a caller's transaction a failed statement would break it: the
            # statement goes between a savepoint and its release, in one round trip.
            return awards_postgresql([award])[0]
        with prepared_cursor(db) as cursor:
            cursor.execute(_postgresql_award_sql(), _postgresql_params(award))
            row = cursor.fetchone()
    except IntegrityError:
        if not PointsEntry.objects.filter(idempotency_key=award.key).exists():
            raise
        return None
    return _postgresql_outcome(row)


# Not one of Django's savepoint names (``s<thread>_x<n>``): a savepoint of our own, taken
# and released (or rolled back to) within ``awards_postgresql``.
_AWARDS_SAVEPOINT = "dangjian_awards"


def awards_postgresql(awards: Sequence[Award]) -> list[Outcome]:
    """Awards, in order, inside the caller's transaction, in one round trip to the database.

    Each statement runs exactly as ``award_postgresql``'s, one after the other, each
    seeing the ones before it (caps, keys, totals); only the waiting is shared: a
    savepoint, the statements and the savepoint's release are sent without waiting for
    each other's results (libpq's pipeline mode), so a thousand awards cost one round
    trip instead of three thousand (a savepoint, the award, its release). When one of
    them fails (a concurrent award took its key) the rest are not run, the savepoint is
    rolled back (nothing written, the caller's transaction intact) and the error is
    raised; so is any other database error, after the same rollback if the connection
    still answers. Prepared even when queries are logged (the development settings that
    ``seed_demo`` runs under): the log then shows the statement as written, without its
    values.
    """
    db = connections[DEFAULT_DB_ALIAS]  # the connection itself, not the per-call proxy
    if not db.in_atomic_block:
        raise RuntimeError("awards_postgresql runs inside a transaction")
    if not awards:
        return []
    sql = _postgresql_award_sql()
    db.ensure_connection()
    cursors = []
    try:
        with db.wrap_database_errors, db.connection.pipeline(), db.cursor() as control:
            control.execute(f"SAVEPOINT {_AWARDS_SAVEPOINT}")
            for award in awards:
                cursor = prepared_cursor(db, even_when_logged=True)
                cursors.append(cursor)
                cursor.execute(sql, _postgresql_params(award))
            control.execute(f"RELEASE SAVEPOINT {_AWARDS_SAVEPOINT}")
        rows = [cursor.fetchone() for cursor in cursors]
    except BaseException:
        # Leave the caller's transaction as it was before the batch, even if the caller
        # catches the error and carries on (a database error, or a time limit or an
        # interrupt arriving meanwhile); a connection that is gone says so itself.
        with contextlib.suppress(DatabaseError), db.cursor() as control:
            control.execute(f"ROLLBACK TO SAVEPOINT {_AWARDS_SAVEPOINT}")
            control.execute(f"RELEASE SAVEPOINT {_AWARDS_SAVEPOINT}")
        raise
    finally:
        for cursor in cursors:
            cursor.close()
    return [_postgresql_outcome(row) for row in rows]


# --- internals: one award on SQLite ---------------------------------------------------

# SQLite has one writer at a time and the project begins every transaction IMMEDIATE,
# so everything read after BEGIN stays true until COMMIT: one read, then the writes.
_SQLITE_READ = """
SELECT r.id, r.points, r.max_points_per_award, r.daily_cap, r.is_active,
       (SELECT e.id FROM {entries} e WHERE e.idempotency_key = %s),
       o.id, COALESCE(b.id, o.id), COALESCE(b.path, o.path),
       (SELECT d.points FROM {rule_days} d
         WHERE d.member_id = %s AND d.rule_id = r.id AND d.day = %s)
FROM (SELECT 1) one
LEFT JOIN {rules} r ON r.code = %s
LEFT JOIN {members} m ON m.id = %s
LEFT JOIN {organizations} o ON o.id = COALESCE(
    (SELECT ms.organization_id FROM {memberships} ms
      WHERE ms.member_id = m.id AND ms.start_date <= %s
        AND (ms.end_date IS NULL OR ms.end_date > %s)
      ORDER BY ms.start_date DESC LIMIT 1),
    m.organization_id)
LEFT JOIN {organizations} b ON b.id = (
    SELECT a.id FROM {organizations} a
     WHERE a.kind = %s AND substr(o.path, 1, length(a.path)) = a.path
     ORDER BY a.depth DESC LIMIT 1)
"""


@memoize
def _sqlite_read_sql() -> str:
    return _SQLITE_READ.format(**_award_tables())


def award_sqlite(award: Award) -> Outcome | None:
    """The award in one read and four writes; None when the key turned out to be taken."""
    db = connections[DEFAULT_DB_ALIAS]  # the connection itself, not the per-call proxy
    day = db.ops.adapt_datefield_value(award.day)
    with transaction.atomic(using=db.alias), db.cursor() as cursor:
        cursor.execute(
            _sqlite_read_sql(),
            [
                award.key,
                award.member_id,
                day,
                award.rule_code,
                award.member_id,
                day,
                day,
                Organization.Kind.BRANCH.value,
            ],
        )
        row = cursor.fetchone()
        (rule_id, rule_points, most, cap, active, earlier_id) = row[:6]
        organization_id, branch_id, branch_path, used = row[6:]
        requested = 0
        if rule_id is not None:
            requested = rule_points * award.quantity
            if most is not None:
                requested = min(requested, most)
        outcome = Outcome(
            rule_id=rule_id,
            rule_active=bool(active),
            requested=requested,
            earlier_id=earlier_id,
            organization_id=organization_id,
            branch_id=branch_id,
            branch_path=branch_path,
            points=0,
            entry_id=None,
        )
        if rule_id is None or earlier_id is not None or not active or requested <= 0:
            return outcome
        if organization_id is None:
            return outcome
        points = requested if cap is None else min(requested, cap - (used or 0))
        if points <= 0:
            return outcome
        cursor.execute(
            _entry_insert_sql(),
            [
                award.member_id,
                organization_id,
                branch_id,
                rule_id,
                points,
                day,
                award.source_type_id,
                award.source_id,
                award.key,
                db.ops.adapt_datetimefield_value(award.at),
                award.created_by_id,
                award.note,
                None,
            ],
        )
        inserted = cursor.fetchone()
        if inserted is None:  # cannot happen while this transaction holds the write lock
            return None
        cursor.execute(_rule_day_sql(), [award.member_id, rule_id, day, points, points])
        totals_add(cursor, db, award.member_id, branch_id, award.day, points)
    return Outcome(
        rule_id=rule_id,
        rule_active=True,
        requested=requested,
        earlier_id=None,
        organization_id=organization_id,
        branch_id=branch_id,
        branch_path=branch_path,
        points=points,
        entry_id=inserted[0],
    )


# --- internals: shared ---------------------------------------------------------------


@memoize
def _rule_day_sql() -> str:
    table = sql_table(MemberRuleDayPoints)
    return (
        f"INSERT INTO {table} (member_id, rule_id, day, points, last_change)"
        " VALUES (%s, %s, %s, %s, %s)"
        f" ON CONFLICT (member_id, rule_id, day) DO UPDATE"
        f" SET points = {table}.points + excluded.points, last_change = excluded.points"
    )


def rule_day_add(member_id: int, rule_id: int, day: datetime.date, points: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute(_rule_day_sql(), [member_id, rule_id, sql_date(day), points, points])


# The entry's fields as ``Model.from_db`` takes them (every concrete field, in order).
ENTRY_FIELDS = (
    "id",
    "member_id",
    "organization_id",
    "branch_id",
    "rule_id",
    "points",
    "local_date",
    "source_type_id",
    "source_id",
    "idempotency_key",
    "created_at",
    "created_by_id",
    "note",
    "reverses_id",
)

_ENTRY_COLUMNS = ENTRY_FIELDS[1:]


@memoize
def _entry_insert_sql() -> str:
    return (
        f"INSERT INTO {sql_table(PointsEntry)} ({', '.join(_ENTRY_COLUMNS)})"
        f" VALUES ({', '.join(['%s'] * len(_ENTRY_COLUMNS))})"
        f" ON CONFLICT (idempotency_key) DO NOTHING RETURNING id"
    )


def entry_insert(entry: PointsEntry) -> bool:
    """Insert ``entry`` unless its key exists; True (and ``entry.pk`` set) if inserted."""
    adapted = {
        "created_at": connection.ops.adapt_datetimefield_value(entry.created_at),
        "local_date": sql_date(entry.local_date),
    }
    values = [adapted.get(column, getattr(entry, column)) for column in _ENTRY_COLUMNS]
    with connection.cursor() as cursor:
        cursor.execute(_entry_insert_sql(), values)
        row = cursor.fetchone()
    if row is None:
        return False
    entry.pk = row[0]
    entry._state.adding = False
    entry._state.db = connection.alias
    return True


# A member's year and all-time rows: a new one is a branch more in ``MemberYearBranches``.
_YEAR_BRANCH_PERIODS = (Period.ALL.value, Period.YEAR.value)


@memoize
def _totals_sql() -> tuple[str, str, str]:
    """The upserts of the member's rows, the branch's rows, and the member's branch count."""
    member_table = sql_table(MemberPeriodPoints)
    branch_table = sql_table(BranchPeriodTotal)
    year_table = sql_table(MemberYearBranches)
    count = len(STORED_PERIODS)
    return (
        f"INSERT INTO {member_table} (member_id, branch_id, period, start, points) VALUES "
        + ", ".join(["(%s, %s, %s, %s, %s)"] * count)
        + " ON CONFLICT (member_id, branch_id, period, start) DO UPDATE"
        f" SET points = {member_table}.points + excluded.points"
        " RETURNING period, points",
        f"INSERT INTO {branch_table} (branch_id, period, start, points, active_members) VALUES "
        + ", ".join(["(%s, %s, %s, %s, %s)"] * count)
        + " ON CONFLICT (period, start, branch_id) DO UPDATE"
        f" SET points = {branch_table}.points + excluded.points,"
        f" active_members = {branch_table}.active_members + excluded.active_members",
        f"INSERT INTO {year_table} (member_id, start, branches) VALUES (%s, %s, 1)"
        f" ON CONFLICT (member_id, start) DO UPDATE SET branches = {year_table}.branches + 1",
    )


def totals_add(
    cursor: Any, db: Any, member_id: int, branch_id: int, day: datetime.date, points: int
) -> None:
    """Add ``points`` to the member's and the branch's totals for every period of ``day``.

    A member counts as active in a period while their net points there are above zero,
    so the branch's active-member count moves only when that crosses zero. Rows are
    written in period order, the order the PostgreSQL award statement uses too; a year
    or all-time row that holds exactly the points just added is new (or was empty), and
    adds a branch to the member's ``MemberYearBranches`` for it.
    """
    adapt = db.ops.adapt_datefield_value
    periods = [(kind, adapt(start)) for kind, start in sorted(period_starts_for(day))]
    member_sql, branch_sql, year_sql = _totals_sql()
    cursor.execute(
        member_sql,
        [value for kind, start in periods for value in (member_id, branch_id, kind, start, points)],
    )
    after = dict(cursor.fetchall())
    for kind, start in periods:
        if kind in _YEAR_BRANCH_PERIODS and points > 0 and after[kind] == points:
            cursor.execute(year_sql, [member_id, start])
    rows: list[Any] = []
    for kind, start in periods:
        new_total = after[kind]
        active_change = int(new_total > 0) - int(new_total - points > 0)
        rows.extend((branch_id, kind, start, points, active_change))
    cursor.execute(branch_sql, rows)
