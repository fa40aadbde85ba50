"""import_questions and export_questions: what they print, what they write, how they fail."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.utils import translation

from quizzes.models import Question, QuestionCategory
from tests.factories.sheets import make_csv, make_xlsx, row

pytestmark = pytest.mark.django_db
DATA = Path(__file__).parent / "data"

ROWS = [
    row("单选", "中共一大在哪一年召开？", ["1919", "1921", "1927"], "B", category="党史/建党"),
    row("单选", "遵义会议在哪一年召开？", ["1934", "1935"], "B", category="党史"),
    row(
        "判断",
        "党的最高领导机关是党的全国代表大会和它所产生的中央委员会。",
        [],
        "对",
        category="党章党规",
    ),
    row("填空", "中共一大于____年召开。", [], "1921", category="党史/建党"),
]


@pytest.fixture(autouse=True)
def _english() -> Iterator[None]:
    with translation.override("en"):
        yield


def run(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def run_failing(*args: str) -> tuple[str, str, CommandError]:
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(CommandError) as excinfo:
        call_command(*args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue(), excinfo.value


def test_a_dry_run_counts_each_type_and_writes_nothing(tmp_path: Path) -> None:
    sheet = tmp_path / "bank.xlsx"
    sheet.write_bytes(make_xlsx(ROWS))
    out, err = run("import_questions", str(sheet), "--dry-run")
    assert out.splitlines() == [
        "Dry run: 4 question(s) would be imported; nothing was written.",
        "  Single choice: 2",
        "  True or false: 1",
        "  Fill in the blank: 1",
        "Categories that would be created: 党史, 党史/建党, 党章党规",
    ]
    assert err == ""
    assert Question.objects.count() == 0
    assert QuestionCategory.objects.count() == 0


def test_an_import_reports_what_it_wrote(tmp_path: Path) -> None:
    sheet = tmp_path / "bank.xlsx"
    sheet.write_bytes(make_xlsx(ROWS))
    out, _err = run("import_questions", str(sheet))
    assert out.splitlines()[0] == "Imported 4 question(s)."
    assert "Categories created: 党史, 党史/建党, 党章党规" in out
    assert Question.objects.count() == 4


def test_problems_go_to_stderr_nothing_is_written_and_the_exit_status_is_1(tmp_path: Path) -> None:
    sheet = tmp_path / "bank.xlsx"
    sheet.write_bytes(
        make_xlsx([*ROWS, row("单选", "坏题", ["甲", "乙"], "C"), row("问答题?", "x")])
    )
    out, err, error = run_failing("import_questions", str(sheet))
    assert error.returncode == 1
    assert str(error) == "2 problem(s) found; nothing was imported."
    assert err.splitlines() == [
        "Row 6, column 答案: The answer names option C, which the question does not have.",
        "Row 7, column 题型: Unknown question type “问答题?”: use 单选, 多选, 判断, 填空 or 简答.",
    ]
    assert out.splitlines()[0] == "5 question(s) could be imported once the problems are fixed:"
    assert Question.objects.count() == 0


def test_a_gb18030_csv_imports_under_the_given_category(tmp_path: Path) -> None:
    sheet = tmp_path / "题库.csv"
    sheet.write_bytes(make_csv(ROWS, encoding="gb18030"))
    out, _err = run("import_questions", str(sheet), "--category", "专题/二十大")
    assert "Imported 4 question(s)." in out
    paths = {question.category.path_display() for question in Question.objects.all()}
    assert paths == {"专题/二十大/党史/建党", "专题/二十大/党史", "专题/二十大/党章党规"}


def test_gift_unsupported_kinds_are_reported_by_line(tmp_path: Path) -> None:
    gift = tmp_path / "moodle.txt"
    gift.write_text("Q1 {T}\n\n// numeric\nWhen? {#1822:1}\n\nMatch {=a -> b =c -> d}\n", "utf-8")
    _out, err, error = run_failing("import_questions", str(gift), "--category", "导入")
    assert err.splitlines() == [
        "Line 4, 答案: Numerical questions ({#…}) are not supported: "
        "rewrite it as fill-in-the-blank.",
        "Line 6, 答案: Matching questions (->) are not supported.",
    ]
    assert error.returncode == 1


def test_duplicates_fail_the_import_unless_skipped(tmp_path: Path) -> None:
    sheet = tmp_path / "bank.xlsx"
    sheet.write_bytes(make_xlsx(ROWS))
    run("import_questions", str(sheet))
    first = Question.objects.get(stem="中共一大在哪一年召开？")
    sheet.write_bytes(make_xlsx([ROWS[0], row("判断", "新的一题", [], "错", category="党史")]))

    _out, err, _error = run_failing("import_questions", str(sheet))
    assert f"already in the bank (question {first.pk}" in err

    out, _err = run("import_questions", str(sheet), "--skip-duplicates")
    assert out.splitlines() == [
        "Imported 1 question(s).",
        "  True or false: 1",
        "Skipped 1 duplicate question(s):",
        f"  Row 2 skipped: already in the bank (question {first.pk}).",
    ]


def test_the_format_option_overrides_the_extension(tmp_path: Path) -> None:
    aiken = tmp_path / "questions.dat"
    aiken.write_bytes((DATA / "bank_aiken.txt").read_bytes())
    _out, _err, error = run_failing("import_questions", str(aiken))
    assert "give --format" in str(error)
    out, _err = run("import_questions", str(aiken), "--format", "aiken", "--category", "党史")
    assert out.splitlines()[:2] == ["Imported 2 question(s).", "  Single choice: 2"]


def test_a_missing_file_is_refused(tmp_path: Path) -> None:
    _out, _err, error = run_failing("import_questions", str(tmp_path / "nope.xlsx"))
    assert "No such file" in str(error)


def test_export_then_import_the_export(tmp_path: Path) -> None:
    sheet = tmp_path / "bank.xlsx"
    sheet.write_bytes(make_xlsx(ROWS))
    run("import_questions", str(sheet))

    gift = tmp_path / "party-history.gift"
    out, _err = run("export_questions", str(gift), "--category", "党史")
    assert out.strip() == f"Exported 3 question(s) to {gift}."
    assert "$CATEGORY: $course$/top/党史/建党" in gift.read_text("utf-8")

    exported = tmp_path / "all.xlsx"
    out, _err = run("export_questions", "--format", "xlsx", str(exported))
    assert out.strip() == f"Exported 4 question(s) to {exported}."
    out, _err = run("import_questions", str(exported), "--dry-run", "--skip-duplicates")
    assert out.splitlines()[0] == "Dry run: 0 question(s) would be imported; nothing was written."
    assert "Skipped 4 duplicate question(s):" in out


def test_export_refuses_an_unknown_category_or_format(tmp_path: Path) -> None:
    _out, _err, error = run_failing(
        "export_questions", str(tmp_path / "x.xlsx"), "--category", "无此分类"
    )
    assert str(error) == "There is no question category “无此分类”."
    _out, _err, error = run_failing("export_questions", str(tmp_path / "x.doc"))
    assert "give --format xlsx | gift" in str(error)
