"""The large benchmark dataset: a year of skewed activity in a 500-branch organisation.

Organisations and members go through the product's own services (so tree paths,
memberships, transfers and headcount changes are exactly what the product writes);
the five million ledger entries cannot go through ``points_award`` in any reasonable
time, so they are generated here and bulk-loaded (PostgreSQL ``COPY``, SQLite
``executemany`` in one transaction), and every total ``points_award`` would have kept
is then built set-based from the entries with ``INSERT … SELECT … GROUP BY``.

The dataset is deterministic (one seed) and is built once per database: a row in the
``bench_dataset`` table, written last, records what was built, so an interrupted build
is never mistaken for a finished one and a rerun reuses the data.
"""

from __future__ import annotations

import bisect
import datetime
import heapq
import json
import random
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from django.db import connection, transaction

from learning.common.periods import ALL_TIME_START, STORED_PERIODS, Period
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
from learning.models.points import MemberYearBranches
from learning.people import services

GENERATOR_VERSION = 1
META_TABLE = "bench_dataset"
SHARED_PASSWORD = "bench-shared-initial-password"  # members never log in here
MEMBER_CHUNK = 5_000  # members per members_bulk_create call (one password hash each)
ENTRY_BATCH = 50_000
UTC_OFFSET_SECONDS = 8 * 3600  # Asia/Shanghai has no daylight saving time

# How the generated awards are spread over rules, and the points one award gives
# (e.g. a daily quiz with 1 to 5 correct answers). Caps are not enforced here: the
# ranking benchmark does not depend on them, and the award benchmark checks them.
RULE_MIX: dict[str, tuple[int, tuple[int, ...]]] = {
    "daily_quiz_correct": (24, (1, 2, 3, 4, 5, 5, 5)),
    "study_time": (26, (1, 1, 2, 2, 3, 4, 6)),
    "lesson_completed": (22, (1,)),
    "challenge_quiz": (6, (1, 2, 3, 4, 6)),
    "weekly_quiz": (6, (1, 2, 3, 4, 5)),
    "course_completed": (5, (5,)),
    "wrong_answers_mastered": (4, (1, 2)),
    "topic_quiz": (3, (2, 4, 6, 8, 10)),
    "exam_passed": (2, (10,)),
    "reflection_accepted": (2, (2,)),
}
# Local hour of day (6:00–23:00): a morning, a lunch and a strong evening peak.
HOUR_WEIGHTS = (1, 3, 5, 4, 3, 3, 5, 6, 3, 3, 3, 3, 4, 6, 8, 8, 6, 3)
FIRST_HOUR = 6


@dataclass(frozen=True)
class DatasetSpec:
    """What the dataset holds; its JSON form is the signature a rerun checks."""

    members: int = 100_000
    branches: int = 500
    general_branches: int = 10
    entries: int = 5_000_000
    reversals: int = 5_000
    transfers: int = 2_000
    joiners: int = 3_000
    smallest_branch: int = 5
    largest_branch: int = 1_500
    year: int = 2025
    seed: int = 20251231
    version: int = GENERATOR_VERSION

    def scaled(self, factor: float) -> DatasetSpec:
        """The same shape with fewer members and entries (for trying the benchmarks out)."""
        if factor == 1.0:
            return self
        return replace(
            self,
            members=max(500, round(self.members * factor)),
            branches=max(20, round(self.branches * factor)),
            entries=max(20_000, round(self.entries * factor)),
            reversals=max(20, round(self.reversals * factor)),
            transfers=max(20, round(self.transfers * factor)),
            joiners=max(20, round(self.joiners * factor)),
        )

    @property
    def first_day(self) -> datetime.date:
        return datetime.date(self.year, 1, 1)

    @property
    def today(self) -> datetime.date:
        """The benchmark's "today": the last day of the generated year."""
        return datetime.date(self.year, 12, 31)

    @property
    def days(self) -> int:
        return (self.today - self.first_day).days + 1

    def signature(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)


# --- plan: who is where, when -------------------------------------------------------


@dataclass
class OrgPlan:
    code: str
    name: str
    kind: str
    parent: str | None
    sort_order: int


@dataclass
class MemberPlan:
    username: str
    organization: str
    joined_on: datetime.date
    transfer_on: datetime.date | None = None
    transfer_to: str | None = None


@dataclass
class Plan:
    organizations: list[OrgPlan] = field(default_factory=list)
    branch_sizes: dict[str, int] = field(default_factory=dict)
    branch_of: dict[str, str] = field(default_factory=dict)  # organisation code → branch code
    members: list[MemberPlan] = field(default_factory=list)


def _clamped_sizes(raw: Sequence[float], scale: float, low: int, high: int) -> list[int]:
    return [min(high, max(low, round(value * scale))) for value in raw]


def branch_sizes(spec: DatasetSpec, rng: random.Random) -> list[int]:
    """Log-normal branch sizes between the bounds that add up to exactly ``spec.members``."""
    raw = [rng.lognormvariate(0.0, 1.1) for _ in range(spec.branches)]
    low, high = spec.smallest_branch, spec.largest_branch
    lo_scale, hi_scale = 0.0, float(spec.members)
    for _ in range(100):
        middle = (lo_scale + hi_scale) / 2
        if sum(_clamped_sizes(raw, middle, low, high)) < spec.members:
            lo_scale = middle
        else:
            hi_scale = middle
    sizes = _clamped_sizes(raw, hi_scale, low, high)
    # Rounding leaves a few members over or short: take them from (or give them to)
    # the largest branches that stay within the bounds.
    order = sorted(range(len(sizes)), key=lambda i: -sizes[i])
    position = 0
    while sum(sizes) != spec.members:
        index = order[position % len(order)]
        step = 1 if sum(sizes) < spec.members else -1
        if low <= sizes[index] + step <= high:
            sizes[index] += step
        position += 1
    return sizes


def make_plan(spec: DatasetSpec) -> Plan:
    """The organisation tree, every member's organisation and join date, and the transfers."""
    rng = random.Random(spec.seed)
    plan = Plan()
    plan.organizations.append(OrgPlan("DW", "基准测试党委", Organization.Kind.COMMITTEE, None, 0))
    generals = [f"ZZB{g + 1:02d}" for g in range(spec.general_branches)]
    for number, code in enumerate(generals, start=1):
        plan.organizations.append(
            OrgPlan(code, f"第{number}党总支", Organization.Kind.GENERAL_BRANCH, "DW", number)
        )
    sizes = branch_sizes(spec, rng)
    general_of_branch: dict[str, str] = {}
    slots: list[str] = []
    for number, size in enumerate(sizes, start=1):
        code = f"ZB{number:04d}"
        general = generals[rng.randrange(len(generals))]
        general_of_branch[code] = general
        plan.organizations.append(
            OrgPlan(code, f"第{number}党支部", Organization.Kind.BRANCH, general, number)
        )
        plan.branch_sizes[code] = size
        plan.branch_of[code] = code
        groups = min(5, size // 120)
        homes = [code]
        for group in range(1, groups + 1):
            group_code = f"XZ{number:04d}-{group}"
            plan.organizations.append(
                OrgPlan(group_code, f"第{number}支部第{group}小组", "group", code, group)
            )
            plan.branch_of[group_code] = code
            homes.append(group_code)
        for _ in range(size):
            # With groups, a quarter of the members sit in the branch itself.
            if len(homes) > 1 and rng.random() >= 0.25:
                slots.append(homes[rng.randrange(1, len(homes))])
            else:
                slots.append(code)

    # Members were imported per general branch at launch, before the year starts;
    # a few join during the year.
    launch = datetime.date(spec.year - 1, 11, 18)
    import_day = {
        general: launch + datetime.timedelta(days=i) for i, general in enumerate(generals)
    }
    joiners = set(rng.sample(range(spec.members), spec.joiners))
    join_window = (
        spec.first_day + datetime.timedelta(days=14),
        spec.today - datetime.timedelta(days=16),
    )
    for index, home in enumerate(slots):
        if index in joiners:
            joined = _random_day(rng, *join_window)
        else:
            joined = import_day[general_of_branch[plan.branch_of[home]]]
        plan.members.append(MemberPlan(f"bm{index + 1:06d}", home, joined))

    # Transfers: members who were there from the start move once during the year, to
    # a branch chosen by size (bigger branches receive more), or one of its groups.
    branch_codes = list(plan.branch_sizes)
    branch_weights = [plan.branch_sizes[code] for code in branch_codes]
    homes_of: dict[str, list[str]] = {}
    for organization in plan.organizations:
        if organization.code in plan.branch_of:
            homes_of.setdefault(plan.branch_of[organization.code], []).append(organization.code)
    movers = rng.sample(sorted(set(range(spec.members)) - joiners), spec.transfers)
    transfer_window = (datetime.date(spec.year, 2, 1), datetime.date(spec.year, 11, 30))
    for index in movers:
        member = plan.members[index]
        current_branch = plan.branch_of[member.organization]
        target = current_branch
        while target == current_branch:
            target = rng.choices(branch_codes, weights=branch_weights)[0]
        member.transfer_to = rng.choice(homes_of[target])
        member.transfer_on = _random_day(rng, *transfer_window)
    return plan


def _random_day(rng: random.Random, first: datetime.date, last: datetime.date) -> datetime.date:
    return first + datetime.timedelta(days=rng.randrange((last - first).days + 1))


# --- building through the services -----------------------------------------------------


def create_organizations(plan: Plan) -> dict[str, Organization]:
    """The tree, through ``organization_create`` so treebeard writes the paths."""
    created: dict[str, Organization] = {}
    for item in plan.organizations:
        created[item.code] = services.organization_create(
            name=item.name,
            code=item.code,
            kind=item.kind,
            parent=created[item.parent] if item.parent else None,
            sort_order=item.sort_order,
        )
    return created


def create_members(plan: Plan, organizations: dict[str, Organization]) -> None:
    """Members in chunks through ``members_bulk_create``, then transfers in date order."""
    people = [
        services.NewMember(
            username=member.username,
            display_name=f"党员{member.username[2:]}",
            organization=organizations[member.organization],
            joined_on=member.joined_on,
        )
        for member in plan.members
    ]
    for start in range(0, len(people), MEMBER_CHUNK):
        services.members_bulk_create(
            people=people[start : start + MEMBER_CHUNK], password=SHARED_PASSWORD
        )
    ids = dict(Member.objects.values_list("username", "id"))
    movers = sorted(
        (m for m in plan.members if m.transfer_on is not None),
        key=lambda m: (m.transfer_on, m.username),
    )
    for member in movers:
        assert member.transfer_to is not None and member.transfer_on is not None
        services.member_transfer(
            member=Member(pk=ids[member.username]),
            to=organizations[member.transfer_to],
            on=member.transfer_on,
            note="benchmark transfer",
        )


# --- generating the ledger ----------------------------------------------------------


def day_weights(spec: DatasetSpec) -> list[float]:
    """How busy each day of the year is: weekends, holidays, campaigns, a rising trend."""
    year = spec.year
    quiet = [
        (datetime.date(year, 1, 28), datetime.date(year, 2, 4), 0.35),  # Spring Festival
        (datetime.date(year, 4, 4), datetime.date(year, 4, 6), 0.6),
        (datetime.date(year, 5, 1), datetime.date(year, 5, 5), 0.6),
        (datetime.date(year, 10, 1), datetime.date(year, 10, 8), 0.4),  # National Day
        (datetime.date(year, 6, 15), datetime.date(year, 7, 1), 1.5),  # before 1 July
        (datetime.date(year, 12, 1), datetime.date(year, 12, 31), 1.2),  # year-end review
    ]
    weights = []
    for offset in range(spec.days):
        day = spec.first_day + datetime.timedelta(days=offset)
        weight = (1.0, 1.0, 1.0, 1.0, 1.0, 0.55, 0.5)[day.weekday()]
        weight *= 0.85 + 0.3 * offset / spec.days
        for first, last, factor in quiet:
            if first <= day <= last:
                weight *= factor
        weights.append(weight)
    return weights


@dataclass
class MemberActivity:
    """What the ledger generator needs to know about one member."""

    member_id: int
    first_day: int  # index of the first day of the year the member can earn points
    organization_id: int
    branch_id: int
    transfer_day: int  # index of the transfer day; past the year when there is none
    organization_after: int
    branch_after: int


def _allocate(total: int, weights: list[float], caps: list[int], rng: random.Random) -> list[int]:
    """Split ``total`` entries between members in proportion to ``weights`` (exactly)."""
    weight_sum = sum(weights)
    counts = [min(cap, int(total * w / weight_sum)) for w, cap in zip(weights, caps, strict=True)]
    candidates = [i for i, w in enumerate(weights) if w > 0]
    cumulative = []
    running = 0.0
    for i in candidates:
        running += weights[i]
        cumulative.append(running)
    while sum(counts) < total:
        index = candidates[bisect.bisect_left(cumulative, rng.random() * running)]
        if counts[index] < caps[index]:
            counts[index] += 1
    return counts


def ledger_rows(
    spec: DatasetSpec,
    members: list[MemberActivity],
    rules: dict[str, int],
) -> Iterator[tuple[Any, ...]]:
    """Every ledger row in ``created_at`` order, ids ascending, reversals included.

    Rows are (id, member, organisation, branch, rule, points, local date, key,
    created at in UTC, reverses). Activity is skewed twice: by branch (some branches
    are keen) and by member (a long tail; about one in eight never earns anything).
    """
    rng = random.Random(spec.seed + 1)
    branch_factor: dict[int, float] = {}
    weights: list[float] = []
    caps: list[int] = []
    for member in members:
        factor = branch_factor.setdefault(member.branch_id, rng.lognormvariate(0.0, 0.6))
        keen = 0.0 if rng.random() < 0.12 else rng.lognormvariate(0.0, 1.0)
        eligible = spec.days - member.first_day
        weights.append(factor * keen * eligible / spec.days)
        caps.append(eligible * 12)
    positives = spec.entries - spec.reversals
    counts = _allocate(positives, weights, caps, rng)

    cumulative_days: list[float] = []
    running = 0.0
    for weight in day_weights(spec):
        running += weight
        cumulative_days.append(running)
    codes = list(RULE_MIX)
    cumulative_rules: list[float] = []
    running_rules = 0.0
    for code in codes:
        running_rules += RULE_MIX[code][0]
        cumulative_rules.append(running_rules)
    hours = list(range(FIRST_HOUR, FIRST_HOUR + len(HOUR_WEIGHTS)))

    buckets: list[list[tuple[int, int, int, int]]] = [[] for _ in range(spec.days)]
    for position, (member, count) in enumerate(zip(members, counts, strict=True)):
        if not count:
            continue
        low = cumulative_days[member.first_day - 1] if member.first_day else 0.0
        high = cumulative_days[-1]
        chosen_rules = rng.choices(range(len(codes)), cum_weights=cumulative_rules, k=count)
        chosen_hours = rng.choices(hours, weights=HOUR_WEIGHTS, k=count)
        for rule_index, hour in zip(chosen_rules, chosen_hours, strict=True):
            day = bisect.bisect_left(cumulative_days, low + rng.random() * (high - low))
            day = min(max(day, member.first_day), spec.days - 1)
            points = rng.choice(RULE_MIX[codes[rule_index]][1])
            seconds = hour * 3600 + rng.randrange(3600)
            buckets[day].append((seconds, position, rule_index, points))

    reversed_ordinals = set(rng.sample(range(positives), spec.reversals))
    # Index 0 is the day before the year (early-morning UTC times) and the last index
    # the day after it (a reversal recorded just after midnight on 31 December).
    day_text = [
        (spec.first_day + datetime.timedelta(days=offset)).isoformat()
        for offset in range(-1, spec.days + 1)
    ]
    end_of_year = spec.days * 86400 - 1
    pending: list[tuple[int, int, tuple[Any, ...]]] = []
    next_id = 0
    ordinal = 0

    def created_at(moment: int) -> str:
        """A local moment (seconds since 1 January, 00:00) as UTC text."""
        utc = moment - UTC_OFFSET_SECONDS
        day, second = divmod(utc, 86400)
        hour, rest = divmod(second, 3600)
        return f"{day_text[day + 1]} {hour:02d}:{rest // 60:02d}:{rest % 60:02d}"

    for day in range(spec.days):
        bucket = buckets[day]
        bucket.sort()
        buckets[day] = []
        for seconds, position, rule_index, points in bucket:
            moment = day * 86400 + seconds
            while pending and pending[0][0] <= moment:
                reversal_moment, _original, original_row = heapq.heappop(pending)
                next_id += 1
                yield _reversal(next_id, original_row, created_at(reversal_moment))
            member = members[position]
            if day >= member.transfer_day:
                organization, branch = member.organization_after, member.branch_after
            else:
                organization, branch = member.organization_id, member.branch_id
            next_id += 1
            code = codes[rule_index]
            row = (
                next_id,
                member.member_id,
                organization,
                branch,
                rules[code],
                points,
                day_text[day + 1],
                f"{code}:{member.member_id}:{next_id}",
                created_at(moment),
                None,
            )
            yield row
            if ordinal in reversed_ordinals:
                later = min(end_of_year, moment + rng.randint(3600, 48 * 3600))
                heapq.heappush(pending, (max(later, moment + 1), next_id, row))
            ordinal += 1
    while pending:
        reversal_moment, _original, original_row = heapq.heappop(pending)
        next_id += 1
        yield _reversal(next_id, original_row, created_at(reversal_moment))


def _reversal(entry_id: int, original: tuple[Any, ...], created: str) -> tuple[Any, ...]:
    """A correction as ``points_reverse`` writes it: same member, branch, rule and day."""
    original_id, member, organization, branch, rule, points, day, _key, _created, _rev = original
    return (
        entry_id,
        member,
        organization,
        branch,
        rule,
        -points,
        day,
        f"reversal:{original_id}",
        created,
        original_id,
    )


def member_activity(spec: DatasetSpec, plan: Plan) -> list[MemberActivity]:
    """Each member's database ids and placement before and after a transfer."""
    organizations = dict(Organization.objects.values_list("code", "id"))
    ids = dict(Member.objects.values_list("username", "id"))
    activity = []
    for member in plan.members:
        organization = organizations[member.organization]
        branch = organizations[plan.branch_of[member.organization]]
        first_day = max(0, (member.joined_on - spec.first_day).days)
        transfer_day, organization_after, branch_after = spec.days, organization, branch
        if member.transfer_on is not None and member.transfer_to is not None:
            transfer_day = (member.transfer_on - spec.first_day).days
            organization_after = organizations[member.transfer_to]
            branch_after = organizations[plan.branch_of[member.transfer_to]]
        activity.append(
            MemberActivity(
                member_id=ids[member.username],
                first_day=first_day,
                organization_id=organization,
                branch_id=branch,
                transfer_day=transfer_day,
                organization_after=organization_after,
                branch_after=branch_after,
            )
        )
    return activity


# --- loading: vendor specifics ----------------------------------------------------------

ENTRY_COLUMNS = (
    "id",
    "member_id",
    "organization_id",
    "branch_id",
    "rule_id",
    "points",
    "local_date",
    "idempotency_key",
    "created_at",
    "reverses_id",
    "source_type_id",
    "source_id",
    "created_by_id",
    "note",
)


def _table(model: type[Any]) -> str:
    return connection.ops.quote_name(model._meta.db_table)


@contextmanager
def secondary_indexes_dropped(model: type[Any]) -> Iterator[None]:
    """Drop the table's plain indexes for a bulk load and recreate them, as they were, after.

    Indexes that back a constraint (primary key, unique constraints on PostgreSQL) stay;
    maintaining a dozen indexes row by row makes loading millions of rows many times slower.
    """
    table = model._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT indexname, indexdef FROM pg_indexes i WHERE tablename = %s"
                " AND schemaname = current_schema() AND NOT EXISTS"
                " (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)",
                [table],
            )
        else:
            cursor.execute(
                "SELECT name, sql FROM sqlite_master"
                " WHERE type = 'index' AND tbl_name = %s AND sql IS NOT NULL",
                [table],
            )
        indexes = cursor.fetchall()
        for name, _definition in indexes:
            cursor.execute(f"DROP INDEX {connection.ops.quote_name(name)}")
    yield
    with connection.cursor() as cursor:
        for _name, definition in indexes:
            cursor.execute(definition)


def _copy_entries_postgresql(rows: Iterator[tuple[Any, ...]]) -> int:
    """Stream rows into the ledger with COPY (text format; no value needs escaping)."""
    count = 0
    columns = ", ".join(ENTRY_COLUMNS)
    raw = connection.connection
    with raw.cursor() as cursor:
        with cursor.copy(f"COPY {_table(PointsEntry)} ({columns}) FROM STDIN") as copy:
            lines: list[str] = []
            for entry_id, member, org, branch, rule, points, day, key, created, rev in rows:
                reverses = r"\N" if rev is None else str(rev)
                note = "benchmark reversal" if rev is not None else ""
                lines.append(
                    f"{entry_id}\t{member}\t{org}\t{branch}\t{rule}\t{points}\t{day}\t{key}"
                    f"\t{created}+00\t{reverses}\t\\N\t\t\\N\t{note}\n"
                )
                if len(lines) >= ENTRY_BATCH:
                    copy.write("".join(lines))
                    count += len(lines)
                    lines = []
            copy.write("".join(lines))
            count += len(lines)
        cursor.execute(
            f"SELECT setval(pg_get_serial_sequence('{PointsEntry._meta.db_table}', 'id'),"
            f" (SELECT max(id) FROM {_table(PointsEntry)}))"
        )
    return count


def _insert_entries_sqlite(rows: Iterator[tuple[Any, ...]]) -> int:
    """Insert rows with executemany on the raw sqlite3 connection, in batches."""
    count = 0
    placeholders = ", ".join(["?"] * len(ENTRY_COLUMNS))
    statement = (
        f"INSERT INTO {_table(PointsEntry)} ({', '.join(ENTRY_COLUMNS)}) VALUES ({placeholders})"
    )
    raw = connection.connection
    batch: list[tuple[Any, ...]] = []
    for entry_id, member, org, branch, rule, points, day, key, created, rev in rows:
        note = "benchmark reversal" if rev is not None else ""
        batch.append(
            (
                entry_id,
                member,
                org,
                branch,
                rule,
                points,
                day,
                key,
                created,
                rev,
                None,
                "",
                None,
                note,
            )
        )
        if len(batch) >= ENTRY_BATCH:
            raw.executemany(statement, batch)
            count += len(batch)
            batch = []
    raw.executemany(statement, batch)
    return count + len(batch)


def period_start_sql(kind: str, column: str) -> str:
    """SQL for the first day of the period of ``kind`` containing the date in ``column``."""
    if kind == Period.DAY:
        return column
    if kind == Period.ALL:
        literal = f"'{ALL_TIME_START.isoformat()}'"
        return f"DATE {literal}" if connection.vendor == "postgresql" else literal
    if connection.vendor == "postgresql":
        return f"date_trunc('{kind}', {column})::date"
    if kind == Period.WEEK:  # weeks start on Monday; strftime('%w') counts from Sunday
        weekday = f"(CAST(strftime('%w', {column}) AS INTEGER) + 6) % 7"
        return f"date({column}, '-' || ({weekday}) || ' days')"
    if kind == Period.MONTH:
        return f"strftime('%Y-%m-01', {column})"
    if kind == Period.QUARTER:
        return (
            f"printf('%s-%02d-01', strftime('%Y', {column}),"
            f" (CAST(strftime('%m', {column}) AS INTEGER) - 1) / 3 * 3 + 1)"
        )
    if kind == Period.YEAR:
        return f"strftime('%Y-01-01', {column})"
    raise ValueError(kind)


def build_totals() -> None:
    """Every total ``points_award`` keeps, computed set-based from the entries."""
    entries = _table(PointsEntry)
    rule_days = _table(MemberRuleDayPoints)
    member_periods = _table(MemberPeriodPoints)
    branch_periods = _table(BranchPeriodTotal)
    year_branches = _table(MemberYearBranches)
    with connection.cursor() as cursor:
        with secondary_indexes_dropped(MemberRuleDayPoints):
            cursor.execute(
                f"INSERT INTO {rule_days} (member_id, rule_id, day, points)"
                f" SELECT member_id, rule_id, local_date, SUM(points) FROM {entries}"
                f" GROUP BY member_id, rule_id, local_date"
            )
        with secondary_indexes_dropped(MemberPeriodPoints):
            cursor.execute(
                f"INSERT INTO {member_periods} (member_id, branch_id, period, start, points)"
                f" SELECT member_id, branch_id, 'day', local_date, SUM(points) FROM {entries}"
                f" GROUP BY member_id, branch_id, local_date"
            )
            # Longer periods add up the member's day rows (far fewer than the entries).
            for kind in STORED_PERIODS:
                if kind == Period.DAY:
                    continue
                start = period_start_sql(kind, "start")
                group_by = "member_id, branch_id"
                if kind != Period.ALL:
                    group_by += f", {start}"
                # No parameters: SQLite's strftime formats contain "%" characters.
                cursor.execute(
                    f"INSERT INTO {member_periods} (member_id, branch_id, period, start, points)"
                    f" SELECT member_id, branch_id, '{kind}', {start}, SUM(points)"
                    f" FROM {member_periods} WHERE period = 'day' GROUP BY {group_by}"
                )
        cursor.execute(
            f"INSERT INTO {branch_periods} (branch_id, period, start, points, active_members)"
            f" SELECT branch_id, period, start, SUM(points),"
            f" SUM(CASE WHEN points > 0 THEN 1 ELSE 0 END)"
            f" FROM {member_periods} GROUP BY branch_id, period, start"
        )
        cursor.execute(
            f"INSERT INTO {year_branches} (member_id, start, branches)"
            f" SELECT member_id, start, COUNT(*) FROM {member_periods}"
            f" WHERE period IN ('{Period.YEAR}', '{Period.ALL}') GROUP BY member_id, start"
        )


# --- the whole build, and reuse --------------------------------------------------------


def _meta_row() -> tuple[str, str] | None:
    with connection.cursor() as cursor:
        tables = connection.introspection.table_names(cursor)
        if META_TABLE not in tables:
            return None
        cursor.execute(f"SELECT signature, summary FROM {META_TABLE}")
        row = cursor.fetchone()
    return None if row is None else (row[0], row[1])


def existing_dataset(spec: DatasetSpec) -> dict[str, Any] | None:
    """The summary of a finished build of exactly ``spec`` in this database, if any."""
    row = _meta_row()
    if row is None or row[0] != spec.signature():
        return None
    summary: dict[str, Any] = json.loads(row[1])
    return summary


def database_is_empty() -> bool:
    return not Organization.objects.exists() and not PointsEntry.objects.exists()


def _timed(phases: dict[str, float], name: str, work: Callable[[], Any]) -> Any:
    started = time.monotonic()
    result = work()
    phases[name] = round(time.monotonic() - started, 1)
    print(f"  dataset: {name} took {phases[name]} s", flush=True)
    return result


def build(spec: DatasetSpec) -> dict[str, Any]:
    """Generate and load the whole dataset into the (empty, migrated) database."""
    phases: dict[str, float] = {}
    plan = _timed(phases, "plan", lambda: make_plan(spec))
    organizations = _timed(phases, "organisations", lambda: create_organizations(plan))
    _timed(phases, "members and transfers", lambda: create_members(plan, organizations))
    activity = member_activity(spec, plan)
    rules = dict(PointsRule.objects.values_list("code", "id"))
    rows = ledger_rows(spec, activity, rules)

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET maintenance_work_mem = '1GB'")
            cursor.execute("SET work_mem = '256MB'")
            cursor.execute("SET synchronous_commit = off")
            # The rows are consistent by construction. Skipping the per-row foreign-key
            # triggers (superuser only) makes the load several times faster, and leaves
            # no pending trigger events that would forbid recreating the indexes.
            cursor.execute("SET session_replication_role = replica")

        def load() -> int:
            with transaction.atomic(), secondary_indexes_dropped(PointsEntry):
                return _copy_entries_postgresql(rows)

        loaded = _timed(phases, "ledger entries (generate + COPY + indexes)", load)
        _timed(phases, "totals", lambda: _in_transaction(build_totals))
        with connection.cursor() as cursor:
            cursor.execute("SET session_replication_role = DEFAULT")
        _timed(phases, "vacuum analyze", _vacuum_analyze)
    else:
        connection.ensure_connection()
        raw = connection.connection
        raw.execute("PRAGMA journal_mode = OFF")
        raw.execute("PRAGMA synchronous = OFF")
        raw.execute("PRAGMA cache_size = -1000000")
        raw.execute("PRAGMA temp_store = MEMORY")

        def load() -> int:
            with transaction.atomic(), secondary_indexes_dropped(PointsEntry):
                return _insert_entries_sqlite(rows)

        loaded = _timed(phases, "ledger entries (generate + insert + indexes)", load)
        _timed(phases, "totals", lambda: _in_transaction(build_totals))
        raw.execute("PRAGMA journal_mode = WAL")
    if loaded != spec.entries:
        raise RuntimeError(f"generated {loaded} entries, expected {spec.entries}")

    summary = describe(spec, plan)
    summary["build_seconds"] = phases
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TABLE IF NOT EXISTS {META_TABLE}"
            " (signature TEXT NOT NULL, built_at TEXT NOT NULL, summary TEXT NOT NULL)"
        )
        cursor.execute(f"DELETE FROM {META_TABLE}")
        cursor.execute(
            f"INSERT INTO {META_TABLE} (signature, built_at, summary) VALUES (%s, %s, %s)",
            [
                spec.signature(),
                datetime.datetime.now(datetime.UTC).isoformat(),
                json.dumps(summary),
            ],
        )
    return summary


def _in_transaction(work: Callable[[], None]) -> None:
    with transaction.atomic():
        work()


def _vacuum_analyze() -> None:
    """What autovacuum would do soon after a load: statistics and the visibility map."""
    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE)")


def describe(spec: DatasetSpec, plan: Plan) -> dict[str, Any]:
    """Counts that describe the dataset in the report (read back from the database)."""
    sizes = sorted(plan.branch_sizes.values())
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT COUNT(*), SUM(CASE WHEN reverses_id IS NULL THEN 0 ELSE 1 END),"
            f" COUNT(DISTINCT member_id), MIN(local_date), MAX(local_date)"
            f" FROM {_table(PointsEntry)}"
        )
        entries, reversals, earning, first, last = cursor.fetchone()
        cursor.execute(f"SELECT branch_id, COUNT(*) FROM {_table(PointsEntry)} GROUP BY branch_id")
        per_branch = sorted(count for _branch, count in cursor.fetchall())
        cursor.execute(f"SELECT period, COUNT(*) FROM {_table(MemberPeriodPoints)} GROUP BY period")
        member_period_rows = dict(cursor.fetchall())
    return {
        "spec": asdict(spec),
        "today": spec.today.isoformat(),
        "organizations": Organization.objects.count(),
        "branches": Organization.objects.filter(kind=Organization.Kind.BRANCH).count(),
        "groups": Organization.objects.filter(kind=Organization.Kind.GROUP).count(),
        "branch_size_min": sizes[0],
        "branch_size_median": sizes[len(sizes) // 2],
        "branch_size_max": sizes[-1],
        "members": Member.objects.count(),
        "memberships": Membership.objects.count(),
        "transfers": Membership.objects.filter(end_date__isnull=False).count(),
        "headcount_change_rows": HeadcountChange.objects.count(),
        "entries": entries,
        "reversals": reversals,
        "members_with_entries": earning,
        "first_day": str(first),
        "last_day": str(last),
        "entries_per_branch_min": per_branch[0],
        "entries_per_branch_median": per_branch[len(per_branch) // 2],
        "entries_per_branch_max": per_branch[-1],
        "member_rule_day_rows": MemberRuleDayPoints.objects.count(),
        "member_period_rows": member_period_rows,
        "branch_period_rows": BranchPeriodTotal.objects.count(),
    }
