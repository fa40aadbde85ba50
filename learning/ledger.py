"""The only way points enter (or leave) the ledger: ``points_award`` and ``points_reverse``.

Each award runs in one transaction that, in this order, locks the member's row for the
rule and day (the daily cap), inserts the entry (its idempotency key is unique, so a
repeated or concurrent request can never award twice), and adds the points to the
member's and the branch's totals for the day, week, month, quarter, year and all time.
Rows are always locked in that order (rule-day row, entry, member totals, branch
totals; within a table by period kind), so concurrent awards queue behind each other
instead of deadlocking — as long as each transaction makes one award (or its awards
are all for one member). A caller that must make several awards for different members
in one transaction should expect to wait on (and, on PostgreSQL, possibly deadlock
with) other such callers. The totals are upserts that add to the stored value
(``points = points + excluded.points``), which is correct under concurrency on
PostgreSQL (the row lock serialises them) and on SQLite (one writer at a time).

On PostgreSQL the whole award is one statement (data-modifying CTEs), prepared once per
connection: reading the rule, the key, the member's organisation and branch, capping,
inserting and adding up cost one round trip and no explicit transaction (see
``_award_postgresql``). On SQLite, which has one writer at a time, it is one read and
four writes inside ``BEGIN IMMEDIATE``.

The module also keeps the headcounts (``headcount_record``), which the membership
services call in the transaction of every join, transfer and departure.
"""

from __future__ import annotations

import atexit
import datetime
import logging
import os
import threading
import time
import zoneinfo
from collections import defaultdict
from collections.abc import Iterable, Sequence
from contextlib import nullcontext
from dataclasses import dataclass
from functools import cache as memoize
from typing import Any

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import DEFAULT_DB_ALIAS, IntegrityError, connection, connections, models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from learning import redis_cache
from learning.db import prepared_cursor
from learning.models import (
    BranchPeriodTotal,
    HeadcountChange,
    Member,
    MemberPeriodPoints,
    MemberRuleDayPoints,
    Membership,
    Organization,
    PointsEntry,
    PointsRule,
)
from learning.models.points import MemberYearBranches, OrganizationHeadcount
from learning.periods import STORED_PERIODS, Period, period_starts_for

logger = logging.getLogger(__name__)

LOCAL_TIME_ZONE = zoneinfo.ZoneInfo(settings.TIME_ZONE)

LEDGER_VERSION_KEY = "dangjian:ledger-version:{path}"


class AwardStatus(models.TextChoices):
    AWARDED = "awarded", gettext_lazy("Awarded")
    PARTIAL = "partial", gettext_lazy("Awarded up to the daily cap")
    CAPPED = "capped", gettext_lazy("Daily cap reached")
    DUPLICATE = "duplicate", gettext_lazy("Already awarded")
    INACTIVE_RULE = "inactive_rule", gettext_lazy("Rule switched off")
    NO_ORGANIZATION = "no_organization", gettext_lazy("Member belongs to no organisation")
    NOTHING = "nothing", gettext_lazy("Nothing to award")


@dataclass(frozen=True)
class AwardResult:
    """What ``points_award`` did: the entry (new or earlier), the points, and why."""

    status: str
    points: int
    entry: PointsEntry | None

    @property
    def created(self) -> bool:
        return self.status in (AwardStatus.AWARDED, AwardStatus.PARTIAL)

    @property
    def reason(self) -> str:
        return str(AwardStatus(self.status).label)


@dataclass(frozen=True)
class _Award:
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
class _Outcome:
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


def points_award(
    *,
    member: Member,
    rule_code: str,
    key: str,
    source: models.Model | None = None,
    quantity: int = 1,
    occurred_at: datetime.datetime | None = None,
    note: str = "",
    created_by: Member | None = None,
) -> AwardResult:
    """Award ``quantity`` units of rule ``rule_code`` to ``member``, once per ``key``.

    The points are the rule's points times ``quantity`` (limited by the rule's most
    points per award), then limited by what is left of the rule's daily cap for the
    member's local day: a partial award up to the cap, nothing once capped. The same
    ``key`` never awards twice: the earlier entry is returned instead.
    """
    if not isinstance(quantity, int) or quantity < 1:
        raise ValueError("quantity must be a positive whole number")
    if not key or len(key) > 200:
        raise ValueError("an idempotency key of 1 to 200 characters is required")
    at = occurred_at or timezone.now()
    source_type_id, source_id = _source_reference(source)
    award = _Award(
        member_id=member.pk,
        rule_code=rule_code,
        key=key,
        quantity=quantity,
        at=at,
        day=timezone.localdate(at, timezone=LOCAL_TIME_ZONE),
        source_type_id=source_type_id,
        source_id=source_id,
        created_by_id=created_by.pk if created_by else None,
        note=note[:500],
    )
    if connection.vendor == "postgresql":
        outcome = _award_postgresql(award)
    else:
        outcome = _award_sqlite(award)
    return _result(award, member, outcome)


def _result(award: _Award, member: Member, outcome: _Outcome | None) -> AwardResult:
    """Turn what the database did into the caller's answer (the order of the checks matters)."""
    if outcome is None:  # lost a race for the key to a concurrent award
        return _duplicate(award, member)
    if outcome.rule_id is None:
        raise ValueError(f"unknown points rule {award.rule_code!r}")
    if outcome.earlier_id is not None:
        return _duplicate(award, member)
    if not outcome.rule_active:
        return AwardResult(AwardStatus.INACTIVE_RULE, 0, None)
    if outcome.requested <= 0:
        return AwardResult(AwardStatus.NOTHING, 0, None)
    if outcome.organization_id is None:
        return AwardResult(AwardStatus.NO_ORGANIZATION, 0, None)
    if outcome.entry_id is None:
        return AwardResult(AwardStatus.CAPPED, 0, None)
    entry = PointsEntry.from_db(
        connection.alias,
        _ENTRY_FIELDS,
        (
            outcome.entry_id,
            award.member_id,
            outcome.organization_id,
            outcome.branch_id,
            outcome.rule_id,
            outcome.points,
            award.day,
            award.source_type_id,
            award.source_id,
            award.key,
            award.at,
            award.created_by_id,
            award.note,
            None,
        ),
    )
    branch_path = outcome.branch_path or ""
    transaction.on_commit(lambda: ledger_versions_touch_soon(branch_path), robust=True)
    status = AwardStatus.AWARDED if outcome.points == outcome.requested else AwardStatus.PARTIAL
    return AwardResult(status, outcome.points, entry)


def points_reverse(*, entry: PointsEntry, reason: str, by: Member | None) -> PointsEntry:
    """Cancel ``entry`` with a negative entry of the same size, counted where it was.

    The reversal keeps the original's member, branch and day so every total it touched
    goes back; an entry can be reversed once, and a reversal cannot itself be reversed.
    """
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Give a reason for the reversal.")})
    if entry.reverses_id is not None:
        raise ValidationError(_("A reversal cannot be reversed."))
    key = f"reversal:{entry.pk}"
    with transaction.atomic():
        original = PointsEntry.objects.select_related("branch").get(pk=entry.pk)
        if PointsEntry.objects.filter(reverses=original).exists():
            raise ValidationError(_("This entry has already been reversed."))
        # The rule-day row first, as an award locks it: the same order, no deadlock.
        _add_to_rule_day(
            original.member_id, original.rule_id, original.local_date, -original.points
        )
        reversal = PointsEntry(
            member_id=original.member_id,
            organization_id=original.organization_id,
            branch_id=original.branch_id,
            rule_id=original.rule_id,
            points=-original.points,
            local_date=original.local_date,
            source_type_id=original.source_type_id,
            source_id=original.source_id,
            idempotency_key=key,
            created_at=timezone.now(),
            created_by_id=by.pk if by else None,
            note=reason[:500],
            reverses=original,
        )
        if not _insert_entry(reversal):
            raise ValidationError(_("This entry has already been reversed."))
        db = connections[DEFAULT_DB_ALIAS]
        with db.cursor() as cursor:
            _add_to_totals(
                cursor,
                db,
                original.member_id,
                original.branch_id,
                original.local_date,
                -original.points,
            )
        branch_path = original.branch.path
        transaction.on_commit(lambda: ledger_versions_touch(branch_path), robust=True)
    logger.info("points entry %s reversed by %s: %s", original.pk, by, reason)
    return reversal


def ledger_version(path: str) -> str:
    """A token that changes whenever points change anywhere in the subtree at ``path``."""
    return str(cache.get(LEDGER_VERSION_KEY.format(path=path), "0"))


def ledger_versions_touch(path: str) -> None:
    """Tell cached screen snapshots of every subtree containing ``path`` to refresh.

    Called after commit; a cache outage only makes snapshots stale for their short
    timeout, so it is logged, never raised into the award that already committed.
    """
    _versions_bump([path])


def ledger_versions_touch_soon(path: str) -> None:
    """``ledger_versions_touch`` within ``DANGJIAN_LEDGER_VERSION_FLUSH_SECONDS``.

    An award's bump was a Redis ``MSET`` of its own, about 40 % of the awarding process's
    CPU. Bumps are instead collected per process and sent together by a background
    thread every few hundredths of a second: screens refresh every 30 s, so the delay is
    invisible, and a bump lost with a dying process is bounded by the snapshots' cache
    timeout. With the setting at 0 (the tests) the bump is immediate.
    """
    if settings.DANGJIAN_LEDGER_VERSION_FLUSH_SECONDS <= 0:
        ledger_versions_touch(path)
        return
    _pending_bumps.add(path)


def _versions_bump(paths: Iterable[str]) -> None:
    keys = {key for path in paths for key in _version_keys(path)}
    if not keys:
        return
    stamp = time.time_ns() // 1000
    try:
        redis_cache.set_many_forever(dict.fromkeys(sorted(keys), stamp))
    except Exception:
        logger.warning("could not bump screen snapshot versions for %s", keys, exc_info=True)


class _PendingBumps:
    """The subtree paths awarded in since the last flush, sent by one thread per process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._paths: set[str] = set()
        self._owner_pid = 0
        self._thread: threading.Thread | None = None

    def add(self, path: str) -> None:
        with self._lock:
            self._paths.add(path)
            # A forked worker inherits the object but not the thread: start its own.
            if self._owner_pid != os.getpid() or self._thread is None:
                self._owner_pid = os.getpid()
                self._thread = threading.Thread(
                    target=self._run, name="ledger-version-bumps", daemon=True
                )
                self._thread.start()

    def flush(self) -> None:
        with self._lock:
            paths, self._paths = self._paths, set()
        if paths:
            _versions_bump(paths)

    def _run(self) -> None:
        while True:
            time.sleep(settings.DANGJIAN_LEDGER_VERSION_FLUSH_SECONDS)
            self.flush()


_pending_bumps = _PendingBumps()
atexit.register(_pending_bumps.flush)


@memoize
def _version_keys(path: str) -> tuple[str, ...]:
    step = Organization.steplen
    return tuple(
        LEDGER_VERSION_KEY.format(path=path[:end]) for end in range(step, len(path) + 1, step)
    )


# --- headcounts -------------------------------------------------------------------


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
    rows = [(org, _date(day), delta) for (org, day), delta in sorted(summed.items()) if delta]
    if not rows:
        return
    per_organization: dict[int, int] = defaultdict(int)
    for organization_id, _day, delta in rows:
        per_organization[organization_id] += delta
    table = _table(HeadcountChange)
    with connection.cursor() as cursor:
        for chunk in _chunks(rows, 300):
            cursor.execute(
                f"INSERT INTO {table} (organization_id, day, delta) VALUES "
                + ", ".join(["(%s, %s, %s)"] * len(chunk))
                + f" ON CONFLICT (organization_id, day) DO UPDATE"
                f" SET delta = {table}.delta + excluded.delta",
                [value for row in chunk for value in row],
            )
    branches = organization_branches(per_organization)
    # Every organisation gets its row, even when its changes add up to nothing: the
    # row says which branch its changes on other days belong to.
    totals = [(org, branches.get(org), delta) for org, delta in sorted(per_organization.items())]
    table = _table(OrganizationHeadcount)
    with connection.cursor() as cursor:
        for chunk in _chunks(totals, 300):
            cursor.execute(
                f"INSERT INTO {table} (organization_id, branch_id, members) VALUES "
                + ", ".join(["(%s, %s, %s)"] * len(chunk))
                + f" ON CONFLICT (organization_id) DO UPDATE"
                f" SET members = {table}.members + excluded.members",
                [value for row in chunk for value in row],
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
                    f"LOCK TABLE {_table(OrganizationHeadcount)} IN SHARE ROW EXCLUSIVE MODE"
                )
        stored = dict(OrganizationHeadcount.objects.values_list("organization_id", "branch_id"))
        current = organization_branches(stored)
        changed = [
            (current.get(org), org) for org, branch in stored.items() if current.get(org) != branch
        ]
        if changed:
            with connection.cursor() as cursor:
                cursor.executemany(
                    f"UPDATE {_table(OrganizationHeadcount)} SET branch_id = %s"
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
    for chunk in _chunks(ids, 500):
        paths.update(Organization.objects.filter(pk__in=chunk).values_list("id", "path"))
    step = Organization.steplen
    ancestors = {path[:end] for path in paths.values() for end in range(step, len(path) + 1, step)}
    branch_by_path: dict[str, int] = {}
    ordered = sorted(ancestors)
    for chunk in _chunks(ordered, 500):
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


@memoize
def _postgresql_award_sql() -> str:
    # The period kinds are our own constants; their starts are parameters.
    periods = ", ".join(f"('{kind}', %(start_{kind})s::date)" for kind in sorted(STORED_PERIODS))
    sql = _POSTGRESQL_AWARD.format(
        rules=_table(PointsRule),
        entries=_table(PointsEntry),
        memberships=_table(Membership),
        members=_table(Member),
        organizations=_table(Organization),
        rule_days=_table(MemberRuleDayPoints),
        member_periods=_table(MemberPeriodPoints),
        branch_periods=_table(BranchPeriodTotal),
        year_branches=_table(MemberYearBranches),
        periods=periods,
    )
    # One line without runs of spaces: psycopg caches its parse of statements up to 4 kB
    # (it holds no quoted text, so collapsing whitespace changes nothing else).
    return " ".join(sql.split())


def _award_postgresql(award: _Award) -> _Outcome | None:
    """The award in one prepared statement; None when a concurrent award took the key."""
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
    db = connections[DEFAULT_DB_ALIAS]  # the connection itself, not the per-call proxy
    try:
        # Inside a caller's transaction a failed statement would break it: a savepoint
        # keeps the caller's work when the key turns out to be taken.
        savepoint = transaction.atomic() if db.in_atomic_block else nullcontext()
        with savepoint, prepared_cursor(db) as cursor:
            cursor.execute(_postgresql_award_sql(), params)
            row = cursor.fetchone()
    except IntegrityError:
        if not PointsEntry.objects.filter(idempotency_key=award.key).exists():
            raise
        return None
    (rule_id, active, requested, earlier_id, organization_id, branch_id, branch_path) = row[:7]
    points, entry_id = row[7], row[8]
    return _Outcome(
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
    return _SQLITE_READ.format(
        rules=_table(PointsRule),
        entries=_table(PointsEntry),
        memberships=_table(Membership),
        members=_table(Member),
        organizations=_table(Organization),
        rule_days=_table(MemberRuleDayPoints),
    )


def _award_sqlite(award: _Award) -> _Outcome | None:
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
        outcome = _Outcome(
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
        _add_to_totals(cursor, db, award.member_id, branch_id, award.day, points)
    return _Outcome(
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


def _duplicate(award: _Award, member: Member) -> AwardResult:
    """The earlier award with the key; a key reused for another member or rule is a bug."""
    earlier = PointsEntry.objects.select_related("rule").get(idempotency_key=award.key)
    if earlier.member_id != member.pk or earlier.rule.code != award.rule_code:
        raise ValueError(
            f"idempotency key {award.key!r} was used for another member or rule; "
            "derive keys from the member, the rule and what happened"
        )
    return AwardResult(AwardStatus.DUPLICATE, earlier.points, earlier)


def _source_reference(source: models.Model | None) -> tuple[int | None, str]:
    if source is None:
        return None, ""
    content_type = ContentType.objects.get_for_model(source, for_concrete_model=False)
    return content_type.pk, str(source.pk)


def _date(day: datetime.date) -> Any:
    return connection.ops.adapt_datefield_value(day)


@memoize
def _table(model: type[models.Model]) -> str:
    return connection.ops.quote_name(model._meta.db_table)


@memoize
def _rule_day_sql() -> str:
    table = _table(MemberRuleDayPoints)
    return (
        f"INSERT INTO {table} (member_id, rule_id, day, points, last_change)"
        " VALUES (%s, %s, %s, %s, %s)"
        f" ON CONFLICT (member_id, rule_id, day) DO UPDATE"
        f" SET points = {table}.points + excluded.points, last_change = excluded.points"
    )


def _add_to_rule_day(member_id: int, rule_id: int, day: datetime.date, points: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute(_rule_day_sql(), [member_id, rule_id, _date(day), points, points])


# The entry's fields as ``Model.from_db`` takes them (every concrete field, in order).
_ENTRY_FIELDS = (
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

_ENTRY_COLUMNS = _ENTRY_FIELDS[1:]


@memoize
def _entry_insert_sql() -> str:
    return (
        f"INSERT INTO {_table(PointsEntry)} ({', '.join(_ENTRY_COLUMNS)})"
        f" VALUES ({', '.join(['%s'] * len(_ENTRY_COLUMNS))})"
        f" ON CONFLICT (idempotency_key) DO NOTHING RETURNING id"
    )


def _insert_entry(entry: PointsEntry) -> bool:
    """Insert ``entry`` unless its key exists; True (and ``entry.pk`` set) if inserted."""
    adapted = {
        "created_at": connection.ops.adapt_datetimefield_value(entry.created_at),
        "local_date": _date(entry.local_date),
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
    member_table = _table(MemberPeriodPoints)
    branch_table = _table(BranchPeriodTotal)
    year_table = _table(MemberYearBranches)
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


def _add_to_totals(
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


def _chunks(rows: Sequence[Any], size: int) -> Iterable[Sequence[Any]]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]
