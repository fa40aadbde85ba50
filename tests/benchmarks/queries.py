"""Which SQL statements a call makes, how long each takes, and the database's plan for each.

Used to explain a slow number in the report with evidence (EXPLAIN ANALYZE on
PostgreSQL, EXPLAIN QUERY PLAN on SQLite) rather than with guesses.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from django.db import connection


def query_breakdown(call: Callable[[], object]) -> list[dict[str, Any]]:
    """Each query the call makes, its time from the client, and the database's plan for it."""
    queries: list[dict[str, Any]] = []

    def timed(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        before = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            elapsed = (time.perf_counter() - before) * 1000
            queries.append({"sql": sql, "params": params, "ms": elapsed})

    with connection.execute_wrapper(timed):
        call()
    for query in queries:
        query["plan"] = []
        if not query["sql"].lstrip().upper().startswith("SELECT"):
            continue  # EXPLAIN ANALYZE would run a write again
        if connection.vendor == "postgresql":
            explain = "EXPLAIN (ANALYZE, BUFFERS) " + query["sql"]
        else:
            explain = "EXPLAIN QUERY PLAN " + query["sql"]
        with connection.cursor() as cursor:
            cursor.execute(explain, query["params"])
            query["plan"] = [" ".join(str(part) for part in row) for row in cursor.fetchall()]
    for query in queries:
        query["params"] = [str(value) for value in query["params"] or ()]
    return queries
