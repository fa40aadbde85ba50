"""Sustained award throughput through ``points_award``, and proof that nothing went wrong.

Writers are separate processes (each its own Django and database connection, no GIL
between them), released together once all are ready. Each calls ``points_award`` in a
loop with a realistic mix: skewed members, capped and uncapped rules, 28 days of
activity, a "hot" set of members awarded on one day so caps bind under contention,
and about one call in twenty reusing a key from a small shared pool so that the same
key regularly arrives at several writers at once.

Afterwards the orchestrator checks: no key created twice, for every (member, rule,
day) the ledger holds exactly min(daily cap, points requested by distinct keys), and
``ledger_differences()`` (every total recomputed from the ledger) is empty.
"""

from __future__ import annotations

import datetime
import json
import os
import random
import subprocess
import sys
import time
import zoneinfo
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from learning.models import Member, PointsEntry, PointsRule
from learning.points.ledger import AwardResult, points_award
from learning.points.ledger_check import ledger_differences
from tests.benchmarks import dataset
from tests.benchmarks.environment import busy_percent, cpu_ticks
from tests.benchmarks.timing import summarise

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
SPEC = dataset.DatasetSpec(
    members=2_000,
    branches=50,
    general_branches=5,
    entries=0,
    reversals=0,
    transfers=0,
    joiners=0,
    seed=4242,
)
DAYS = 28
DUPLICATE_SHARE = 0.05
DUPLICATE_POOL = 400
HOT_SHARE = 0.10
HOT_MEMBERS = 20
# (rule code, weight, possible quantities)
AWARD_MIX: tuple[tuple[str, int, tuple[int, ...]], ...] = (
    ("daily_quiz_correct", 28, (1,)),
    ("lesson_completed", 20, (1,)),
    ("study_time", 18, (1, 1, 2)),
    ("challenge_quiz", 8, (1,)),
    ("wrong_answers_mastered", 4, (1,)),
    ("weekly_quiz", 6, (1, 2, 3, 4, 5)),
    ("topic_quiz", 4, (2, 5, 8, 10, 12)),
    ("exam_passed", 4, (1,)),
    ("course_completed", 4, (1,)),
    ("reflection_accepted", 4, (1,)),
)


@dataclass(frozen=True)
class AwardCall:
    member_id: int
    rule_code: str
    quantity: int
    occurred_at: datetime.datetime
    key: str


class CallPlan:
    """The stream of award calls one writer makes (deterministic per writer)."""

    def __init__(self, member_ids: list[int], writer: int, today: datetime.date) -> None:
        shared = random.Random(SPEC.seed)
        self.member_ids = sorted(member_ids)
        weights = [shared.lognormvariate(0.0, 1.0) for _ in self.member_ids]
        self.cumulative: list[float] = []
        running = 0.0
        for weight in weights:
            running += weight
            self.cumulative.append(running)
        by_weight = sorted(range(len(weights)), key=lambda i: -weights[i])
        self.hot = [self.member_ids[i] for i in by_weight[:HOT_MEMBERS]]
        self.days = [today - datetime.timedelta(days=offset) for offset in range(DAYS)]
        self.today = today
        self.rng = random.Random(SPEC.seed * 100 + writer)
        self.writer = writer
        self.count = 0

    def _member(self, rng: random.Random) -> int:
        target = rng.random() * self.cumulative[-1]
        low, high = 0, len(self.cumulative) - 1
        while low < high:
            middle = (low + high) // 2
            if self.cumulative[middle] < target:
                low = middle + 1
            else:
                high = middle
        return self.member_ids[low]

    def _call(self, rng: random.Random, key: str) -> AwardCall:
        if rng.random() < HOT_SHARE:
            member_id, day = rng.choice(self.hot), self.today
        else:
            member_id, day = self._member(rng), rng.choice(self.days)
        code, _weight, quantities = rng.choices(AWARD_MIX, weights=[w for _c, w, _q in AWARD_MIX])[
            0
        ]
        moment = datetime.datetime(
            day.year, day.month, day.day, rng.randrange(8, 22), rng.randrange(60), tzinfo=SHANGHAI
        )
        return AwardCall(member_id, code, rng.choice(quantities), moment, key)

    def duplicate(self, index: int) -> AwardCall:
        """The call behind shared key ``dup:<index>``: the same in every writer."""
        return self._call(random.Random(f"dup:{index}"), f"dup:{index}")

    def next(self) -> tuple[AwardCall, int | None]:
        """The next call, and the shared-pool index when it reuses a shared key."""
        self.count += 1
        if self.rng.random() < DUPLICATE_SHARE:
            index = self.rng.randrange(DUPLICATE_POOL)
            return self.duplicate(index), index
        return self._call(self.rng, f"w{self.writer}:{self.count}"), None


def prepare() -> int:
    """Migrate the fresh database and add the organisation and members; member count."""
    call_command("migrate", verbosity=0)
    plan = dataset.make_plan(SPEC)
    organizations = dataset.create_organizations(plan)
    dataset.create_members(plan, organizations)
    return Member.objects.count()


def _key(member_id: int, rule_id: int, day: datetime.date | str) -> str:
    return f"{member_id}|{rule_id}|{day}"


class StatementClock:
    """An execute wrapper that adds up the time spent in each kind of SQL statement."""

    def __init__(self) -> None:
        self.totals: dict[str, list[float]] = defaultdict(lambda: [0, 0.0])

    def __call__(self, execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        before = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            entry = self.totals[" ".join(sql.split())[:90]]
            entry[0] += 1
            entry[1] += time.perf_counter() - before


@dataclass
class WriterTally:
    """What one writer did: outcomes, timings in the window, and what it asked for."""

    window: tuple[float, float]
    statuses: Counter[str] = field(default_factory=Counter)
    requested: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    duplicates_used: set[int] = field(default_factory=set)
    duplicates_created: Counter[int] = field(default_factory=Counter)
    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    window_calls: int = 0
    window_created: int = 0

    def record(
        self, call: AwardCall, shared: int | None, result: AwardResult, rule: PointsRule
    ) -> None:
        self.statuses[result.status] += 1
        if shared is None:
            day = call.occurred_at.date()
            self.requested[_key(call.member_id, rule.pk, day)] += rule.points_for(call.quantity)
        else:
            self.duplicates_used.add(shared)
            self.duplicates_created[shared] += int(result.created)

    def timed(self, seconds: float, created: bool) -> None:
        if self.window[0] <= time.monotonic() <= self.window[1]:
            self.window_calls += 1
            self.window_created += int(created)
            self.latencies.append(seconds)

    def as_dict(self) -> dict[str, Any]:
        return {
            "statuses": dict(self.statuses),
            "window_calls": self.window_calls,
            "window_created": self.window_created,
            "latencies": self.latencies,
            "errors": self.errors,
            "requested": self.requested,
            "duplicates_used": sorted(self.duplicates_used),
            "duplicates_created": {str(k): v for k, v in self.duplicates_created.items() if v},
        }


def writer_main(writer: int, warmup: float, seconds: float, out: Path) -> None:
    """One writer process: wait for "go", award for warmup + seconds, write what it did."""
    member_ids = list(Member.objects.values_list("id", flat=True))
    rules = {rule.code: rule for rule in PointsRule.objects.all()}
    plan = CallPlan(member_ids, writer, timezone.localdate())
    backend = _backend_pid()
    clock = StatementClock()
    print("ready", flush=True)
    sys.stdin.readline()
    cpu_before, backend_before = time.process_time(), _process_cpu_seconds(backend)
    go = time.monotonic()
    tally = WriterTally(window=(go + warmup, go + warmup + seconds))
    with connection.execute_wrapper(clock):
        while time.monotonic() < tally.window[1] + 0.5:
            call, shared = plan.next()
            before = time.perf_counter()
            try:
                result = points_award(
                    member=Member(pk=call.member_id),
                    rule_code=call.rule_code,
                    key=call.key,
                    quantity=call.quantity,
                    occurred_at=call.occurred_at,
                )
            except Exception as error:  # every failure is counted and reported
                tally.errors.append(f"{type(error).__name__}: {error}"[:300])
                connection.close()
                continue
            tally.timed(time.perf_counter() - before, result.created)
            tally.record(call, shared, result, rules[call.rule_code])
    report = tally.as_dict()
    report["cpu_seconds"] = time.process_time() - cpu_before
    report["backend_cpu_seconds"] = _process_cpu_seconds(backend) - backend_before
    report["statements"] = clock.totals
    out.write_text(json.dumps(report))


def _backend_pid() -> int | None:
    """The PostgreSQL server process serving this connection (None on SQLite)."""
    connection.ensure_connection()
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return int(cursor.fetchone()[0])


def _process_cpu_seconds(pid: int | None) -> float:
    """User + system CPU of a local process (the database server runs on this machine)."""
    if pid is None:
        return 0.0
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run(writers: int, warmup: float, seconds: float, workdir: Path) -> dict[str, Any]:
    """Prepare, release ``writers`` processes together, then verify the ledger."""
    members = prepare()
    connection.close()
    outs = [workdir / f"writer-{i}.json" for i in range(writers)]
    processes = [
        subprocess.Popen(  # this interpreter running our own module
            [
                sys.executable,
                "-m",
                "tests.benchmarks",
                "award-writer",
                "--writer",
                str(i),
                "--warmup",
                str(warmup),
                "--seconds",
                str(seconds),
                "--out",
                str(out),
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for i, out in enumerate(outs)
    ]
    for process in processes:
        assert process.stdout is not None
        if process.stdout.readline().strip() != "ready":
            raise RuntimeError("an award writer failed to start")
    ticks_before = cpu_ticks()
    go = time.monotonic()
    for process in processes:
        assert process.stdin is not None
        process.stdin.write("go\n")
        process.stdin.flush()
    for process in processes:
        if process.wait() != 0:
            raise RuntimeError("an award writer failed")
    wall = time.monotonic() - go
    results = [json.loads(out.read_text()) for out in outs]
    summary = _throughput(results, seconds)
    summary["machine_busy_percent"] = busy_percent(ticks_before, cpu_ticks())
    ours = sum(r["cpu_seconds"] + r["backend_cpu_seconds"] for r in results)
    summary["writers_and_backends_percent"] = round(100 * ours / (wall * (os.cpu_count() or 1)), 1)
    summary.update({"writers": writers, "members": members, "warmup_seconds": warmup})
    summary["checks"] = verify(results)
    return summary


def _throughput(results: list[dict[str, Any]], seconds: float) -> dict[str, Any]:
    statuses: Counter[str] = Counter()
    for result in results:
        statuses.update(result["statuses"])
    latencies = [value for result in results for value in result["latencies"]]
    calls = sum(result["window_calls"] for result in results)
    created = sum(result["window_created"] for result in results)
    all_calls = sum(statuses.values())
    statements: dict[str, list[float]] = defaultdict(lambda: [0, 0.0])
    for result in results:
        for label, (count, spent) in result["statements"].items():
            statements[label][0] += count
            statements[label][1] += spent
    per_award = sorted(
        (
            {
                "statement": label,
                "per_award": round(count / max(1, all_calls), 2),
                "ms_per_award": round(1000 * spent / max(1, all_calls), 3),
            }
            for label, (count, spent) in statements.items()
        ),
        key=lambda row: -row["ms_per_award"],
    )
    return {
        "statements": per_award,
        "cpu_ms_per_call_writer": round(
            1000 * sum(r["cpu_seconds"] for r in results) / max(1, all_calls), 3
        ),
        "cpu_ms_per_call_database": round(
            1000 * sum(r["backend_cpu_seconds"] for r in results) / max(1, all_calls), 3
        ),
        "seconds": seconds,
        "calls_per_second": round(calls / seconds, 1),
        "entries_per_second": round(created / seconds, 1),
        "window_calls": calls,
        "statuses": dict(statuses),
        "latency": summarise(latencies).as_dict() if latencies else None,
        "errors": sum(len(result["errors"]) for result in results),
        "first_errors": [error for result in results for error in result["errors"]][:5],
    }


def verify(results: list[dict[str, Any]]) -> dict[str, Any]:
    """The ledger after the run: no double award, caps exact, totals equal to the ledger."""
    rules = {rule.pk: rule for rule in PointsRule.objects.all()}
    rule_ids = {rule.code: rule.pk for rule in rules.values()}
    plan = CallPlan(list(Member.objects.values_list("id", flat=True)), 0, timezone.localdate())

    expected: dict[str, int] = defaultdict(int)
    for result in results:
        for key, points in result["requested"].items():
            expected[key] += points
    used = sorted({index for result in results for index in result["duplicates_used"]})
    for index in used:
        call = plan.duplicate(index)
        rule = rules[rule_ids[call.rule_code]]
        expected[_key(call.member_id, rule.pk, call.occurred_at.date())] += rule.points_for(
            call.quantity
        )
    created_per_key: Counter[str] = Counter()
    for result in results:
        created_per_key.update(result["duplicates_created"])

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT COUNT(*) FROM (SELECT idempotency_key FROM learning_pointsentry"
            " GROUP BY idempotency_key HAVING COUNT(*) > 1) repeated"
        )
        repeated_keys = int(cursor.fetchone()[0])
        cursor.execute(
            "SELECT member_id, rule_id, local_date, SUM(points) FROM learning_pointsentry"
            " GROUP BY member_id, rule_id, local_date"
        )
        stored = {_key(m, r, d): int(total) for m, r, d, total in cursor.fetchall()}

    over_cap = []
    inexact = []
    for key in sorted(set(expected) | set(stored)):
        rule = rules[int(key.split("|")[1])]
        have = stored.get(key, 0)
        want = expected.get(key, 0)
        if rule.daily_cap is not None:
            want = min(want, rule.daily_cap)
            if have > rule.daily_cap:
                over_cap.append(key)
        if have != want:
            inexact.append({"member|rule|day": key, "ledger": have, "expected": want})
    capped_cells = sum(
        1
        for key, want in expected.items()
        if rules[int(key.split("|")[1])].daily_cap is not None
        and want >= (rules[int(key.split("|")[1])].daily_cap or 0)
    )
    created_total = sum(
        result["statuses"].get("awarded", 0) + result["statuses"].get("partial", 0)
        for result in results
    )
    differences = ledger_differences(limit=50)
    return {
        "entries": PointsEntry.objects.count(),
        "entries_reported_created": created_total,
        "keys_in_ledger_more_than_once": repeated_keys,
        "shared_keys_used": len(used),
        "shared_keys_created_more_than_once": sum(1 for c in created_per_key.values() if c > 1),
        "cells_checked": len(set(expected) | set(stored)),
        "cells_at_cap": capped_cells,
        "cells_over_cap": len(over_cap),
        "cells_not_exact": len(inexact),
        "first_not_exact": inexact[:5],
        "ledger_differences": differences,
        "clean": not (
            repeated_keys
            or over_cap
            or inexact
            or differences
            or any(c > 1 for c in created_per_key.values())
            or created_total != PointsEntry.objects.count()
        ),
    }
