"""``python -m tests.benchmarks <step>``: one benchmark step in a Django process.

Started by ``tests.benchmarks.environment.run_step`` with ``DATABASE_URL`` set to a
benchmark database; each step writes its result as JSON to ``--out``.
``python -m tests.benchmarks report`` renders the report again from the last results.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import tempfile
from pathlib import Path
from typing import Any

import django


def _database_version() -> str:
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            return f"PostgreSQL {cursor.fetchone()[0]}"
    return f"SQLite {sqlite3.sqlite_version}"


def _spec() -> Any:
    from tests.benchmarks.dataset import DatasetSpec
    from tests.benchmarks.environment import SCALE

    return DatasetSpec().scaled(SCALE)


def step_dataset(args: argparse.Namespace) -> dict[str, Any]:
    """Reuse the dataset when this database holds exactly it; build it when empty."""
    from django.core.management import call_command

    from tests.benchmarks import dataset

    call_command("migrate", verbosity=0)
    spec = _spec()
    summary = dataset.existing_dataset(spec)
    if summary is not None:
        _analyze()
        return {"status": "reused", "summary": summary}
    if not dataset.database_is_empty():
        return {"status": "stale"}
    return {"status": "built", "summary": dataset.build(spec)}


def _analyze() -> None:
    """Planner statistics after migrations changed a kept dataset (new tables and indexes),
    as autovacuum would gather them on a live PostgreSQL soon after; SQLite keeps none.
    """
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")


def step_rankings(args: argparse.Namespace) -> dict[str, Any]:
    from tests.benchmarks import dataset, rankings

    spec = _spec()
    if dataset.existing_dataset(spec) is None:
        raise SystemExit("the benchmark dataset is missing: run the dataset step first")
    return {"database": _database_version(), **rankings.measure(spec.today)}


def step_snapshot(args: argparse.Namespace) -> dict[str, Any]:
    from tests.benchmarks import snapshot

    return {"database": _database_version(), **snapshot.measure(_spec().today)}


def step_awards(args: argparse.Namespace) -> dict[str, Any]:
    from tests.benchmarks import awards

    with tempfile.TemporaryDirectory(prefix="dangjian-bench-") as workdir:
        result = awards.run(args.writers, args.warmup, args.seconds, Path(workdir))
    return {"database": _database_version(), **result}


def step_award_writer(args: argparse.Namespace) -> dict[str, Any] | None:
    from tests.benchmarks import awards

    awards.writer_main(args.writer, args.warmup, args.seconds, Path(args.out))
    return None


STEPS = {
    "dataset": step_dataset,
    "rankings": step_rankings,
    "snapshot": step_snapshot,
    "awards": step_awards,
    "award-writer": step_award_writer,
}


def rerender_report() -> None:
    """Write the report again from the last run's results (after editing notes.md)."""
    from tests.benchmarks import report, runner
    from tests.benchmarks.environment import BENCH_DIR

    results = json.loads((BENCH_DIR / "results.json").read_text())
    path = runner.report_path()
    path.write_text(report.render(results, path.read_text() if path.exists() else ""))


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.benchmarks")
    parser.add_argument("step", choices=[*sorted(STEPS), "report"])
    parser.add_argument("--out")
    parser.add_argument("--writers", type=int, default=1)
    parser.add_argument("--writer", type=int, default=0)
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument("--seconds", type=float, default=20.0)
    args = parser.parse_args()
    if args.step == "report":
        rerender_report()
        return
    if not args.out:
        parser.error("--out is required")
    django.setup()
    result = STEPS[args.step](args)
    if result is not None:
        Path(args.out).write_text(json.dumps(result, indent=1, default=str))


if __name__ == "__main__":
    main()
