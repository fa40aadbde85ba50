"""What one member does in the morning spike, and how the results are summed (issue 16).

Pure logic, no I/O: the arrival schedule, the pauses, the answer a member gives, and the
statistics per request kind, so each is tested without a server
(``tests/load/test_scenario.py``). ``tests.load.spike`` runs it against a server.

The scenario, as issue 16 states it: ``members`` members arrive over ``window`` seconds
(uniformly, in a random order); ``fresh_fraction`` of them log in first through the login
form, the others already hold a session; each starts the daily quiz
(``POST /api/v1/quizzes/daily/attempts/``), then for each of its questions pauses
``pause`` seconds ± ``jitter`` (uniform), saves the answer (``PUT …/answers/<pos>/``)
and checks it (``POST …/answers/<pos>/check/``), and last submits (``POST …/submit/``).
A check the server finds too soon to have read the question (``429 too_soon``,
docs/integrity.md) is sent again after its ``retry_after``, as the web pages do; it is
counted apart, not as an error.
"""

from __future__ import annotations

import math
import random
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

# The request kinds, in the order a member sends them.
KINDS = ("login_form", "login", "start", "save", "check", "submit")


@dataclass(frozen=True)
class Parameters:
    members: int = 2000
    window: float = 120.0
    pause: float = 2.0
    jitter: float = 0.5
    fresh_fraction: float = 0.10
    seed: int = 16

    def __post_init__(self) -> None:
        if self.members < 1:
            raise ValueError("members must be at least 1")
        if self.window < 0 or self.pause < 0:
            raise ValueError("window and pause cannot be negative")
        if not 0 <= self.jitter <= 1:
            raise ValueError("jitter is a fraction of the pause, between 0 and 1")
        if not 0 <= self.fresh_fraction <= 1:
            raise ValueError("fresh_fraction is between 0 and 1")


@dataclass(frozen=True)
class Arrival:
    index: int
    at: float
    fresh: bool


def schedule(parameters: Parameters) -> list[Arrival]:
    """When each member arrives (seconds from the start) and whether they log in first.

    Uniform over the window, the first at 0; exactly ``round(members × fresh_fraction)``
    log in fresh, chosen at random. Seeded: the same parameters give the same schedule.
    """
    rng = random.Random(parameters.seed)
    count = parameters.members
    times = sorted(rng.uniform(0, parameters.window) for _ in range(count))
    first = times[0]
    fresh = set(rng.sample(range(count), round(count * parameters.fresh_fraction)))
    return [Arrival(index=i, at=t - first, fresh=i in fresh) for i, t in enumerate(times)]


def pause_for(parameters: Parameters, rng: random.Random) -> float:
    """One pause before an answer: ``pause`` ± ``jitter`` × ``pause``, uniformly."""
    spread = parameters.pause * parameters.jitter
    return rng.uniform(parameters.pause - spread, parameters.pause + spread)


def answer_for(question: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    """An answer of the right shape for a question as the API shows it (right or wrong)."""
    kind = question["type"]
    options = [option["id"] for option in question.get("options", [])]
    if kind == "single":
        return {"choices": [rng.choice(options)]}
    if kind == "multiple":
        return {"choices": sorted(rng.sample(options, max(1, min(2, len(options)))))}
    if kind == "true_false":
        return {"value": rng.random() < 0.5}
    if kind == "fill_blank":
        return {"blanks": ["党"] * max(1, int(question.get("blank_count") or 1))}
    return {"text": "坚持理论学习，联系工作实际。"}


def percentile(sorted_values: list[float], fraction: float) -> float:
    """The nearest-rank percentile of already sorted values (0 for none)."""
    if not sorted_values:
        return 0.0
    rank = max(1, math.ceil(fraction * len(sorted_values)))
    return sorted_values[min(rank, len(sorted_values)) - 1]


@dataclass(frozen=True)
class Sample:
    kind: str
    started: float  # seconds since the first arrival
    seconds: float
    status: int  # 0: no reply (connection refused, closed, timed out)
    ok: bool


@dataclass
class Results:
    """Every request's sample and every member's outcome, and their summaries."""

    samples: list[Sample] = field(default_factory=list)
    done_at: list[float] = field(default_factory=list)  # members who submitted
    failed: list[str] = field(default_factory=list)  # members who could not finish
    too_soon: int = 0
    held: int = 0  # submitted attempts held for review (answered too fast)

    def record(self, sample: Sample) -> None:
        self.samples.append(sample)

    def by_kind(self) -> dict[str, dict[str, Any]]:
        grouped: dict[str, list[Sample]] = defaultdict(list)
        for sample in self.samples:
            grouped[sample.kind].append(sample)
        summary = {}
        for kind in [*KINDS, *sorted(set(grouped) - set(KINDS))]:
            rows = grouped.get(kind)
            if not rows:
                continue
            times = sorted(row.seconds for row in rows)
            statuses: dict[str, int] = defaultdict(int)
            for row in rows:
                statuses[str(row.status)] += 1
            summary[kind] = {
                "count": len(rows),
                "errors": sum(not row.ok for row in rows),
                "p50_ms": round(percentile(times, 0.50) * 1000, 1),
                "p95_ms": round(percentile(times, 0.95) * 1000, 1),
                "max_ms": round(times[-1] * 1000, 1),
                "statuses": dict(sorted(statuses.items())),
            }
        return summary

    def curve(self, step: float = 10.0) -> list[dict[str, Any]]:
        """Per ``step`` seconds of the run: requests started, their p95 and errors."""
        buckets: dict[int, list[Sample]] = defaultdict(list)
        for sample in self.samples:
            buckets[int(sample.started // step)].append(sample)
        rows = []
        for index in sorted(buckets):
            times = sorted(sample.seconds for sample in buckets[index])
            rows.append(
                {
                    "from_s": index * step,
                    "requests_per_s": round(len(times) / step, 1),
                    "p95_ms": round(percentile(times, 0.95) * 1000, 1),
                    "errors": sum(not sample.ok for sample in buckets[index]),
                }
            )
        return rows

    def summary(self, parameters: Parameters) -> dict[str, Any]:
        kinds = self.by_kind()
        return {
            "parameters": parameters.__dict__,
            "members_done": len(self.done_at),
            "members_failed": len(self.failed),
            "failures": self.failed[:20],
            "last_done_s": round(max(self.done_at), 1) if self.done_at else None,
            "requests": len(self.samples),
            "errors": sum(kind["errors"] for kind in kinds.values()),
            "too_soon_retries": self.too_soon,
            "attempts_held": self.held,
            "kinds": kinds,
            "curve": self.curve(),
        }


def verdict(summary: dict[str, Any], *, p95_ms: float = 300, last_done_s: float = 150) -> list[str]:
    """What misses issue 16's target (empty: met): no errors, p95 per kind, last done."""
    misses = []
    if summary["errors"] or summary["members_failed"]:
        misses.append(f"{summary['errors']} errors, {summary['members_failed']} members failed")
    for kind, row in summary["kinds"].items():
        if row["p95_ms"] > p95_ms:
            misses.append(f"{kind} p95 {row['p95_ms']:.0f} ms > {p95_ms:.0f} ms")
    if summary["last_done_s"] is None or summary["last_done_s"] > last_done_s:
        misses.append(f"last member done at {summary['last_done_s']} s > {last_done_s:.0f} s")
    return misses
