"""The only way points enter (or leave) the ledger: ``points_award`` and ``points_reverse``.

Each award runs in one transaction that, in this order, locks the member's cap row for
the rule and day, inserts the entry (its idempotency key is unique, so a repeated or
concurrent request can never award twice), and adds the points to the member's and the
branch's totals for the day, week, month, quarter, year and all time. Rows are always
locked in that order (cap row, member totals, branch totals; within a table by period
kind), so concurrent awards queue behind each other instead of deadlocking — as long
as each transaction makes one award (or its awards are all for one member). A caller
that must make several awards for different members in one transaction should expect
to wait on (and, on PostgreSQL, possibly deadlock with) other such callers. The totals
are upserts that add to the stored value (``points = points + excluded.points``), which
is correct under concurrency on PostgreSQL (the row lock serialises them) and on SQLite
(one writer at a time).
"""

from __future__ import annotations

import datetime
import logging
import zoneinfo
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import connection, models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

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
from learning.periods import period_starts_for

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
    rule = _rule(rule_code)

    if _key_used(key):
        return _duplicate(key, member, rule)
    if not rule.is_active:
        return AwardResult(AwardStatus.INACTIVE_RULE, 0, None)

    at = occurred_at or timezone.now()
    day = timezone.localdate(at, timezone=LOCAL_TIME_ZONE)
    requested = rule.points_for(quantity)
    if requested <= 0:
        return AwardResult(AwardStatus.NOTHING, 0, None)
    source_type_id, source_id = _source_reference(source)

    with transaction.atomic():
        placement = _member_placement(member.pk, day)
        if placement is None:
            return AwardResult(AwardStatus.NO_ORGANIZATION, 0, None)
        organization_id, branch_id, branch_path = placement

        points = requested
        if rule.daily_cap is not None:
            used = _lock_rule_day(member.pk, rule.pk, day)
            points = min(requested, rule.daily_cap - used)
            if points <= 0:
                return AwardResult(AwardStatus.CAPPED, 0, None)

        entry = PointsEntry(
            member_id=member.pk,
            organization_id=organization_id,
            branch_id=branch_id,
            rule_id=rule.pk,
            points=points,
            local_date=day,
            source_type_id=source_type_id,
            source_id=source_id,
            idempotency_key=key,
            created_at=at,
            created_by_id=created_by.pk if created_by else None,
            note=note[:500],
        )
        if not _insert_entry(entry):
            # A concurrent request with the same key won; nothing of ours was written
            # except a +0 on the cap row.
            inserted = False
        else:
            inserted = True
            _add_to_rule_day(member.pk, rule.pk, day, points)
            _add_to_totals(member.pk, branch_id, day, points)
            transaction.on_commit(lambda: ledger_versions_touch(branch_path), robust=True)

    if not inserted:
        return _duplicate(key, member, rule)
    status = AwardStatus.AWARDED if points == requested else AwardStatus.PARTIAL
    return AwardResult(status, points, entry)


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
        if original.rule.daily_cap is not None:
            _lock_rule_day(original.member_id, original.rule_id, original.local_date)
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
        _add_to_rule_day(
            original.member_id, original.rule_id, original.local_date, -original.points
        )
        _add_to_totals(
            original.member_id, original.branch_id, original.local_date, -original.points
        )
        branch_path = original.branch.path
        transaction.on_commit(lambda: ledger_versions_touch(branch_path), robust=True)
    logger.info("points entry %s reversed by %s: %s", original.pk, by, reason)
    return reversal


def ledger_version(path: str) -> str:
    """A token that changes whenever points change anywhere in the subtree at ``path``."""
    return str(cache.get(LEDGER_VERSION_KEY.format(path=path), "0"))


def headcount_record(changes: Iterable[tuple[int, datetime.date, int]]) -> None:
    """Add (organisation id, day, +/- members) changes to the headcount table."""
    summed: dict[tuple[int, datetime.date], int] = defaultdict(int)
    for organization_id, day, delta in changes:
        summed[(organization_id, day)] += delta
    rows = [(org, _date(day), delta) for (org, day), delta in sorted(summed.items()) if delta]
    if not rows:
        return
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


# --- internals -----------------------------------------------------------------


# The two reads every award makes are plain SQL: building them with the ORM cost
# more than running them (measured: about half of an award's time on SQLite).


def _rule(code: str) -> PointsRule:
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id, points, max_points_per_award, daily_cap, is_active"
            f" FROM {_table(PointsRule)} WHERE code = %s",
            [code],
        )
        row = cursor.fetchone()
    if row is None:
        raise ValueError(f"unknown points rule {code!r}")
    rule_id, points, most, cap, active = row
    return PointsRule(
        pk=rule_id,
        code=code,
        points=points,
        max_points_per_award=most,
        daily_cap=cap,
        is_active=bool(active),
    )


def _key_used(key: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT 1 FROM {_table(PointsEntry)} WHERE idempotency_key = %s", [key])
        return cursor.fetchone() is not None


def _duplicate(key: str, member: Member, rule: PointsRule) -> AwardResult:
    """The earlier award with ``key``; a key reused for another member or rule is a bug."""
    earlier = PointsEntry.objects.get(idempotency_key=key)
    if earlier.member_id != member.pk or earlier.rule_id != rule.pk:
        raise ValueError(
            f"idempotency key {key!r} was used for another member or rule; "
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


def _table(model: type[models.Model]) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _member_placement(member_id: int, day: datetime.date) -> tuple[int, int, str] | None:
    """Where the member belonged on ``day``, and the branch its points count for.

    The organisation comes from the membership covering ``day`` (so a late or backdated
    award lands where the member was), falling back to the member's current
    organisation for a day outside every membership. The branch is the nearest
    organisation of kind "branch" at or above it; members attached directly to a
    committee or general branch count for that organisation itself. On PostgreSQL the
    member row is share-locked, so an award waits for a transfer in progress
    (``member_transfer`` locks the row for update) and then sees its result.
    """
    organizations = _table(Organization)
    members = _table(Member)
    memberships = _table(Membership)
    lock = " FOR SHARE OF m" if connection.vendor == "postgresql" else ""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT COALESCE(ms.organization_id, m.organization_id) FROM {members} m"
            f" LEFT JOIN {memberships} ms ON ms.member_id = m.id AND ms.start_date <= %s"
            f"  AND (ms.end_date IS NULL OR ms.end_date > %s)"
            f" WHERE m.id = %s{lock}",
            [_date(day), _date(day), member_id],
        )
        row = cursor.fetchone()
        if row is None or row[0] is None:
            return None
        cursor.execute(
            f"SELECT o.id, o.path, b.id, b.path FROM {organizations} o"
            f" LEFT JOIN {organizations} b ON b.kind = %s"
            f"  AND substr(o.path, 1, length(b.path)) = b.path"
            f" WHERE o.id = %s ORDER BY b.depth DESC LIMIT 1",
            [Organization.Kind.BRANCH, row[0]],
        )
        organization_id, organization_path, branch_id, branch_path = cursor.fetchone()
    if branch_id is None:
        return organization_id, organization_id, organization_path
    return organization_id, branch_id, branch_path


def _lock_rule_day(member_id: int, rule_id: int, day: datetime.date) -> int:
    """Lock (creating if needed) the member's cap row and return the points it holds."""
    table = _table(MemberRuleDayPoints)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (member_id, rule_id, day, points) VALUES (%s, %s, %s, 0)"
            f" ON CONFLICT (member_id, rule_id, day) DO UPDATE SET points = {table}.points"
            f" RETURNING points",
            [member_id, rule_id, _date(day)],
        )
        return int(cursor.fetchone()[0])


def _add_to_rule_day(member_id: int, rule_id: int, day: datetime.date, points: int) -> None:
    table = _table(MemberRuleDayPoints)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (member_id, rule_id, day, points) VALUES (%s, %s, %s, %s)"
            f" ON CONFLICT (member_id, rule_id, day) DO UPDATE"
            f" SET points = {table}.points + excluded.points",
            [member_id, rule_id, _date(day), points],
        )


_ENTRY_COLUMNS = (
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


def _insert_entry(entry: PointsEntry) -> bool:
    """Insert ``entry`` unless its key exists; True (and ``entry.pk`` set) if inserted."""
    table = _table(PointsEntry)
    adapted = {
        "created_at": connection.ops.adapt_datetimefield_value(entry.created_at),
        "local_date": _date(entry.local_date),
    }
    values = [adapted.get(column, getattr(entry, column)) for column in _ENTRY_COLUMNS]
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} ({', '.join(_ENTRY_COLUMNS)})"
            f" VALUES ({', '.join(['%s'] * len(_ENTRY_COLUMNS))})"
            f" ON CONFLICT (idempotency_key) DO NOTHING RETURNING id",
            values,
        )
        row = cursor.fetchone()
    if row is None:
        return False
    entry.pk = row[0]
    entry._state.adding = False
    entry._state.db = connection.alias
    return True


def _add_to_totals(member_id: int, branch_id: int, day: datetime.date, points: int) -> None:
    """Add ``points`` to the member's and the branch's totals for every period of ``day``.

    A member counts as active in a period while their net points there are above zero,
    so the branch's active-member count moves only when that crosses zero.
    """
    periods = period_starts_for(day)
    member_table = _table(MemberPeriodPoints)
    branch_table = _table(BranchPeriodTotal)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {member_table} (member_id, branch_id, period, start, points) VALUES "
            + ", ".join(["(%s, %s, %s, %s, %s)"] * len(periods))
            + " ON CONFLICT (member_id, branch_id, period, start) DO UPDATE"
            f" SET points = {member_table}.points + excluded.points"
            " RETURNING period, points",
            [
                value
                for kind, start in periods
                for value in (member_id, branch_id, kind, _date(start), points)
            ],
        )
        after = {kind: int(total) for kind, total in cursor.fetchall()}
        rows: list[Any] = []
        for kind, start in periods:
            new_total = after[kind]
            old_total = new_total - points
            active_change = int(new_total > 0) - int(old_total > 0)
            rows.extend((branch_id, kind, _date(start), points, active_change))
        cursor.execute(
            f"INSERT INTO {branch_table} (branch_id, period, start, points, active_members) VALUES "
            + ", ".join(["(%s, %s, %s, %s, %s)"] * len(periods))
            + " ON CONFLICT (period, start, branch_id) DO UPDATE"
            f" SET points = {branch_table}.points + excluded.points,"
            f" active_members = {branch_table}.active_members + excluded.active_members",
            rows,
        )


def ledger_versions_touch(path: str) -> None:
    """Tell cached screen snapshots of every subtree containing ``path`` to refresh.

    Called after commit; a cache outage only makes snapshots stale for their short
    timeout, so it is logged, never raised into the award that already committed.
    """
    stamp = str(timezone.now().timestamp())
    step = Organization.steplen
    prefixes = [path[:end] for end in range(step, len(path) + 1, step)]
    try:
        cache.set_many({LEDGER_VERSION_KEY.format(path=p): stamp for p in prefixes}, None)
    except Exception:
        logger.warning("could not bump screen snapshot versions for %s", path, exc_info=True)


def _chunks(rows: Sequence[Any], size: int) -> Iterable[Sequence[Any]]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]
