"""The issue's performance targets for the points ledger and leaderboards (``make bench``).

One session fixture runs every measurement once (``runner.run_all``), writes
``docs/benchmarks.md``, and each test below asserts one target from those results, so
a missed target is a red test with the number in its message while the report still
holds every measurement.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.benchmarks import runner, targets
from tests.benchmarks.environment import SCALE, VENDORS, Vendor

pytestmark = pytest.mark.bench


@pytest.fixture(scope="session")
def results(pytestconfig: pytest.Config) -> dict[str, Any]:
    """Run everything once; progress goes straight to the terminal (it takes minutes)."""
    capture = pytestconfig.pluginmanager.getplugin("capturemanager")
    with capture.global_and_fixture_disabled():
        return runner.run_all()


def _assert(verdict: targets.Verdict) -> None:
    assert verdict.passed, f"{verdict.target} on {verdict.vendor}: {verdict.measured}"


@pytest.mark.parametrize("vendor", VENDORS)
def test_dataset_holds_the_specified_data(results: dict[str, Any], vendor: Vendor) -> None:
    summary = results["datasets"][vendor]["summary"]
    spec = summary["spec"]
    assert summary["entries"] == spec["entries"]
    assert summary["members"] == spec["members"]
    assert summary["branches"] == spec["branches"]
    if SCALE == 1.0:
        assert (summary["entries"], summary["members"], summary["branches"]) == (
            5_000_000,
            100_000,
            500,
        )


@pytest.mark.parametrize("vendor", VENDORS)
def test_stored_rankings_equal_the_live_ledger(results: dict[str, Any], vendor: Vendor) -> None:
    _assert(targets.rankings_identical(results, vendor))


@pytest.mark.parametrize("vendor", VENDORS)
def test_every_period_and_metric_ranks_within_5_ms(results: dict[str, Any], vendor: Vendor) -> None:
    _assert(targets.ranking_latency(results, vendor))


@pytest.mark.parametrize("vendor", VENDORS)
def test_quarter_and_year_are_100_times_faster_than_live(
    results: dict[str, Any], vendor: Vendor
) -> None:
    _assert(targets.live_speedup(results, vendor))


@pytest.mark.parametrize("vendor", VENDORS)
def test_participation_for_a_month_and_a_year_within_20_ms(
    results: dict[str, Any], vendor: Vendor
) -> None:
    _assert(targets.participation_latency(results, vendor))


def test_eight_postgresql_writers_sustain_1500_awards_per_second(
    results: dict[str, Any],
) -> None:
    _assert(targets.award_throughput(results))


@pytest.mark.parametrize(("vendor", "writers"), targets.AWARD_RUNS)
def test_concurrent_awards_leave_no_double_award_and_exact_caps(
    results: dict[str, Any], vendor: str, writers: int
) -> None:
    _assert(targets.award_integrity(results, vendor, writers))


@pytest.mark.parametrize("vendor", VENDORS)
def test_screen_snapshot_answers_a_conditional_request_with_304(
    results: dict[str, Any], vendor: Vendor
) -> None:
    snapshot = results["snapshot"][vendor]
    if not snapshot.get("available"):
        pytest.skip(f"screen snapshot not measurable yet: {snapshot.get('reason')}")
    for screen in snapshot["screens"]:
        assert "error" not in screen, screen
        assert screen["not_modified"]["runs"] > 0
