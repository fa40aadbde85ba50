"""Every question importer, fed random and hostile input, ends in a parse or a clear
problem — never an exception — within a time and a memory budget.

Hypothesis builds the inputs: random bytes, token soups of each format's special
characters, tokens repeated tens of thousands of times (the shape of the quadratic GIFT
comments), huge cells, odd and corrupted zips, and declared-size zip bombs. Each example
is measured under ``tracemalloc``; the numbers of examples are sized for a small shared
machine.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator

import pytest
from django.utils import translation
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from quizzes.bank.formats import parse_questions
from quizzes.bank.formats.base import MAX_PROBLEMS, ParseResult
from tests.factories.import_strategies import (
    Sample,
    huge_or_plain,
    random_bytes,
    sample,
    soup,
    workbooks,
)
from tests.factories.xlsx_attacks import (
    SHEET_HEAD,
    SHEET_HEAD_WITHOUT_SIZE,
    SHEET_TAIL,
    MiB,
    big_cell_xlsx,
    bomb_xlsx,
    measured,
    package_parts,
    sheet_row,
    timed,
    zip_parts,
)

# Per example: seconds of CPU time, and bytes of traced memory at the peak.
SECONDS = 2.0
PEAK_BYTES = 100 * MiB
HEADER = ("题型", "题干", "选项A", "选项B", "答案", "解析", "难度", "分类", "标签")

budget = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@pytest.fixture(autouse=True)
def _english() -> Iterator[None]:
    with translation.override("en"):
        yield


def check_outcome(parse: Callable[[], ParseResult]) -> ParseResult:
    """Run ``parse`` within the budgets; the result is questions or clear problems.

    Timed once as it runs, then once more under ``tracemalloc`` for the memory peak
    (tracing slows some loops tenfold, so that run's time is not the one checked).
    """
    result, seconds = timed(parse)
    assert seconds < SECONDS, seconds
    _again, _traced_seconds, peak = measured(parse)
    assert peak < PEAK_BYTES, peak
    assert isinstance(result, ParseResult)
    assert result.questions or result.problems
    assert len(result.problems) <= MAX_PROBLEMS + 2
    for problem in result.problems:
        text = str(problem)
        assert problem.row >= 0
        assert problem.message
        # A problem quotes the file briefly, never a whole cell.
        assert len(text) < 1_000, text[:200]
    return result


GIFT_TOKENS = [
    "{", "}", "~", "=", "#", "####", "::", "//", "// ", "\\", "\\n", "\n", "\n\n",
    "[answer:", "[difficulty:", "[tag:", "]", "%50%", "%-100%", "->", "$CATEGORY: ",
    "$course$/top/", "[html]", "<p>", "</p><p", "<br>", '<a x=">" ', "TRUE", "F", "T",
    "中共一大", " ", "\t", "\x00", "\x07", "（ ）", "____", "9" * 50,
]  # fmt: skip
AIKEN_TOKENS = [
    "A. ", "B) ", "C、", "Ｄ．", "ANSWER: ", "ANSWER: B", "答案：", "\n", "\n\n", "AB",
    "中共一大在哪一年召开？", " ", "\x00", "Z. ", "ANSWER:",
]  # fmt: skip
CELL_TOKENS = [
    "单选", "多选", "判断", "填空", "简答", "A", "AC", "A:50%,C:50%", "对", "|", "/", "\\",
    "____", "党史/新民主主义革命时期", ",", '"', "\n", "\r", "\x00", "9" * 30, " ", "长",
]  # fmt: skip


# --- GIFT and Aiken --------------------------------------------------------------------


@budget
@given(st.one_of(soup("GIFT", GIFT_TOKENS), random_bytes("GIFT")))
@example(sample("answer comments", "// " + "[answer:" * 400_000 + "\n题目{T}"))
@example(sample("difficulty comments", "// " + "[difficulty:" * 250_000))
@example(sample("quoted angles in HTML", "[html]" + '<a x=">" ' * 100_000 + "{T}"))
@example(sample("open braces", "{" * 1_000_000))
@example(sample("descriptions", "描述\n\n" * 500_000))
@example(sample("blank lines", "\n" * 1_000_000))
def test_gift_ends_in_questions_or_problems_within_budget(case: Sample) -> None:
    check_outcome(lambda: parse_questions(case.data, "gift"))


@budget
@given(soup("GIFT", GIFT_TOKENS))
def test_gift_text_with_surrogates_is_refused_or_read(case: Sample) -> None:
    from quizzes.bank.formats.gift import parse_gift

    text = case.data.decode()
    check_outcome(lambda: parse_gift(text + "\ud800{T}"))


@budget
@given(st.one_of(soup("Aiken", AIKEN_TOKENS), random_bytes("Aiken")))
@example(sample("stray answers", "ANSWER: A\n" * 400_000))
@example(sample("endless options", "题干\n" + "A. 甲\n" * 400_000))
@example(sample("blank lines", "\n" * 1_000_000))
def test_aiken_ends_in_questions_or_problems_within_budget(case: Sample) -> None:
    check_outcome(lambda: parse_questions(case.data, "aiken"))


# --- CSV -------------------------------------------------------------------------------


@st.composite
def csv_files(draw: st.DrawFn) -> Sample:
    rows = draw(st.lists(st.lists(huge_or_plain(CELL_TOKENS), max_size=12), max_size=30))
    delimiter = draw(st.sampled_from([",", "\t", ";"]))
    lines = [delimiter.join(HEADER)]
    for row in rows:
        quoted = draw(st.booleans())
        cells = ['"' + cell.replace('"', '""') + '"' if quoted else cell for cell in row]
        lines.append(delimiter.join(cells))
    text = "\n".join(lines) + draw(st.sampled_from(["", "\n", '"', "\r\n"]))
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "gb18030"]))
    return sample(f"CSV of {len(rows)} rows in {encoding}", text.encode(encoding, "replace"))


@budget
@given(st.one_of(csv_files(), random_bytes("CSV")))
@example(sample("200,000-character field", "题型,题干,答案\n单选," + "长" * 200_000 + ",A\n"))
@example(sample("bad rows", "题型,题干,答案\n" + "x,y,z\n" * 500_000))
@example(sample("padded answer", "题型,题干,答案\n单选,题,A" + " " * 20_000 + ":100%\n"))
@example(sample("quotes", b'"' * 3_000_000))
@example(sample("commas", b"," * 3_000_000))
def test_csv_ends_in_questions_or_problems_within_budget(case: Sample) -> None:
    check_outcome(lambda: parse_questions(case.data, "csv"))


# --- .xlsx -----------------------------------------------------------------------------

xlsx_inputs = workbooks(HEADER, CELL_TOKENS)


@settings(budget, max_examples=60)
@given(xlsx_inputs)
@example(sample("616 KB workbook, 600 MB cell", bomb_xlsx(600)))
@example(sample("20 MB cell", big_cell_xlsx(20 * MiB)))
@example(sample("3 MB cell, size hidden", big_cell_xlsx(3 * MiB, head=SHEET_HEAD_WITHOUT_SIZE)))
def test_xlsx_ends_in_questions_or_problems_within_budget(case: Sample) -> None:
    check_outcome(lambda: parse_questions(case.data, "xlsx"))


def test_the_strategies_build_readable_workbooks() -> None:
    # A sanity check of the builders: a plain sheet of rows is a workbook openpyxl reads.
    from openpyxl import load_workbook

    data = zip_parts(package_parts((SHEET_HEAD + sheet_row(1, HEADER) + SHEET_TAIL).encode()))
    workbook = load_workbook(io.BytesIO(data), read_only=True)
    first = next(workbook.worksheets[0].iter_rows(max_col=2, values_only=True))
    assert list(first) == ["题型", "题干"]
    workbook.close()
