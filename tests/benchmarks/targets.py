"""The issue's targets, judged from the collected results (shared by the tests and the report)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tests.benchmarks.environment import Vendor

RANKING_MEDIAN_MS = 5.0
LIVE_SPEEDUP = 100.0
SPEEDUP_PERIODS = ("quarter", "year")
PARTICIPATION_MEDIAN_MS = 20.0
PARTICIPATION_PERIODS = ("month", "year")
POSTGRESQL_WRITERS = 8
AWARDS_PER_SECOND = 1_500.0
AWARD_RUNS = (("postgresql", 8), ("postgresql", 1), ("sqlite", 1))


@dataclass(frozen=True)
class Verdict:
    target: str
    vendor: str
    measured: str
    passed: bool


def award_run_name(vendor: str, writers: int) -> str:
    return f"{vendor}-{writers}"


def _rankings(results: dict[str, Any], vendor: Vendor) -> dict[str, Any]:
    rankings: dict[str, Any] = results["rankings"][vendor]
    return rankings


def rankings_identical(results: dict[str, Any], vendor: Vendor) -> Verdict:
    data = _rankings(results, vendor)
    rows = data["rankings"]
    wrong = [f"{r['period']}/{r['metric']}" for r in rows if not r["identical"]]
    wrong += [f"subtree {s['period']}" for s in data["subtree"] if not s["identical"]]
    if not data["custom"]["identical"]:
        wrong.append("custom range")
    checked = len(rows) + len(data["subtree"]) + 1
    measured = f"{checked - len(wrong)} of {checked} identical"
    if wrong:
        measured += " (different: " + ", ".join(wrong) + ")"
    return Verdict("Stored answers identical to the live ledger", vendor, measured, not wrong)


def ranking_latency(results: dict[str, Any], vendor: Vendor) -> Verdict:
    rows = _rankings(results, vendor)["rankings"]
    worst = max(rows, key=lambda r: r["stored"]["median_ms"])
    median = worst["stored"]["median_ms"]
    return Verdict(
        f"Branch ranking median ≤ {RANKING_MEDIAN_MS:g} ms, every period and metric",
        vendor,
        f"slowest {median:.2f} ms ({worst['period']}, {worst['metric']})",
        median <= RANKING_MEDIAN_MS,
    )


def speedups(results: dict[str, Any], vendor: Vendor) -> dict[tuple[str, str], float]:
    """Live median / stored median for every (period, metric)."""
    data = _rankings(results, vendor)
    return {
        (row["period"], row["metric"]): data["live"][row["period"]]["median_ms"]
        / row["stored"]["median_ms"]
        for row in data["rankings"]
    }


def live_speedup(results: dict[str, Any], vendor: Vendor) -> Verdict:
    ratios = {key: v for key, v in speedups(results, vendor).items() if key[0] in SPEEDUP_PERIODS}
    (period, metric), lowest = min(ratios.items(), key=lambda item: item[1])
    return Verdict(
        f"≥ {LIVE_SPEEDUP:g}× faster than live for a quarter and a year",
        vendor,
        f"lowest {lowest:,.0f}× ({period}, {metric})",
        lowest >= LIVE_SPEEDUP,
    )


def participation_latency(results: dict[str, Any], vendor: Vendor) -> Verdict:
    data = _rankings(results, vendor)
    timings = [
        (f"ranking {row['period']}", row["stored"]["median_ms"])
        for row in data["rankings"]
        if row["metric"] == "participation" and row["period"] in PARTICIPATION_PERIODS
    ]
    timings += [
        (f"subtree {row['period']}", row["stored"]["median_ms"])
        for row in data["subtree"]
        if row["period"] in PARTICIPATION_PERIODS
    ]
    name, worst = max(timings, key=lambda item: item[1])
    return Verdict(
        f"Participation rate, month and year, median ≤ {PARTICIPATION_MEDIAN_MS:g} ms",
        vendor,
        f"slowest {worst:.2f} ms ({name})",
        worst <= PARTICIPATION_MEDIAN_MS,
    )


def award_throughput(results: dict[str, Any]) -> Verdict:
    run = results["awards"][award_run_name("postgresql", POSTGRESQL_WRITERS)]
    rate = run["calls_per_second"]
    return Verdict(
        f"≥ {AWARDS_PER_SECOND:,.0f} awards/s with {POSTGRESQL_WRITERS} writers",
        "postgresql",
        f"{rate:,.0f} awards/s ({run['entries_per_second']:,.0f} entries written/s)",
        rate >= AWARDS_PER_SECOND,
    )


def award_integrity(results: dict[str, Any], vendor: str, writers: int) -> Verdict:
    run = results["awards"][award_run_name(vendor, writers)]
    checks = run["checks"]
    measured = (
        f"{checks['keys_in_ledger_more_than_once']} keys twice,"
        f" {checks['shared_keys_created_more_than_once']} shared keys created twice,"
        f" {checks['cells_over_cap']} over cap, {checks['cells_not_exact']} not exact,"
        f" {len(checks['ledger_differences'])} check_ledger differences,"
        f" {run['errors']} errors"
    )
    return Verdict(
        f"0 double awards, caps exact, check_ledger clean ({writers} writer"
        f"{'s' if writers > 1 else ''})",
        vendor,
        measured,
        bool(checks["clean"]) and run["errors"] == 0,
    )


def all_verdicts(results: dict[str, Any]) -> list[Verdict]:
    verdicts = []
    for vendor in (Vendor.SQLITE, Vendor.POSTGRESQL):
        verdicts += [
            rankings_identical(results, vendor),
            ranking_latency(results, vendor),
            live_speedup(results, vendor),
            participation_latency(results, vendor),
        ]
    verdicts.append(award_throughput(results))
    verdicts += [award_integrity(results, vendor, writers) for vendor, writers in AWARD_RUNS]
    return verdicts
