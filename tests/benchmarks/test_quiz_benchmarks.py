"""The quiz engine's targets: scoring throughput, statistics time, and a 5,000-question import.

One session fixture runs every measurement once and writes the ``## Quiz engine`` section
of ``docs/benchmarks.md`` between its markers; the tests then check the numbers, so a
missed target is a red test with its number while the report keeps every measurement.
See ``tests/benchmarks/quiz_bench.py`` for what is measured and how.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.benchmarks import quiz_bench

# django_db: the import writes into the pytest test database, never the development one.
pytestmark = [pytest.mark.bench, pytest.mark.django_db]


@pytest.fixture(scope="session")
def quiz_results(
    pytestconfig: pytest.Config, django_db_setup: None, django_db_blocker: Any
) -> dict[str, Any]:
    capture = pytestconfig.pluginmanager.getplugin("capturemanager")
    with capture.global_and_fixture_disabled(), django_db_blocker.unblock():
        measured = quiz_bench.run(progress=print)
        quiz_bench.save_results(measured)
        report = quiz_bench.write_report(quiz_bench.render(measured))
        print(f"quiz benchmark: results written to {report}")
    return measured


def test_scoring_keeps_up_with_2000_attempts_per_second(quiz_results: dict[str, Any]) -> None:
    scoring = quiz_results["scoring"]
    assert scoring["questions_per_attempt"] == 20
    rate = scoring["slowest_per_second"]
    assert rate >= quiz_bench.SCORING_TARGET_PER_SECOND, f"{rate:,.0f} attempts/s"


def test_statistics_of_10000_by_50_within_3_seconds(quiz_results: dict[str, Any]) -> None:
    stats = quiz_results["statistics"]
    assert (stats["attempts"], stats["questions"]) == (10_000, 50)
    assert stats["wall_seconds"] <= quiz_bench.STATISTICS_TARGET_SECONDS, stats["rounds_wall"]


def test_the_import_stores_every_question(quiz_results: dict[str, Any]) -> None:
    imported = quiz_results["import"]
    assert imported["stored_after_first_run"] == quiz_bench.IMPORT_QUESTIONS
    assert imported["timed"]["created"] == quiz_bench.IMPORT_QUESTIONS
    assert imported["traced"]["import_peak_mib"] > 0


def test_report_block_is_between_its_markers(quiz_results: dict[str, Any]) -> None:
    text = quiz_bench.REPORT.read_text(encoding="utf-8")
    assert text.count(quiz_bench.BEGIN_MARKER) == 1
    assert text.count(quiz_bench.END_MARKER) == 1
    block = text.split(quiz_bench.BEGIN_MARKER)[1].split(quiz_bench.END_MARKER)[0]
    assert "## Quiz engine" in block
    assert "Load average" in block


def test_attempt_requests_were_measured(quiz_results: dict[str, Any]) -> None:
    requests = quiz_results["requests"]["requests"]
    assert set(requests) == {"start", "page", "save", "submit"}
    assert requests["save"]["requests"] == quiz_bench.REQUEST_ROUNDS * quiz_bench.REQUEST_QUESTIONS
    assert all(numbers["median_ms"] > 0 for numbers in requests.values())
