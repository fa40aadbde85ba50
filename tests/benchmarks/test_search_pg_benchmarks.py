"""The search benchmark on PostgreSQL: Whoosh against the PostgreSQL backend (``make bench``
with ``DATABASE_URL=postgres://…``; skipped on SQLite). See ``search_pg_bench``."""

from __future__ import annotations

from typing import Any

import pytest

from tests.benchmarks import search_pg_bench
from tests.benchmarks.search_pg_bench import POSTGRES, WHOOSH

pytestmark = [pytest.mark.bench, pytest.mark.postgres, pytest.mark.django_db]


@pytest.fixture(scope="session")
def pg_results(
    pytestconfig: pytest.Config,
    django_db_setup: None,
    django_db_blocker: Any,
    tmp_path_factory: pytest.TempPathFactory,
) -> dict[str, Any]:
    capture = pytestconfig.pluginmanager.getplugin("capturemanager")
    index_dir = tmp_path_factory.mktemp("search-pg-bench-index")
    with capture.global_and_fixture_disabled(), django_db_blocker.unblock():
        measured = search_pg_bench.run(index_dir, progress=print)
        report = search_pg_bench.write_report(search_pg_bench.render(measured))
        print(f"search/postgres benchmark: results written to {report}")
    return measured


def test_postgres_finds_at_least_what_whoosh_finds(pg_results: dict[str, Any]) -> None:
    for row in pg_results["queries"]:
        assert row[POSTGRES]["true_hits"] >= row[WHOOSH]["true_hits"], row["query"]
