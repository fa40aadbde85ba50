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
``award_postgresql``); inside a caller's transaction, the statement between a savepoint
and its release, still one round trip (libpq's pipeline mode), and ``points_award_many``
sends many awards that way at once (``awards_postgresql``). On SQLite, which has one
writer at a time, it is one read and four writes inside ``BEGIN IMMEDIATE``.

The headcounts a membership change writes are in ``learning.people.headcounts``; the
version stamps that tell office screens to refresh, in ``learning.common.versions``.
"""

from __future__ import annotations

import datetime
import logging
import zoneinfo
from collections.abc import Sequence
from dataclasses import dataclass

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import (
    DEFAULT_DB_ALIAS,
    IntegrityError,
    connection,
    connections,
    models,
    transaction,
)
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from learning.common.versions import ledger_versions_touch, ledger_versions_touch_soon
from learning.models import (
    Member,
    PointsEntry,
)
from learning.points.award_sql import (
    ENTRY_FIELDS,
    Award,
    Outcome,
    award_postgresql,
    award_sqlite,
    awards_postgresql,
    entry_insert,
    rule_day_add,
    totals_add,
)

logger = logging.getLogger(__name__)

LOCAL_TIME_ZONE = zoneinfo.ZoneInfo(settings.TIME_ZONE)


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
    request = AwardRequest(
        member=member,
        rule_code=rule_code,
        key=key,
        source=source,
        quantity=quantity,
        occurred_at=occurred_at,
        note=note,
        created_by=created_by,
    )
    award = _award(request)
    outcome = award_postgresql(award) if connection.vendor == "postgresql" else award_sqlite(award)
    return _result(award, member, outcome)


@dataclass(frozen=True)
class AwardRequest:
    """One award for ``points_award_many``: the arguments of ``points_award``."""

    member: Member
    rule_code: str
    key: str
    source: models.Model | None = None
    quantity: int = 1
    occurred_at: datetime.datetime | None = None
    note: str = ""
    created_by: Member | None = None


def points_award_many(*, awards: Sequence[AwardRequest]) -> list[AwardResult]:
    """Make ``awards`` in order, in one transaction, each exactly as ``points_award`` would.

    For one writer with many awards at hand (``seed_demo``'s days of study): on
    PostgreSQL the award statements go to the database as one pipeline, a single round
    trip instead of two or three per award (``awards_postgresql``). Caps, keys and
    totals are the same, since every statement sees the ones before it. The transaction
    holds the rows of every member it awarded until it ends, so concurrent writers for
    the same members wait for it (and, on PostgreSQL, two such batches can deadlock:
    see the module docstring). If a concurrent award took one of the keys, the batch's
    pipeline is undone and the awards are made one by one, that one as a duplicate.
    """
    prepared = [_award(request) for request in awards]  # every argument checked first
    single = award_postgresql if connection.vendor == "postgresql" else award_sqlite
    # A savepoint of its own: whatever goes wrong, a caller's transaction stays usable.
    with transaction.atomic():
        outcomes: Sequence[Outcome | None] | None = None
        if connection.vendor == "postgresql":
            try:
                outcomes = awards_postgresql(prepared)
            except IntegrityError:
                outcomes = None  # nothing was written: make them one by one
        if outcomes is None:
            outcomes = [single(award) for award in prepared]
        return [
            _result(award, request.member, outcome)
            for award, request, outcome in zip(prepared, awards, outcomes, strict=True)
        ]


def _award(request: AwardRequest) -> Award:
    """Check an award's arguments and turn them into what the SQL needs."""
    quantity, key = request.quantity, request.key
    if not isinstance(quantity, int) or quantity < 1:
        raise ValueError("quantity must be a positive whole number")
    if not key or len(key) > 200:
        raise ValueError("an idempotency key of 1 to 200 characters is required")
    at = request.occurred_at or timezone.now()
    source_type_id, source_id = _source_reference(request.source)
    return Award(
        member_id=request.member.pk,
        rule_code=request.rule_code,
        key=key,
        quantity=quantity,
        at=at,
        day=timezone.localdate(at, timezone=LOCAL_TIME_ZONE),
        source_type_id=source_type_id,
        source_id=source_id,
        created_by_id=request.created_by.pk if request.created_by else None,
        note=request.note[:500],
    )


def _result(award: Award, member: Member, outcome: Outcome | None) -> AwardResult:
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
        ENTRY_FIELDS,
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
        rule_day_add(original.member_id, original.rule_id, original.local_date, -original.points)
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
        if not entry_insert(reversal):
            raise ValidationError(_("This entry has already been reversed."))
        db = connections[DEFAULT_DB_ALIAS]
        with db.cursor() as cursor:
            totals_add(
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


def points_reverse_source(
    *, source: models.Model, reason: str, by: Member | None
) -> list[PointsEntry]:
    """Reverse every entry awarded for ``source`` that is not reversed yet (once each).

    What confirming an integrity flag does to points already awarded for an attempt:
    each entry gets its reversal with ``reason``, which the member sees on *My points*.
    """
    source_type_id, source_id = _source_reference(source)
    entries = PointsEntry.objects.filter(
        source_type_id=source_type_id,
        source_id=source_id,
        reverses__isnull=True,
        reversed_by__isnull=True,
    ).order_by("pk")
    return [points_reverse(entry=entry, reason=reason, by=by) for entry in entries]


def _duplicate(award: Award, member: Member) -> AwardResult:
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
