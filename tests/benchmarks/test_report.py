"""``docs/benchmarks.md`` is rewritten on every run, but blocks that other benchmarks keep
in it between their markers (the search section) survive, unchanged, at the end.
"""

from __future__ import annotations

import pytest

from tests.benchmarks import report

pytestmark = pytest.mark.bench

SEARCH_BLOCK = (
    "<!-- search-benchmark:begin -->\n## Search\n\n| query | ms |\n|---|---|\n| 党章 | 3.1 |\n"
    "<!-- search-benchmark:end -->"
)


def test_marked_blocks_are_found_verbatim_and_in_order():
    document = (
        "# Benchmarks\n\nold tables\n\n"
        + SEARCH_BLOCK
        + "\n\nstale text\n<!-- other:begin -->x<!-- other:end -->\n"
    )
    assert report.marked_blocks(document) == [
        SEARCH_BLOCK,
        "<!-- other:begin -->x<!-- other:end -->",
    ]
    assert report.marked_blocks("# nothing marked") == []


def test_a_rerender_keeps_the_search_section_last(monkeypatch):
    for name in (
        "_targets",
        "_machine",
        "_dataset",
        "_rankings",
        "_live",
        "_participation",
        "_awards",
        "_snapshot",
        "_extras",
        "_conditions",
    ):
        monkeypatch.setattr(report, name, lambda results, name=name: f"## {name}")
    monkeypatch.setattr(report, "_heading", lambda results: "# Benchmarks")
    existing = "# Benchmarks\n\n## _targets\n\n" + SEARCH_BLOCK + "\n\n## _machine\n"

    rendered = report.render({}, existing)

    assert rendered.count(SEARCH_BLOCK) == 1
    assert rendered.rstrip().endswith(SEARCH_BLOCK)
    assert rendered.index("## _conditions") < rendered.index(SEARCH_BLOCK)
    assert report.render({}, rendered) == rendered


QUIZ_BLOCK = (
    "<!-- quiz-benchmark:begin -->\n## Quiz engine\n\n| Target | Result |\n|---|---|\n"
    "| statistics ≤ 3 s | pass |\n<!-- quiz-benchmark:end -->"
)


def test_a_rerender_keeps_the_quiz_section_beside_the_search_section(monkeypatch):
    monkeypatch.setattr(report, "NOTES", report.NOTES.with_name("no-such-notes.md"))
    sections = ("_heading", "_targets", "_machine", "_dataset", "_rankings", "_live")
    sections += ("_participation", "_awards", "_snapshot", "_extras", "_conditions")
    for name in sections:
        monkeypatch.setattr(report, name, lambda results, name=name: f"## {name}")
    existing = (
        "## _heading\n\n"
        + SEARCH_BLOCK
        + "\n\nstale ledger tables\n\n"
        + QUIZ_BLOCK
        + "\n\nmore stale text\n"
    )

    rendered = report.render({}, existing)

    assert rendered.count(QUIZ_BLOCK) == 1
    assert rendered.count(SEARCH_BLOCK) == 1
    assert "stale" not in rendered
    # Both kept after the ledger's own sections, in the order they had.
    assert rendered.index("## _conditions") < rendered.index(SEARCH_BLOCK)
    assert rendered.index(SEARCH_BLOCK) < rendered.index(QUIZ_BLOCK)
    assert report.render({}, rendered) == rendered
