"""Excel question sheets: reading, writing, and the downloadable template.

The first sheet holds the questions, one per row, under a header row (the columns are
described in ``table``). The export writes the same columns, so an exported sheet can
be edited and imported again.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import IO, Any

from learning.common.sheets import xlsx_rows
from learning.common.spreadsheets import (
    cell_write,
    sheet_add,
    sheet_append,
    workbook_bytes,
    workbook_new,
)
from quizzes.bank.formats.base import ParsedQuestion, ParseResult
from quizzes.bank.formats.table import (
    COLUMNS,
    OPTION_COLUMNS,
    TABLE_LIMITS,
    parse_table_rows,
    question_row,
)

FORMAT = "xlsx"
SHEET_TITLE = "题目"
NOTES_TITLE = "填写说明"
SHEET_LIMITS = TABLE_LIMITS
_COLUMN_WIDTHS = {"题型": 8, "题干": 48, "答案": 14, "解析": 36, "难度": 6, "分类": 24, "标签": 18}


def parse_xlsx(file: IO[bytes] | bytes) -> ParseResult:
    """Read the first sheet of an .xlsx workbook. Pure: no database access.

    The workbook is read within ``SHEET_LIMITS`` (see ``learning.common.sheets``):
    a file that crosses one is a problem by row and column, never a long wait.
    """
    limits = SHEET_LIMITS
    data = file if isinstance(file, bytes) else file.read(limits.max_file_bytes + 1)
    # Rows are read as the parser asks for them: it stops after MAX_QUESTIONS.
    rows = xlsx_rows(data, limits=limits)
    try:
        return parse_table_rows(rows, format_name=FORMAT)
    finally:
        rows.close()


def questions_to_xlsx(questions: Iterable[ParsedQuestion]) -> bytes:
    """A workbook with the header and one row per question (the import's columns)."""
    workbook, sheet = workbook_new(SHEET_TITLE)
    _write_header(sheet)
    for row_number, question in enumerate(questions, start=2):
        _write_row(sheet, row_number, question_row(question))
    return workbook_bytes(workbook)


def _write_header(sheet: Any) -> None:
    from openpyxl.styles import Font, PatternFill
    from openpyxl.utils import get_column_letter

    for column_number, title in enumerate(COLUMNS, start=1):
        cell = sheet.cell(row=1, column=column_number, value=title)
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="FDECEA")
        width = 16 if title in OPTION_COLUMNS else _COLUMN_WIDTHS.get(title, 12)
        sheet.column_dimensions[get_column_letter(column_number)].width = width
    sheet.freeze_panes = "A2"


def _write_row(sheet: Any, row_number: int, values: list[str]) -> None:
    for column_number, value in enumerate(values, start=1):
        # Text stays text (a stem may start with = or -), unchanged, so it imports back.
        cell = cell_write(sheet.cell(row=row_number, column=column_number), value)
        cell.number_format = "@"


def question_import_template() -> bytes:
    """An empty question sheet with one example row per type and a sheet of instructions."""
    workbook, sheet = workbook_new(SHEET_TITLE)
    _write_header(sheet)
    examples = [
        [
            "单选",
            "中国共产党第一次全国代表大会于（ ）年召开。",
            "1919",
            "1921",
            "1927",
            "1949",
            "",
            "",
            "B",
            "中共一大于1921年7月在上海召开。",
            "1",
            "党史/新民主主义革命时期",
            "中共一大,建党",
        ],
        [
            "多选",
            "“四个意识”包括（ ）。",
            "政治意识",
            "大局意识",
            "核心意识",
            "看齐意识",
            "市场意识",
            "",
            "ABCD",
            "“四个意识”是政治意识、大局意识、核心意识、看齐意识。",
            "2",
            "党的理论",
            "四个意识",
        ],
        [
            "判断",
            "党的基层组织是党在社会基层组织中的战斗堡垒。",
            "",
            "",
            "",
            "",
            "",
            "",
            "对",
            "见《中国共产党章程》第五章。",
            "2",
            "党章党规",
            "党章",
        ],
        [
            "填空",
            "中国共产党第一次全国代表大会于____年召开，闭幕会在____的游船上举行。",
            "",
            "",
            "",
            "",
            "",
            "",
            "1921|嘉兴南湖/南湖",
            "",
            "3",
            "党史/新民主主义革命时期",
            "中共一大",
        ],
        [
            "简答",
            "简述“两个确立”的决定性意义。",
            "",
            "",
            "",
            "",
            "",
            "",
            "“两个确立”对新时代党和国家事业发展、对推进中华民族伟大复兴历史进程具有决定性意义。",
            "",
            "4",
            "党的理论",
            "",
        ],
    ]
    for row_number, values in enumerate(examples, start=2):
        _write_row(sheet, row_number, values)
    # Empty rows below the examples are text too, so Excel keeps 1/2 as "1/2", not a date.
    for row in sheet.iter_rows(min_row=7, max_row=1000, min_col=1, max_col=len(COLUMNS)):
        for cell in row:
            cell.number_format = "@"

    notes = sheet_add(workbook, NOTES_TITLE)
    for line in TEMPLATE_NOTES:
        sheet_append(notes, [line])
    notes.column_dimensions["A"].width = 110
    return workbook_bytes(workbook)


TEMPLATE_NOTES = [
    "每行一道题，第一行是表头，请勿修改表头。示例行导入前请删除。",
    "题型：必填，单选、多选、判断、填空或简答。",
    "题干：必填。填空题用 ____（两个以上下划线）或（ ）标出每个空，按顺序对应答案。",
    "选项A–选项F：单选、多选题必填，至少两个，从选项A起连续填写；其他题型留空。",
    "答案：单选填一个字母（如 B）；多选填全部正确选项的字母（如 ACD）。",
    "　　多选也可按 Moodle 方式给出分值：A:50%,C:50%,B:-100%（未列出的选项得 0 分）。",
    "　　判断填“对”或“错”（也可写 正确/错误、√/×）。",
    "　　填空按空的顺序填写答案，用 | 分隔；同一个空有多个可接受的答案时用 / 分隔，"
    "如 1921|嘉兴南湖/南湖。答案本身含 | 或 / 时写作 \\| 或 \\/。",
    "　　简答填参考答案（供阅卷人参考，可空）。",
    "　　填空答案判分时不区分全角半角、大小写，忽略首尾空格和末尾的标点。",
    "解析：选填，答题后向党员展示。",
    "难度：选填，1（最易）到 5（最难）的整数，默认 3。",
    "分类：选填，用 / 分隔的分类路径，如 党史/新民主主义革命时期；不存在的分类会自动创建。"
    "未填写时需在导入时选择分类。",
    "标签：选填，多个标签用逗号或顿号分隔。",
    "任何一行有错误时，整个文件都不会导入；请按提示的行号和列名修改后重新上传。",
    "与题库中已有题目（题干和选项相同）或文件中其他行重复的题目会被指出，可选择跳过重复题目后导入。",
]
