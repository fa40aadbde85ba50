"""The search benchmark on PostgreSQL: the Whoosh backend against the PostgreSQL backend.

Used by ``test_search_pg_benchmarks`` (``make bench`` with ``DATABASE_URL=postgres://…``).
Same corpus, queries, ground truth and timing as ``search_bench`` (10,000 lessons and
policy documents of ~2,000 characters; 40 member queries; 7 timed rounds after a warm-up),
both backends rebuilt from the same pages in the PostgreSQL test database. Measured per
backend: the full rebuild and the index size, the first 10 results, the count, recall
against the substring truth, and the whole ``/search/`` page with that backend as default.
Writes the ``search-postgres-benchmark`` section of ``docs/benchmarks.md``.
"""

from __future__ import annotations

import os
import statistics
from pathlib import Path
from typing import Any

from django.db import connection
from django.test import Client, override_settings

from tests.benchmarks.report import write_marked_section
from tests.benchmarks.search_bench import (
    DOCUMENTS,
    FULL_SIZE,
    QUERIES,
    REPORT,
    SCALED_REPORT,
    TOP,
    Progress,
    Table,
    _command,
    _page_ids,
    _summary,
    _timed,
    create_pages,
    directory_bytes,
    ground_truth,
    machine,
    rebuild,
    require_test_database,
    searched_pages,
    synthetic_documents,
)

WHOOSH = "default"
POSTGRES = "postgres"
LABELS = {WHOOSH: "Whoosh + rjieba", POSTGRES: "PostgreSQL tsvector + rjieba"}
SECTION = "search-postgres-benchmark"


def backend_settings(index_dir: Path, default: str = WHOOSH) -> dict[str, Any]:
    whoosh = {
        "BACKEND": "cms.search.backend",
        "PATH": str(index_dir),
        "WRITE_QUEUE": None,
        "AUTO_UPDATE": False,
    }
    postgres = {"BACKEND": "cms.search.postgres", "WRITE_QUEUE": None, "AUTO_UPDATE": False}
    if default == POSTGRES:
        return {WHOOSH: postgres, POSTGRES: postgres, "whoosh": whoosh}
    return {WHOOSH: whoosh, POSTGRES: postgres}


def postgres_index_bytes() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_total_relation_size('cms_searchentry')")
        (size,) = cursor.fetchone()
    return int(size)


def _first(query: str, backend: str) -> list[Any]:
    return list(searched_pages().search(query, backend=backend)[:TOP])


def _count(query: str, backend: str) -> int:
    return searched_pages().search(query, backend=backend).count()


def run(index_dir: Path, progress: Progress) -> dict[str, Any]:
    """Create the corpus, rebuild both indexes, time every query on both."""
    require_test_database()
    results: dict[str, Any] = {"machine": machine(), "load_before": os.getloadavg()}
    documents = synthetic_documents(DOCUMENTS)
    progress(f"search/postgres benchmark: creating {DOCUMENTS:,} pages")
    results["dataset"] = create_pages(documents, progress)
    page_ids = _page_ids(documents)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")  # as autovacuum would after a bulk load
    from learning.people import roles
    from tests.factories.people import MemberFactory

    member = MemberFactory(username="bench-member", role_names=[roles.MEMBER])
    indexes: dict[str, Any] = {}
    with override_settings(WAGTAILSEARCH_BACKENDS=backend_settings(index_dir)):
        for backend in (WHOOSH, POSTGRES):
            progress(f"search/postgres benchmark: rebuilding {LABELS[backend]}")
            indexes[backend] = {"seconds": rebuild(backend)}
            progress(f"  {indexes[backend]['seconds']:.0f} s")
        indexes[WHOOSH]["bytes"] = directory_bytes(index_dir / "wagtailcore_page")
        indexes[POSTGRES]["bytes"] = postgres_index_bytes()
        rows = []
        for group, queries in QUERIES.items():
            for query in queries:
                truth = {page_ids[number] for number in ground_truth(documents, query)}
                row: dict[str, Any] = {"group": group, "query": query, "truth": len(truth)}
                for backend in (WHOOSH, POSTGRES):
                    found = {page.pk for page in searched_pages().search(query, backend=backend)}
                    first, top = _timed(lambda q=query, b=backend: _first(q, b), cold=True)
                    row[backend] = {
                        "hits": len(found),
                        "true_hits": len(found & truth),
                        "first": first,
                        "top": top,
                        "count": _timed(lambda q=query, b=backend: _count(q, b))[1],
                    }
                rows.append(row)
                progress(
                    f"  {query}: truth {len(truth)}, whoosh {row[WHOOSH]['hits']} "
                    f"({statistics.median(row[WHOOSH]['top']) * 1000:.1f} ms), postgres "
                    f"{row[POSTGRES]['hits']} "
                    f"({statistics.median(row[POSTGRES]['top']) * 1000:.1f} ms)"
                )
    for backend in (WHOOSH, POSTGRES):
        with override_settings(WAGTAILSEARCH_BACKENDS=backend_settings(index_dir, backend)):
            client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
            client.force_login(member)
            for row in rows:
                query = row["query"]
                row[backend]["page"] = _timed(
                    lambda q=query, c=client: c.get("/search/", {"q": q}).status_code
                )[1]
    results["indexes"] = indexes
    results["queries"] = rows
    results["load_after"] = os.getloadavg()
    results["finished"] = _command(["date"])
    return results


def summary(rows: list[dict[str, Any]], backend: str, measure: str) -> dict[str, float]:
    return _summary([sample for row in rows for sample in row[backend][measure]])


def _ms(value: dict[str, float]) -> str:
    return f"{value['median_ms']:.1f} / {value['p95_ms']:.1f}"


def render(results: dict[str, Any]) -> str:
    rows = results["queries"]
    info = results["machine"]
    load = results["load_before"], results["load_after"]
    measures = Table(["", *(LABELS[backend] for backend in (WHOOSH, POSTGRES))])
    for measure, label in (("top", "first 10 results"), ("count", "count"), ("page", "/search/")):
        measures.rows.append(
            [
                f"{label}, median / p95 ms",
                *(_ms(summary(rows, backend, measure)) for backend in (WHOOSH, POSTGRES)),
            ]
        )
    for group in QUERIES:
        in_group = [row for row in rows if row["group"] == group]
        measures.rows.append(
            [
                f"first 10, {group} queries, median / p95 ms",
                *(_ms(summary(in_group, backend, "top")) for backend in (WHOOSH, POSTGRES)),
            ]
        )
    measures.rows.append(
        [
            "first run of a query (cold), median ms",
            *(
                f"{statistics.median(row[backend]['first'] for row in rows) * 1000:.1f}"
                for backend in (WHOOSH, POSTGRES)
            ),
        ]
    )
    truth = sum(row["truth"] for row in rows)
    measures.rows.append(
        [
            "documents found of those containing the query (recall)",
            *(
                f"{sum(row[b]['true_hits'] for row in rows):,} of {truth:,} "
                f"({sum(row[b]['true_hits'] for row in rows) / max(truth, 1):.2%})"
                for b in (WHOOSH, POSTGRES)
            ),
        ]
    )
    indexes = results["indexes"]
    measures.rows.append(
        [
            "full rebuild / index size",
            *(
                f"{indexes[b]['seconds']:.0f} s / {indexes[b]['bytes'] / 1024 / 1024:.0f} MB"
                for b in (WHOOSH, POSTGRES)
            ),
        ]
    )
    per_query = Table(
        [
            "query",
            "truth",
            "Whoosh hits",
            "PostgreSQL hits",
            "Whoosh first 10 p95",
            "PostgreSQL first 10 p95",
        ]
    )
    for row in rows:
        per_query.rows.append(
            [
                row["query"],
                f"{row['truth']:,}",
                f"{row[WHOOSH]['hits']:,}",
                f"{row[POSTGRES]['hits']:,}",
                f"{_summary(row[WHOOSH]['top'])['p95_ms']:.1f} ms",
                f"{_summary(row[POSTGRES]['top'])['p95_ms']:.1f} ms",
            ]
        )
    same = sum(1 for row in rows if row[WHOOSH]["hits"] == row[POSTGRES]["hits"])
    return f"""## Search on PostgreSQL: Whoosh and the PostgreSQL backend

Written by `tests/benchmarks/test_search_pg_benchmarks.py` (`make bench` with
`DATABASE_URL=postgres://…`); the corpus, queries and timing are the *Search* section's.
Both indexes are rebuilt from the same {results["dataset"]["documents"]:,} pages in the
PostgreSQL test database; `/search/` is timed with each backend as the default.

- Date: {info["date"]}; git {info["commit"]}{" (uncommitted changes)" if info["dirty"] else ""}
- Machine: {info["cpu"]}, {info["cpus"]} CPUs, {info["memory_gib"]:.0f} GiB, {info["os"]},
  Python {info["python"]}; load average {load[0][0]:.1f} before, {load[1][0]:.1f} after
  (the machine is shared)

{measures}

Same number of hits on both backends in {same} of {len(rows)} queries.

{per_query}
"""


def write_report(section: str) -> Path:
    path = REPORT if DOCUMENTS == FULL_SIZE else SCALED_REPORT
    return write_marked_section(section, SECTION, path)
