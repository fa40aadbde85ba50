"""Question imports stay within bounds: the penetration test's files, and their cousins.

Each test performs an attack from issue 11 (or one of the same family) and checks that
the importer answers with its usual clear problem — by row and column where there is
one — quickly, in little memory, and writes nothing.
"""

from __future__ import annotations

import random
import time
import zipfile
from collections.abc import Iterator

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import translation

from learning.common import sheets
from quizzes.bank.formats import guess_format, parse_questions
from quizzes.bank.formats.base import MAX_PROBLEMS
from quizzes.bank.formats.gift import parse_gift
from quizzes.bank.formats.xlsx import SHEET_LIMITS
from quizzes.models import Question, QuestionImport
from tests.factories.sheets import make_csv, make_xlsx, row
from tests.factories.xlsx_attacks import (
    SHEET_HEAD,
    SHEET_HEAD_WITHOUT_SIZE,
    SHEET_TAIL,
    MiB,
    big_cell_xlsx,
    bomb_xlsx,
    inline_cell,
    measured,
    package_parts,
    raw_zip,
    realistic_text,
    sheet_row,
    sheet_xlsx,
    timed,
    zip_parts,
)

HEADER = ("题型", "题干", "选项A", "选项B", "答案", "分类")
GOOD_ROW = ("单选", "中共一大在哪一年召开？", "1919", "1921", "B", "党史")


@pytest.fixture(autouse=True)
def _english() -> Iterator[None]:
    with translation.override("en"):
        yield


def texts(result) -> list[str]:
    return [str(problem) for problem in result.problems]


# --- the 616 KB workbook with a 600 MB cell ----------------------------------------------


def test_the_616_kb_workbook_with_a_600_mb_cell_is_refused_before_anything_is_unpacked() -> None:
    data = bomb_xlsx()
    assert len(data) < 700_000
    result, seconds, peak = measured(lambda: parse_questions(data, "xlsx"))
    assert not result.ok
    assert not result.questions
    assert seconds < 2
    assert peak < 20 * MiB
    [problem] = result.problems
    assert problem.row == 0
    assert "xl/worksheets/sheet1.xml" in problem.message
    assert "MB" in problem.message


@pytest.mark.django_db
def test_the_bomb_uploaded_in_the_admin_gets_a_clear_problem_and_writes_nothing(
    client, editor
) -> None:
    client.force_login(editor)
    started = time.perf_counter()
    response = client.post(
        reverse("quizzes_question_import"),
        {"file": SimpleUploadedFile("bank.xlsx", bomb_xlsx())},
    )
    assert time.perf_counter() - started < 5
    assert response.status_code == 302
    job = QuestionImport.objects.get()
    assert job.status == QuestionImport.Status.INVALID
    assert "xl/worksheets/sheet1.xml" in job.problems[0]["message"]
    preview = client.get(response["Location"])
    assert preview.status_code == 200
    assert "xl/worksheets/sheet1.xml" in preview.content.decode()
    assert not Question.objects.exists()


@pytest.mark.django_db
def test_the_import_command_refuses_the_bomb_with_the_problem(tmp_path) -> None:
    path = tmp_path / "bank.xlsx"
    path.write_bytes(bomb_xlsx())
    with pytest.raises(CommandError):
        call_command("import_questions", str(path), "--dry-run")
    assert not Question.objects.exists()


# --- a 20 MB cell ------------------------------------------------------------------------


def test_a_20_mb_cell_is_refused_by_row_and_column_without_being_held_in_memory() -> None:
    data = big_cell_xlsx(20 * MiB)
    result, seconds, peak = measured(lambda: parse_questions(data, "xlsx"))
    assert not result.questions
    [problem] = result.problems
    assert (problem.row, problem.field) == (2, "题干")
    assert str(problem).startswith("Row 2, column 题干:")
    assert f"{sheets.MAX_CELL_CHARS:,}" in problem.message
    assert seconds < 3
    # The text was counted as it streamed past, never built: far less than 20 MB.
    assert peak < 10 * MiB


@pytest.mark.django_db
def test_a_20_mb_cell_in_a_sheet_that_hides_its_size_is_named_by_its_letter() -> None:
    # openpyxl would read every row of such a sheet on opening it: refused before that.
    data = big_cell_xlsx(20 * MiB, head=SHEET_HEAD_WITHOUT_SIZE)
    result, _seconds, peak = measured(lambda: parse_questions(data, "xlsx"))
    [problem] = result.problems
    assert (problem.row, problem.field) == (2, "B")
    assert str(problem).startswith("Row 2, column B:")
    assert peak < 10 * MiB


@pytest.mark.django_db
def test_a_long_but_allowed_stem_is_stored_and_shown_truncated_in_the_preview(
    client, editor
) -> None:
    client.force_login(editor)
    stem = "中共一大" + "很长的题干" * 900 + "末尾的标记"
    data = make_xlsx([row("单选", stem, ["1919", "1921"], "B")])
    response = client.post(
        reverse("quizzes_question_import"), {"file": SimpleUploadedFile("bank.xlsx", data)}
    )
    job = QuestionImport.objects.get()
    assert job.status == QuestionImport.Status.CHECKED
    assert len(job.preview[0]["stem"]) <= 121
    page = client.get(response["Location"]).content.decode()
    assert "中共一大很长的题干" in page
    assert "末尾的标记" not in page


@pytest.mark.django_db
def test_an_upload_over_5_mb_is_refused_with_a_clear_message(client, editor) -> None:
    client.force_login(editor)
    data = b"x" * (5 * MiB + 1)
    response = client.post(
        reverse("quizzes_question_import"), {"file": SimpleUploadedFile("bank.gift", data)}
    )
    assert response.status_code == 200
    assert "5 MB" in " ".join(response.context["form"].errors["file"])
    assert not QuestionImport.objects.exists()


def test_the_parsers_refuse_a_file_over_5_mb_whatever_calls_them() -> None:
    for format_name in ("xlsx", "csv", "gift", "aiken"):
        result = parse_questions(b"x" * (5 * MiB + 1), format_name)
        assert not result.ok
        assert "5 MB" in result.problems[0].message


# --- the zip before openpyxl -----------------------------------------------------------


def _good_parts() -> dict[str, bytes]:
    body = sheet_row(1, HEADER) + sheet_row(2, GOOD_ROW)
    return package_parts((SHEET_HEAD + body + SHEET_TAIL).encode())


def test_a_well_formed_minimal_workbook_reads() -> None:
    result = parse_questions(zip_parts(_good_parts()), "xlsx")
    assert result.ok, texts(result)
    assert result.questions[0].stem == "中共一大在哪一年召开？"


def _with(name: str, data: bytes) -> bytes:
    parts = _good_parts()
    parts[name] = data
    return zip_parts(parts)


def _many_entries() -> bytes:
    parts = _good_parts()
    for number in range(sheets.MAX_ARCHIVE_ENTRIES):
        parts[f"xl/media/image{number}.png"] = b""
    return zip_parts(parts, compression=zipfile.ZIP_STORED)


def _incompressible(size: int) -> bytes:
    noise = random.Random(size).randbytes(size // 2).hex()
    return f"<styleSheet><x a='{noise}'/></styleSheet>".encode()


def _renamed(old: str, new: str) -> bytes:
    parts = _good_parts()
    parts[new] = parts.pop(old) if old in parts else b"x"
    return zip_parts(parts)


@pytest.mark.parametrize(
    ("make", "fragment"),
    [
        (_many_entries, "parts"),
        (lambda: _renamed("docProps/app.xml", "../../etc/passwd"), "../../etc/passwd"),
        (lambda: _renamed("docProps/app.xml", "/abs/olute.xml"), "/abs/olute.xml"),
        (lambda: _renamed("docProps/app.xml", "a/" * 20 + "deep.xml"), "deep.xml"),
        (lambda: _with("xl/embeddings/inner.zip", b"PK"), "inner.zip"),
        (lambda: _with("xl/embeddings/oleObject1.xlsx", b"PK\x03\x04"), "oleObject1"),
        (lambda: _with("xl/styles.xml", _incompressible(sheets.MAX_SMALL_PARTS_BYTES)), "MB"),
        (lambda: _with("xl/media/zeros.bin", bytes(2 * MiB)), "zeros"),
        (lambda: _with("xl/media/logo.png", _incompressible(100_000)), None),
    ],
)
def test_odd_archives_are_refused_before_openpyxl_opens_them(make, fragment) -> None:
    result, seconds, peak = measured(lambda: parse_questions(make(), "xlsx"))
    assert seconds < 2
    assert peak < 50 * MiB
    if fragment is None:
        assert result.ok, texts(result)
        return
    assert not result.ok
    [problem] = result.problems
    assert problem.row == 0
    assert fragment in problem.message


def test_too_much_unpacked_data_in_all_is_refused_from_the_directory_alone() -> None:
    # Declared sizes only: the check reads the zip's directory and never unpacks them.
    declared = sheets.MAX_ENTRY_BYTES - 1
    filler = bytes(declared // sheets.MAX_COMPRESSION_RATIO + 1)
    entries = [
        (f"xl/media/filler{number}.bin", filler, 0, declared)
        for number in range(sheets.MAX_ARCHIVE_BYTES // declared + 1)
    ]
    data = raw_zip(entries)
    result, seconds, _peak = measured(lambda: parse_questions(data, "xlsx"))
    assert seconds < 1
    assert not result.ok
    assert f"{sheets.MAX_ARCHIVE_BYTES // MiB} MB" in result.problems[0].message


def test_an_encrypted_or_unusually_compressed_part_is_refused() -> None:
    data = bytearray(zip_parts(_good_parts()))
    # Set the "encrypted" flag of every entry in the central directory.
    position = data.find(b"PK\x01\x02")
    while position != -1:
        data[position + 8] |= 0x01
        position = data.find(b"PK\x01\x02", position + 4)
    result = parse_questions(bytes(data), "xlsx")
    assert not result.ok
    assert "password" in result.problems[0].message

    buffer = zip_parts(_good_parts(), compression=zipfile.ZIP_BZIP2)
    result = parse_questions(buffer, "xlsx")
    assert not result.ok
    assert "compress" in result.problems[0].message


def test_a_workbook_with_a_doctype_is_refused() -> None:
    sheet = (
        '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa">]>'
        + SHEET_HEAD.split("?>", 1)[1]
        + sheet_row(1, HEADER)
        + SHEET_TAIL
    )
    parts = _good_parts()
    parts["xl/worksheets/sheet1.xml"] = sheet.encode()
    result = parse_questions(zip_parts(parts), "xlsx")
    assert not result.ok


# --- what openpyxl would build whole -----------------------------------------------------


def test_too_many_shared_strings_are_refused_quickly() -> None:
    count = sheets.MAX_SHARED_STRINGS + 1
    strings = (
        f'<?xml version="1.0"?><sst xmlns="{sheets.MAIN_NS}">'
        + "".join(f"<si><t>{number}</t></si>" for number in range(count))
        + "</sst>"
    ).encode()
    sheet = (SHEET_HEAD + '<row r="1"><c r="A1" t="s"><v>0</v></c></row>' + SHEET_TAIL).encode()
    data = zip_parts(package_parts(sheet, shared_strings=strings))
    result, seconds = timed(lambda: parse_questions(data, "xlsx"))
    assert seconds < 2
    assert not result.ok
    assert f"{sheets.MAX_SHARED_STRINGS:,}" in result.problems[0].message


def _shared_strings(*texts: str) -> bytes:
    items = "".join(f"<si><t>{text}</t></si>" for text in texts)
    return f'<?xml version="1.0"?><sst xmlns="{sheets.MAIN_NS}">{items}</sst>'.encode()


def test_a_huge_shared_string_is_refused_before_openpyxl_builds_it() -> None:
    strings = _shared_strings("题干", "开头" + realistic_text(sheets.MAX_STRING_BYTES))
    sheet = (SHEET_HEAD + '<row r="1"><c r="A1" t="s"><v>0</v></c></row>' + SHEET_TAIL).encode()
    data = zip_parts(package_parts(sheet, shared_strings=strings))
    result, _seconds, peak = measured(lambda: parse_questions(data, "xlsx"))
    [problem] = result.problems
    assert problem.row == 0
    assert "开头" in problem.message
    assert peak < 10 * MiB


def test_a_cell_showing_a_long_shared_string_is_refused_by_row_and_column() -> None:
    long_text = "长" * (sheets.MAX_CELL_CHARS + 1)
    strings = _shared_strings(*HEADER, *GOOD_ROW, long_text)
    header = "".join(
        f'<c r="{chr(ord("A") + index)}1" t="s"><v>{index}</v></c>' for index in range(len(HEADER))
    )
    row_2 = f'<c r="A2" t="s"><v>{len(HEADER)}</v></c><c r="B2" t="s"><v>{2 * len(HEADER)}</v></c>'
    sheet = f'{SHEET_HEAD}<row r="1">{header}</row><row r="2">{row_2}</row>{SHEET_TAIL}'
    data = zip_parts(package_parts(sheet.encode(), shared_strings=strings))
    result = parse_questions(data, "xlsx")
    [problem] = result.problems
    assert (problem.row, problem.field) == (2, "题干")
    assert f"{sheets.MAX_CELL_CHARS:,}" in problem.message


def test_a_row_of_too_many_cells_is_refused_by_its_row() -> None:
    cells = '<c t="inlineStr"><is><t>x</t></is></c>' * (sheets.MAX_TAGS_PER_ROW + 1)
    sheet = SHEET_HEAD + sheet_row(1, HEADER) + f'<row r="2">{cells}</row>' + SHEET_TAIL
    result, seconds, peak = measured(
        lambda: parse_questions(zip_parts(package_parts(sheet.encode())), "xlsx")
    )
    assert seconds < 3
    assert peak < 50 * MiB
    [problem] = result.problems
    assert problem.row == 2


def test_a_cell_of_many_formatted_runs_is_refused() -> None:
    runs = "<r><rPr><b/></rPr><t>x</t></r>" * (sheets.MAX_TAGS_PER_ROW // 6)
    sheet = (
        SHEET_HEAD
        + sheet_row(1, HEADER)
        + f'<row r="2"><c r="B2" t="inlineStr"><is>{runs}</is></c></row>'
        + SHEET_TAIL
    )
    result = parse_questions(zip_parts(package_parts(sheet.encode())), "xlsx")
    [problem] = result.problems
    assert problem.row == 2


def test_columns_before_the_data_are_bounded() -> None:
    cols = '<col min="1" max="1" width="9"/>' * (sheets.MAX_TAGS_BESIDES_ROWS + 1)
    sheet = SHEET_HEAD.replace("<sheetData>", f"<cols>{cols}</cols><sheetData>")
    sheet += sheet_row(1, HEADER) + sheet_row(2, GOOD_ROW) + SHEET_TAIL
    result, seconds, _peak = measured(
        lambda: parse_questions(zip_parts(package_parts(sheet.encode())), "xlsx")
    )
    assert seconds < 2
    assert not result.ok


def test_what_follows_the_rows_is_bounded_too() -> None:
    def with_merges(count: int) -> bytes:
        merges = "".join(f'<mergeCell ref="A{n}:B{n}"/>' for n in range(3, 3 + count))
        sheet = (
            SHEET_HEAD
            + sheet_row(1, HEADER)
            + sheet_row(2, GOOD_ROW)
            + f"</sheetData><mergeCells>{merges}</mergeCells></worksheet>"
        )
        return zip_parts(package_parts(sheet.encode()))

    result = parse_questions(with_merges(100), "xlsx")
    assert result.ok, texts(result)
    data = with_merges(200_000)
    result, seconds, peak = measured(lambda: parse_questions(data, "xlsx"))
    assert not result.ok
    assert result.problems[0].row == 0
    assert seconds < 3
    assert peak < 30 * MiB


def test_content_beyond_the_row_limit_is_refused_at_that_row() -> None:
    far = SHEET_LIMITS.max_rows + 1
    sheet = (
        SHEET_HEAD
        + sheet_row(1, HEADER)
        + sheet_row(2, GOOD_ROW)
        + f'<row r="{far}">{inline_cell(f"A{far}", "单选")}</row>'
        + SHEET_TAIL
    )
    result = parse_questions(zip_parts(package_parts(sheet.encode())), "xlsx")
    assert not result.ok
    assert result.problems[-1].row == far


def test_empty_formatted_rows_far_down_are_ignored() -> None:
    sheet = (
        SHEET_HEAD
        + sheet_row(1, HEADER)
        + sheet_row(2, GOOD_ROW)
        + '<row r="1048576"><c r="A1048576" s="1"/></row>'
        + SHEET_TAIL
    )
    result, seconds, _peak = measured(
        lambda: parse_questions(zip_parts(package_parts(sheet.encode())), "xlsx")
    )
    assert result.ok, texts(result)
    assert seconds < 2


def test_reading_stops_when_the_time_budget_is_spent(monkeypatch) -> None:
    from dataclasses import replace

    from quizzes.bank.formats import xlsx

    monkeypatch.setattr(xlsx, "SHEET_LIMITS", replace(xlsx.SHEET_LIMITS, max_seconds=0))
    result = parse_questions(
        make_xlsx([row("判断", "党的基层组织是战斗堡垒。", answer="对")]), "xlsx"
    )
    assert not result.ok
    assert "seconds" in result.problems[0].message


def test_a_difficulty_of_400_digits_is_a_problem_not_a_crash() -> None:
    data = make_xlsx([row("判断", "党的基层组织是战斗堡垒。", answer="对", difficulty="9" * 400)])
    result = parse_questions(data, "xlsx")
    [problem] = result.problems
    assert (problem.row, problem.field) == (2, "难度")
    assert len(problem.message) < 200


def test_a_weighted_answer_padded_with_spaces_is_read_in_linear_time() -> None:
    answer = "A" + " " * 20_000 + ":100%"
    data = make_csv([row("单选", "中共一大在哪一年召开？", ["1921", "1919"], answer)])
    started = time.perf_counter()
    result = parse_questions(data, "csv")
    assert time.perf_counter() - started < 1
    assert result.problems
    assert all(len(problem.message) < 300 for problem in result.problems)


# --- CSV ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("length", "column"),
    [
        (sheets.MAX_CELL_CHARS + 1, "题干"),
        # Beyond the csv module's own field limit the reader stops before the field is
        # built, and cannot tell which field it was.
        (200_000, ""),
    ],
)
def test_a_csv_field_over_the_cell_limit_is_refused_by_its_row(length: int, column: str) -> None:
    data = make_csv([row("单选", "长" * length, ["1919", "1921"], "B")])
    result = parse_questions(data, "csv")
    [problem] = result.problems
    assert (problem.row, problem.field) == (2, column), str(problem)
    assert f"{sheets.MAX_CELL_CHARS:,}" in problem.message


def test_a_csv_of_a_million_bad_rows_lists_a_bounded_number_of_problems() -> None:
    data = ("题型,题干,答案\n" + "x,y,z\n" * 400_000).encode()
    result, seconds, _peak = measured(lambda: parse_questions(data, "csv"))
    assert seconds < 10
    assert len(result.problems) <= MAX_PROBLEMS + 1
    assert "problems" in str(result.problems[-1]).lower()


def test_nul_and_control_characters_in_a_csv_are_refused_by_row_and_column() -> None:
    data = make_csv(
        [
            row("单选", "中共一大\x00在哪一年召开？", ["1919", "1921"], "B"),
            row("单选", "中共二大在哪一年召开？", ["19\x0722", "1921"], "A"),
            row("单选", "中共三大在哪一年召开？\t(含制表符)", ["1923", "1921"], "A"),
        ]
    )
    result = parse_questions(data, "csv")
    found = {(problem.row, problem.field): problem.message for problem in result.problems}
    assert "U+0000" in found[(2, "题干")]
    assert "U+0007" in found[(3, "选项A")]
    assert not any(problem.row == 4 for problem in result.problems)


# --- GIFT --------------------------------------------------------------------------------


@pytest.mark.parametrize("marker", ["[difficulty:", "[answer:", "[tag:"])
@pytest.mark.parametrize("size", [160_000, 3_300_000])
def test_gift_comments_are_read_in_linear_time(marker: str, size: int) -> None:
    # Questions of 80,000-character comments (under the per-question bound, so every
    # comment is parsed), 160 KB and 3.3 MB in all: 10.3 s and over 90 s before.
    comment = "// " + marker * (80_000 // len(marker))
    question = comment + "\n党的基层组织是战斗堡垒。{T}\n\n"
    data = (question * (size // len(question) + 1)).encode()
    started = time.perf_counter()
    result = parse_gift(data)
    assert time.perf_counter() - started < 1.5
    assert len(result.questions) == size // len(question) + 1
    assert not any("100,000" in problem.message for problem in result.problems)


def test_a_gift_question_just_under_the_bound_is_read() -> None:
    comment = "// [tag:" + "标" * 90_000 + "]"
    result = parse_gift(comment + "\n题目{T}\n")
    [question] = result.questions
    assert question.tags == ["标" * 90_000]


def test_a_gift_answer_comment_still_reads_the_reference_answer() -> None:
    result = parse_gift("// [answer:为人民服务 [重点]]\n简述党的宗旨。{}\n")
    assert result.ok, texts(result)
    assert result.questions[0].reference_answer == "为人民服务 [重点]"


def test_html_that_nests_quotes_and_angles_is_stripped_in_linear_time() -> None:
    stem = '<a x=">" ' * 6_000
    started = time.perf_counter()
    result = parse_gift(f"[html]{stem}题目{{T}}\n")
    assert time.perf_counter() - started < 1
    assert result.questions or result.problems


def test_deeply_nested_html_is_a_problem_not_a_crash() -> None:
    result = parse_gift("[html]" + "<a\n" * 100 + "题目{T}\n")
    assert result.questions or result.problems


def test_a_huge_gift_question_is_refused_by_its_line() -> None:
    data = ("第一题{T}\n\n" + "很长" * 60_000 + "{T}\n").encode()
    result = parse_gift(data)
    assert [problem.row for problem in result.problems] == [3]


def test_a_gift_difficulty_of_5000_digits_is_a_problem_not_a_crash() -> None:
    result = parse_gift("// [difficulty:" + "9" * 5000 + "]\n题目{T}\n")
    [problem] = result.problems
    assert problem.field == "难度"
    assert len(problem.message) < 200


def test_a_gift_file_of_descriptions_lists_a_bounded_number_of_problems() -> None:
    data = ("描述\n\n" * 500_000).encode()
    result, seconds, _peak = measured(lambda: parse_gift(data))
    assert seconds < 10
    assert len(result.problems) <= MAX_PROBLEMS + 1


def test_invalid_text_in_gift_is_refused_by_line() -> None:
    result = parse_gift("中共一大\x01在哪一年召开？{=1921 ~1919}\n\n简述\ud800党的宗旨。{}\n")
    by_line = {problem.row: problem.message for problem in result.problems}
    assert "U+0001" in by_line[1]
    assert "U+D800" in by_line[3]


# --- Aiken and format guessing -----------------------------------------------------------


def test_a_txt_file_of_blank_lines_is_guessed_in_linear_time() -> None:
    started = time.perf_counter()
    assert guess_format("bank.txt", b"\n" * 3_000_000) is None
    assert guess_format("bank.txt", b" \n" * 1_000_000 + b"  ANSWER: B\n") == "aiken"
    assert time.perf_counter() - started < 1


def test_a_huge_aiken_question_is_refused_by_its_line() -> None:
    data = (
        "题目一\nA. 甲\nB. 乙\nANSWER: A\n\n"
        + "很长的题干\n" * 30_000
        + "A. 甲\nB. 乙\nANSWER: A\n"
    ).encode()
    result = parse_questions(data, "aiken")
    assert len(result.questions) == 1
    assert [problem.row for problem in result.problems] == [6]


def test_an_aiken_file_of_stray_answers_lists_a_bounded_number_of_problems() -> None:
    data = ("ANSWER: A\n" * 400_000).encode()
    result, seconds, _peak = measured(lambda: parse_questions(data, "aiken"))
    assert seconds < 10
    assert len(result.problems) <= MAX_PROBLEMS + 1


def test_sheet_xlsx_helper_builds_readable_workbooks() -> None:
    result = parse_questions(sheet_xlsx([HEADER, GOOD_ROW]), "xlsx")
    assert result.ok, texts(result)


@pytest.mark.django_db
def test_the_bounded_question_upload_still_checks_csrf(editor) -> None:
    from django.test import Client

    csrf_client = Client(enforce_csrf_checks=True)
    csrf_client.force_login(editor)
    response = csrf_client.post(
        reverse("quizzes_question_import"),
        {"file": SimpleUploadedFile("bank.gift", b"x{T}")},
    )
    assert response.status_code == 403
    assert not QuestionImport.objects.exists()


def test_a_sheet_written_with_a_namespace_prefix_reads_like_any_other() -> None:
    body = sheet_row(1, HEADER) + sheet_row(2, GOOD_ROW)
    sheet = (SHEET_HEAD + body + SHEET_TAIL).replace("<", "<x:").replace("<x:/", "</x:")
    sheet = sheet.replace("<x:?xml", "<?xml").replace(
        f'x:worksheet xmlns="{sheets.MAIN_NS}"', f'x:worksheet xmlns:x="{sheets.MAIN_NS}"'
    )
    result = parse_questions(zip_parts(package_parts(("\ufeff" + sheet).encode())), "xlsx")
    assert result.ok, texts(result)
    assert result.questions[0].stem == "中共一大在哪一年召开？"


@pytest.mark.parametrize(
    "hidden",
    [
        "<!-- <row r='3'> -->",
        "<![CDATA[<row r='3'>]]>",
        "<?pi <row r='3'> ?>",
    ],
)
def test_markup_that_could_hide_a_tag_is_refused(hidden: str) -> None:
    body = sheet_row(1, HEADER) + hidden + sheet_row(2, GOOD_ROW)
    data = zip_parts(package_parts((SHEET_HEAD + body + SHEET_TAIL).encode()))
    result = parse_questions(data, "xlsx")
    [problem] = result.problems
    assert problem.row == 0


def test_a_sheet_in_utf_16_is_refused() -> None:
    body = sheet_row(1, HEADER) + sheet_row(2, GOOD_ROW)
    sheet = (SHEET_HEAD + body + SHEET_TAIL).replace('encoding="UTF-8"', 'encoding="UTF-16"')
    result = parse_questions(zip_parts(package_parts(sheet.encode("utf-16"))), "xlsx")
    [problem] = result.problems
    assert problem.row == 0


@pytest.mark.django_db
def test_the_import_command_reads_no_more_than_the_limit(tmp_path) -> None:
    path = tmp_path / "bank.gift"
    with path.open("wb") as handle:
        handle.truncate(64 * MiB)  # sparse: nothing is written, yet the file is large
    with pytest.raises(CommandError, match="5 MB"):
        call_command("import_questions", str(path), "--dry-run")
