"""Where the benchmark databases live and how a benchmark step is started.

Every step runs as ``python -m tests.benchmarks <step>`` in a fresh process with
``DJANGO_SETTINGS_MODULE=config.settings.dev``, ``DEBUG=0`` (so Django does not keep
every query in memory) and ``DATABASE_URL`` pointing at a benchmark database. The
large dataset lives in databases that survive between runs (PostgreSQL
``dangjian_bench``, SQLite ``var/bench/ledger.sqlite3``); the award benchmark gets a
fresh database every run.

Environment variables:

- ``DANGJIAN_BENCH_REBUILD=1`` drops and regenerates the large datasets.
- ``DANGJIAN_BENCH_SCALE=0.02`` runs everything on a proportionally smaller dataset
  (separate databases; the report goes to ``var/bench/`` instead of ``docs/``).
- ``DANGJIAN_BENCH_POSTGRES`` is the server URL without a database name
  (default ``postgres://postgres@127.0.0.1:5432``).
- ``DANGJIAN_BENCH_REDIS`` is the Redis URL the PostgreSQL award runs use as the
  Django cache, as production does (default ``redis://127.0.0.1:6379/13``).
- ``DANGJIAN_BENCH_AWARD_SECONDS`` is how long each award run measures (default 20).
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
from enum import StrEnum
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

BASE_DIR = Path(__file__).resolve().parents[2]
BENCH_DIR = BASE_DIR / "var" / "bench"
POSTGRES_SERVER = os.environ.get("DANGJIAN_BENCH_POSTGRES", "postgres://postgres@127.0.0.1:5432")
REDIS_URL = os.environ.get("DANGJIAN_BENCH_REDIS", "redis://127.0.0.1:6379/13")


def _env_float(name: str, default: float) -> float:
    value = os.environ.get(name, "").strip()
    return float(value) if value else default


SCALE = _env_float("DANGJIAN_BENCH_SCALE", 1.0)
REBUILD = os.environ.get("DANGJIAN_BENCH_REBUILD", "").strip().lower() in {"1", "true", "yes"}
AWARD_SECONDS = _env_float("DANGJIAN_BENCH_AWARD_SECONDS", 20.0)


class Vendor(StrEnum):
    SQLITE = "sqlite"
    POSTGRESQL = "postgresql"

    @property
    def label(self) -> str:
        return "SQLite" if self is Vendor.SQLITE else "PostgreSQL"


VENDORS = (Vendor.SQLITE, Vendor.POSTGRESQL)


def _suffix() -> str:
    """Databases of a scaled-down run are kept apart from the full-size ones."""
    if SCALE == 1.0:
        return ""
    return "_s" + f"{SCALE:g}".replace(".", "_")


def ledger_database(vendor: Vendor) -> str:
    """The name (PostgreSQL) or file (SQLite) of the persistent large dataset."""
    if vendor is Vendor.POSTGRESQL:
        return f"dangjian_bench{_suffix()}"
    return str(BENCH_DIR / f"ledger{_suffix()}.sqlite3")


def awards_database(vendor: Vendor) -> str:
    """The database the award benchmark recreates on every run."""
    if vendor is Vendor.POSTGRESQL:
        return f"dangjian_bench_awards{_suffix()}"
    return str(BENCH_DIR / f"awards{_suffix()}.sqlite3")


def database_url(vendor: Vendor, database: str) -> str:
    if vendor is Vendor.POSTGRESQL:
        return f"{POSTGRES_SERVER}/{database}"
    return f"sqlite:///{database}"


def _admin_connection() -> psycopg.Connection[Any]:
    return psycopg.connect(f"{POSTGRES_SERVER}/postgres", autocommit=True)


def database_exists(vendor: Vendor, database: str) -> bool:
    if vendor is Vendor.SQLITE:
        return Path(database).exists()
    with _admin_connection() as connection:
        row = connection.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [database]
        ).fetchone()
    return row is not None


def drop_database(vendor: Vendor, database: str) -> None:
    """Remove a benchmark database entirely: the only way to empty an append-only ledger."""
    if vendor is Vendor.SQLITE:
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(database + suffix).unlink(missing_ok=True)
        return
    with _admin_connection() as connection:
        connection.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(database))
        )


def create_database(vendor: Vendor, database: str) -> None:
    if vendor is Vendor.SQLITE:
        BENCH_DIR.mkdir(parents=True, exist_ok=True)
        return
    with _admin_connection() as connection:
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))


def recreate_database(vendor: Vendor, database: str) -> None:
    drop_database(vendor, database)
    create_database(vendor, database)


def step_environment(vendor: Vendor, database: str, *, redis: bool) -> dict[str, str]:
    """The environment of a step process: dev settings on the benchmark database."""
    env = dict(os.environ)
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "config.settings.dev",
            "DEBUG": "0",
            "DATABASE_URL": database_url(vendor, database),
            "REDIS_URL": REDIS_URL if redis else "",
            "PYTHONUNBUFFERED": "1",
        }
    )
    return env


def cpu_ticks() -> tuple[int, int]:
    """(busy, total) CPU ticks of the whole machine since boot, from /proc/stat."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    return sum(values) - idle, sum(values)


def busy_percent(before: tuple[int, int], after: tuple[int, int]) -> float:
    return round(100 * (after[0] - before[0]) / max(1, after[1] - before[1]), 1)


def wait_until_quiet(
    *, limit_percent: float = 30.0, window: float = 2.0, patience: float = 90.0
) -> dict[str, float]:
    """Wait (up to ``patience`` s) until other work leaves the machine mostly idle.

    The machine is shared: another process using a core halves what a 2-core benchmark
    can do. Between steps nothing of ours runs, so whatever keeps the CPU busy is
    someone else's; the result says how long we waited and how busy it still was.
    """
    started = time.monotonic()
    while True:
        before = cpu_ticks()
        time.sleep(window)
        busy = busy_percent(before, cpu_ticks())
        waited = time.monotonic() - started
        if busy <= limit_percent or waited >= patience:
            if busy > limit_percent:
                log(f"the machine is still {busy:.0f} % busy with other work; measuring anyway")
            return {"waited_seconds": round(waited, 1), "busy_percent_before": busy}


def run_step(
    step: str,
    vendor: Vendor,
    database: str,
    *,
    redis: bool = False,
    args: tuple[str, ...] = (),
    quiet: bool = True,
) -> dict[str, Any]:
    """Run one benchmark step in its own Django process and return the JSON it wrote.

    The result also records how busy the machine was during the step and how much of
    that was the step's own Python processes (on PostgreSQL the database server's work
    counts as "other"), so a reader can tell a slow number from a busy machine.
    """
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    out = BENCH_DIR / f"step-{step}-{vendor}.json"
    out.unlink(missing_ok=True)
    conditions: dict[str, float] = wait_until_quiet() if quiet else {}
    command = [sys.executable, "-m", "tests.benchmarks", step, "--out", str(out), *args]
    started = time.monotonic()
    ticks = cpu_ticks()
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    completed = subprocess.run(  # the command is this interpreter running our own module
        command,
        cwd=BASE_DIR,
        env=step_environment(vendor, database, redis=redis),
        check=False,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"benchmark step {step} on {vendor} exited {completed.returncode}")
    wall = time.monotonic() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    own = (after.ru_utime + after.ru_stime) - (children.ru_utime + children.ru_stime)
    result: dict[str, Any] = json.loads(out.read_text())
    result["step_seconds"] = round(wall, 1)
    result["conditions"] = {
        **conditions,
        "busy_percent_during": busy_percent(ticks, cpu_ticks()),
        "own_python_percent_during": round(100 * own / (wall * (os.cpu_count() or 1)), 1),
    }
    return result


def log(message: str) -> None:
    """Progress on stderr: generating the dataset the first time takes a while."""
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)
