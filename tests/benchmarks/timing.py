"""Wall-clock timing with ``time.perf_counter``: warm-up runs discarded, median and p95 kept.

The median is the figure the targets are judged on because a 2-core virtual machine
has scheduling noise that a mean would smear into every number; p95 shows that noise.
"""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class Timing:
    """Milliseconds over ``runs`` timed repetitions (warm-up runs are not included)."""

    runs: int
    median_ms: float
    p95_ms: float
    min_ms: float
    max_ms: float

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def summarise(seconds: list[float]) -> Timing:
    """Median, 95th percentile (nearest rank), min and max of ``seconds``, in milliseconds."""
    if not seconds:
        raise ValueError("no timings to summarise")
    ordered = sorted(seconds)
    rank = max(1, math.ceil(0.95 * len(ordered)))
    return Timing(
        runs=len(ordered),
        median_ms=statistics.median(ordered) * 1000,
        p95_ms=ordered[rank - 1] * 1000,
        min_ms=ordered[0] * 1000,
        max_ms=ordered[-1] * 1000,
    )


def time_calls(
    call: Callable[[], object],
    *,
    runs: int,
    warmup: int,
    budget_seconds: float | None = None,
    min_runs: int = 3,
) -> Timing:
    """Run ``call`` ``warmup`` times untimed, then up to ``runs`` times timed.

    A ``budget_seconds`` stops the timed runs early (after at least ``min_runs``) so
    that a slow live query over millions of rows does not dominate the whole run.
    """
    for _ in range(warmup):
        call()
    seconds: list[float] = []
    started = time.perf_counter()
    for _ in range(runs):
        before = time.perf_counter()
        call()
        seconds.append(time.perf_counter() - before)
        spent = time.perf_counter() - started
        if budget_seconds is not None and len(seconds) >= min_runs and spent > budget_seconds:
            break
    return summarise(seconds)
