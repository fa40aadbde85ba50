"""One full benchmark run: datasets, rankings, snapshots and awards on both vendors.

Steps run one after another, never in parallel, so that on a 2-core machine one
measurement does not steal CPU from another. The collected results are saved to
``var/bench/results.json`` and rendered to ``docs/benchmarks.md`` (or to
``var/bench/`` for a scaled-down run).
"""

from __future__ import annotations

import datetime
import json
import os
import platform
import sqlite3
import subprocess
import time
from pathlib import Path
from typing import Any

import django
import psycopg

from tests.benchmarks import report
from tests.benchmarks.environment import (
    AWARD_SECONDS,
    BASE_DIR,
    BENCH_DIR,
    POSTGRES_SERVER,
    REBUILD,
    SCALE,
    VENDORS,
    Vendor,
    awards_database,
    database_exists,
    ledger_database,
    log,
    recreate_database,
    run_step,
)
from tests.benchmarks.targets import AWARD_RUNS, award_run_name

AWARD_WARMUP_SECONDS = 3.0
POSTGRESQL_SETTINGS = (
    "shared_buffers",
    "work_mem",
    "effective_cache_size",
    "synchronous_commit",
    "max_parallel_workers_per_gather",
    "jit",
)


def report_path() -> Path:
    """docs/benchmarks.md for the real dataset; a scaled-down run must not overwrite it."""
    if SCALE == 1.0:
        return BASE_DIR / "docs" / "benchmarks.md"
    return BENCH_DIR / f"benchmarks-scale-{SCALE:g}.md"


def _first_line_with(path: str, prefix: str) -> str:
    for line in Path(path).read_text().splitlines():
        if line.startswith(prefix):
            return line.split(":", 1)[1].strip() if ":" in line else line
    return "unknown"


def _command(*args: str) -> str:
    completed = subprocess.run(list(args), cwd=BASE_DIR, capture_output=True, text=True)
    return completed.stdout.strip()


def machine() -> dict[str, Any]:
    """What the numbers were measured on."""
    memory_kib = int(_first_line_with("/proc/meminfo", "MemTotal").split()[0])
    with psycopg.connect(f"{POSTGRES_SERVER}/postgres") as connection:
        server = connection.execute("SHOW server_version").fetchone()
        settings = {
            name: connection.execute(f"SHOW {name}").fetchone()[0]  # names are constants
            for name in POSTGRESQL_SETTINGS
        }
    os_name = _first_line_with("/etc/os-release", "PRETTY_NAME").split("=", 1)[-1].strip('"')
    return {
        "cpu": _first_line_with("/proc/cpuinfo", "model name"),
        "cores": os.cpu_count(),
        "memory_gib": round(memory_kib / 1024 / 1024, 1),
        "os": f"{os_name}, Linux {platform.release()}",
        "python": platform.python_version(),
        "django": django.get_version(),
        "psycopg": psycopg.__version__,
        "postgresql": server[0] if server else "unknown",
        "postgresql_settings": settings,
        "sqlite": sqlite3.sqlite_version,
        "git": _command("git", "rev-parse", "--short", "HEAD"),
        "git_dirty": bool(_command("git", "status", "--porcelain")),
    }


def ensure_dataset(vendor: Vendor) -> dict[str, Any]:
    """Reuse the persistent dataset, or (re)build it when missing, stale or asked to."""
    database = ledger_database(vendor)
    if REBUILD or not database_exists(vendor, database):
        log(f"{vendor.label}: creating {database} (the first build takes a while)")
        recreate_database(vendor, database)
    result = run_step("dataset", vendor, database)
    if result["status"] == "stale":
        log(f"{vendor.label}: {database} holds other data; rebuilding it")
        recreate_database(vendor, database)
        result = run_step("dataset", vendor, database)
    log(f"{vendor.label}: dataset {result['status']} in {result['step_seconds']} s")
    return result


def run_awards(vendor: Vendor, writers: int) -> dict[str, Any]:
    database = awards_database(vendor)
    recreate_database(vendor, database)
    result = run_step(
        "awards",
        vendor,
        database,
        # Production runs PostgreSQL with Redis as the cache the ledger notifies.
        redis=vendor is Vendor.POSTGRESQL,
        args=(
            "--writers",
            str(writers),
            "--warmup",
            str(AWARD_WARMUP_SECONDS),
            "--seconds",
            str(AWARD_SECONDS),
        ),
    )
    log(
        f"{vendor.label}, {writers} writer(s): {result['calls_per_second']:,.0f} awards/s,"
        f" clean={result['checks']['clean']}"
    )
    return result


def run_all() -> dict[str, Any]:
    """Everything ``make bench`` measures, saved and rendered; returns the results."""
    started = time.monotonic()
    results: dict[str, Any] = {
        "date": _command("date"),
        "started_utc": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "scale": SCALE,
        "load_average_at_start": os.getloadavg(),
        "machine": machine(),
        "datasets": {},
        "rankings": {},
        "snapshot": {},
        "awards": {},
    }
    for vendor in VENDORS:
        results["datasets"][vendor] = ensure_dataset(vendor)
    for vendor in VENDORS:
        log(f"{vendor.label}: rankings (stored vs. live)")
        results["rankings"][vendor] = run_step("rankings", vendor, ledger_database(vendor))
        log(f"{vendor.label}: screen snapshot")
        # As deployed: Redis beside PostgreSQL, the local-memory cache with SQLite.
        results["snapshot"][vendor] = run_step(
            "snapshot", vendor, ledger_database(vendor), redis=vendor is Vendor.POSTGRESQL
        )
    for vendor_name, writers in AWARD_RUNS:
        vendor = Vendor(vendor_name)
        log(f"{vendor.label}: awards with {writers} writer(s)")
        results["awards"][award_run_name(vendor_name, writers)] = run_awards(vendor, writers)
    results["elapsed_seconds"] = round(time.monotonic() - started)
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    (BENCH_DIR / "results.json").write_text(json.dumps(results, indent=1, default=str))
    path = report_path()
    path.write_text(report.render(results, path.read_text() if path.exists() else ""))
    log(f"report written to {path.relative_to(BASE_DIR)}")
    return results
