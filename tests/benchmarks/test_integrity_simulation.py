"""How often the integrity signals flag honest members, and that they still catch bots.

Run by ``make bench`` (``DANGJIAN_BENCH=1``), not by ``make test``. 1,000 honest members
take daily, weekly, topic quizzes and challenges for 30 simulated days through the real
services (``tests/benchmarks/integrity_engine.py``; the members' distributions are in
``integrity_people.py``, the bank, branches and quizzes in ``integrity_world.py``), in two
worker processes on copies of the test database (``integrity_run.py``). A control of 20
scripted bots (``integrity_bots.py``) runs with the thresholds in force and again with
each candidate set. Marked ``paced``: the production reading and plausible times apply.

The module fixture measures and writes the ``## Integrity signals: false positives``
section of ``docs/benchmarks.md``; the tests check the issue's targets (at most 1 % of
honest members flagged, every bot flagged) for the thresholds in force and for the
proposed set. ``DANGJIAN_BENCH_INTEGRITY_SWEEP=1`` adds more threshold sets to the report
(each costs about 1 ms of CPU per attempt).
"""

from __future__ import annotations

import datetime
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

from config.settings import base
from tests.benchmarks import integrity_report, integrity_run
from tests.benchmarks.environment import busy_percent, cpu_ticks
from tests.benchmarks.quiz_bench import REPORT
from tests.benchmarks.report import write_marked_section
from tests.benchmarks.search_bench import machine

pytestmark = [pytest.mark.bench, pytest.mark.django_db, pytest.mark.paced]

MEMBERS = 1_000
WORKERS = 2
TARGET_RATE = 0.01
BEGIN_MARKER = "<!-- integrity-simulation:begin -->"
THRESHOLDS = tuple(
    name
    for name in dir(base)
    if name.startswith(
        ("DANGJIAN_PLAUSIBLE_", "DANGJIAN_PARALLEL_", "DANGJIAN_ACCURACY_", "DANGJIAN_SHARED_")
    )
)
# Chosen with the sweep below, moving only the signals that miss a target: 12 characters a
# second catches the 3.5 s bot on more attempts than 13 at no cost to honest members; a
# 15 s window still catches a script opening three quizzes at once, while three challenge
# games started within it need two of them lost within it; 3 shared wrong answers (2
# flags 0.4-1.7 % of honest members in two populations, 4 misses most copiers).
PROPOSED = {
    "DANGJIAN_PLAUSIBLE_CHARS_PER_SECOND": 12,
    "DANGJIAN_PARALLEL_WINDOW": datetime.timedelta(seconds=15),
    "DANGJIAN_SHARED_MIN_WRONG": 3,
}
# Flags every attempt the accuracy signal reaches (enough questions and history), with
# the member's usual accuracy as its evidence: shows the signal is exercised.
PROBE = {"DANGJIAN_ACCURACY_JUMP_PERCENT": 0, "DANGJIAN_ACCURACY_USUAL_PERCENT": 100}
SECONDS = datetime.timedelta(seconds=1)
# The proposed set with one value moved: what the neighbours of the proposal do.
SWEEP = {
    "proposed, 13/s": {**PROPOSED, "DANGJIAN_PLAUSIBLE_CHARS_PER_SECOND": 13},
    "proposed, floor 3.5 s": {**PROPOSED, "DANGJIAN_PLAUSIBLE_FLOOR_SECONDS": 3.5},
    "proposed, 15/s and floor 4 s": {
        **PROPOSED,
        "DANGJIAN_PLAUSIBLE_CHARS_PER_SECOND": 15,
        "DANGJIAN_PLAUSIBLE_FLOOR_SECONDS": 4.0,
    },
    "proposed, within 20 s": {**PROPOSED, "DANGJIAN_PARALLEL_WINDOW": 20 * SECONDS},
    "proposed, within 30 s": {**PROPOSED, "DANGJIAN_PARALLEL_WINDOW": 30 * SECONDS},
    "proposed, 4 attempts within 60 s": {
        **PROPOSED,
        "DANGJIAN_PARALLEL_ATTEMPTS": 4,
        "DANGJIAN_PARALLEL_WINDOW": 60 * SECONDS,
    },
    "proposed, 2 wrong": {**PROPOSED, "DANGJIAN_SHARED_MIN_WRONG": 2},
    "proposed, 4 wrong": {**PROPOSED, "DANGJIAN_SHARED_MIN_WRONG": 4},
}


def _sets() -> dict[str, dict[str, Any]]:
    sets = {"proposed": PROPOSED}
    if os.environ.get("DANGJIAN_BENCH_INTEGRITY_SWEEP", "").strip() in {"1", "true", "yes"}:
        sets.update(SWEEP)
    return sets


def _tasks(sets: dict[str, dict[str, Any]]) -> list[integrity_run.Task]:
    shares = integrity_run.split(integrity_run.honest_branches(MEMBERS), WORKERS)
    shadows = {**sets, "probe": PROBE}
    tasks = [
        integrity_run.Task(name=f"honest-{number}", branches=share, shadows=shadows)
        for number, share in enumerate(shares, start=1)
    ]
    tasks.append(integrity_run.Task(name="bots", bots=True, shadows=sets))
    tasks += [
        integrity_run.Task(name=f"bots-{name}", bots=True, overrides=overrides)
        for name, overrides in sets.items()
    ]
    return tasks


def _scratch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the database copies live: in memory when the machine has it (no fsync waits)."""
    shm = Path("/dev/shm")  # noqa: S108 (mkdtemp makes a private directory in it)
    if shm.is_dir() and os.access(shm, os.W_OK):
        return Path(tempfile.mkdtemp(prefix="dangjian-integrity-", dir=shm))
    return tmp_path_factory.mktemp("integrity")


@pytest.fixture(scope="module")
def simulation(
    django_db_setup: None, django_db_blocker: Any, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Any]:
    in_force = {name: getattr(settings, name) for name in THRESHOLDS}
    assert in_force == {name: getattr(base, name) for name in THRESHOLDS}, (
        "not the production thresholds"
    )
    sets = _sets()
    directory = _scratch(tmp_path_factory)
    load_before = os.getloadavg()
    ticks = cpu_ticks()
    started = time.perf_counter()
    try:
        with django_db_blocker.unblock():
            results = integrity_run.run_tasks(_tasks(sets), directory, WORKERS)
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    wall = time.perf_counter() - started
    summary = integrity_report.summarise(results, [*sets, "probe"])
    context = {
        "machine": machine(),
        "load_before": load_before,
        "busy_percent": busy_percent(ticks, cpu_ticks()),
        "wall_seconds": wall,
        "workers": WORKERS,
        "sets": sets,
        "sweep": len(sets) > 1,
        "in_force": in_force,
    }
    write_marked_section(integrity_report.render(summary, context), "integrity-simulation", REPORT)
    return summary


def _fails(result: dict[str, Any]) -> str:
    by_signal = ", ".join(f"{kind} {count}" for kind, count in result["by_signal"].items())
    return f"{result['flagged']} of {result['members']} flagged ({by_signal})"


def test_the_simulation_is_the_size_the_issue_asks(simulation: dict[str, Any]) -> None:
    assert simulation["members"] == MEMBERS
    assert min(simulation["branch_sizes"]) >= 20 and max(simulation["branch_sizes"]) <= 50
    assert all(simulation["attempts"][kind] > 1_000 for kind in integrity_report.QUIZ_KINDS)


def test_the_accuracy_signal_is_reached(simulation: dict[str, Any]) -> None:
    """Enough history (30 earlier answers on the categories) for hundreds of members."""
    assert simulation["probe"]["members"] >= 300


def test_at_most_one_percent_of_honest_members_flagged(simulation: dict[str, Any]) -> None:
    """The thresholds in force (config/settings/base.py) against the issue's target."""
    result = simulation["sets"]["in force"]
    assert result["rate"] <= TARGET_RATE, _fails(result) + "; see docs/benchmarks.md"


def test_every_bot_is_flagged(simulation: dict[str, Any]) -> None:
    bots = simulation["bots"]["bots"]
    missed = {kind: f"{data['flagged']}/{data['members']}" for kind, data in bots.items()}
    assert all(
        bots[kind]["flagged"] == bots[kind]["members"] for kind in bots if kind != "colleague"
    ), missed


def test_the_proposed_thresholds_meet_both_targets(simulation: dict[str, Any]) -> None:
    result = simulation["sets"]["proposed"]
    assert result["rate"] <= TARGET_RATE, _fails(result)
    bots = simulation["bots"]["bots-proposed"]
    assert all(
        bots[kind]["flagged"] == bots[kind]["members"] for kind in bots if kind != "colleague"
    )


def test_the_same_run_with_other_thresholds_raises_what_a_real_run_raises(
    simulation: dict[str, Any],
) -> None:
    assert simulation["shadow_checks"] and all(simulation["shadow_checks"].values())


def test_report_section_is_written(simulation: dict[str, Any]) -> None:
    text = REPORT.read_text(encoding="utf-8")
    assert text.count(BEGIN_MARKER) == 1 and "## Integrity signals: false positives" in text
