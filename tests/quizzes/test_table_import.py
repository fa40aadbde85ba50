"""The .xlsx and CSV formats: every type, every answer syntax, bad rows named by row and column."""

from __future__ import annotations

import codecs
from collections.abc import Iterator
from decimal import Decimal

import pytest
from django.utils import translation

from quizzes.bank.formats import parse_questions
from quizzes.bank.formats.base import ParsedChoice
from quizzes.bank.formats.csvfile import parse_csv
from quizzes.bank.formats.table import join_blank_answers, split_blank_answers
from quizzes.bank.formats.xlsx import parse_xlsx, question_import_template
from quizzes.models import Question
from tests.factories.sheets import make_csv, make_xlsx, row

Type = Question.Type

GOOD_ROWS = [
    row(
        "单选",
        "中共一大在哪一年召开？",
        ["1919", "1921", "1927"],
        "B",
        "见党史。",
        1,
        "党史/建党",
        "中共一大",
    ),
    row("多选题", "“四个意识”包括（ ）。", ["政治意识", "大局意识", "核心意识", "市场意识"], "ABC"),
    row("判断", "党的最高领导机关是党的全国代表大会和它所产生的中央委员会。", [], "对"),
    row("填空", "中共一大于____年召开，闭幕会在____举行。", [], "1921|嘉兴南湖/南湖"),
    row("简答", "简述党的群众路线。", [], "一切为了群众，一切依靠群众。"),
]


@pytest.fixture(autouse=True)
def _english() -> Iterator[None]:
    with translation.override("en"):
        yield


def test_every_type_is_read_from_xlsx() -> None:
    result = parse_xlsx(make_xlsx(GOOD_ROWS))
    assert result.ok, [str(problem) for problem in result.problems]
    single, multiple, true_false, fill, short = result.questions
    assert single.type == Type.SINGLE
    assert [choice.text for choice in single.choices] == ["1919", "1921", "1927"]
    assert [choice.is_correct for choice in single.choices] == [False, True, False]
    assert [choice.weight for choice in single.choices] == [0, 1, 0]
    assert single.explanation == "见党史。"
    assert single.difficulty == 1
    assert single.category_path == ["党史", "建党"]
    assert single.tags == ["中共一大"]
    assert single.source == 2
    assert multiple.type == Type.MULTIPLE
    assert [choice.is_correct for choice in multiple.choices] == [True, True, True, False]
    # Default weights: the correct options share +100 %, the wrong ones -100 %.
    assert [choice.weight for choice in multiple.choices] == [
        Decimal("0.3333333"),
        Decimal("0.3333333"),
        Decimal("0.3333333"),
        Decimal(-1),
    ]
    assert multiple.difficulty == 3
    assert true_false.type == Type.TRUE_FALSE
    assert true_false.true_false_answer is True
    assert fill.type == Type.FILL_BLANK
    assert fill.blanks == [["1921"], ["嘉兴南湖", "南湖"]]
    assert short.type == Type.SHORT_ANSWER
    assert short.reference_answer == "一切为了群众，一切依靠群众。"


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        ("对", True),
        ("正确", True),
        ("√", True),
        ("T", True),
        ("true", True),
        ("ＴＲＵＥ", True),
        ("错", False),
        ("错误", False),
        ("×", False),
        ("F", False),
        ("FALSE", False),
        ("否", False),
    ],
)
def test_true_false_answers_in_their_many_spellings(answer: str, expected: bool) -> None:
    result = parse_xlsx(make_xlsx([row("判断", "题干", [], answer)]))
    assert result.ok
    assert result.questions[0].true_false_answer is expected


def test_a_true_false_cell_typed_as_excel_boolean_is_read() -> None:
    result = parse_xlsx(
        make_xlsx([row("判断", "题干", [], True), row("判断", "题干二", [], False)])
    )
    assert [question.true_false_answer for question in result.questions] == [True, False]


def test_true_false_with_options_a_and_b_takes_the_letter() -> None:
    result = parse_xlsx(make_xlsx([row("判断", "题干", ["正确", "错误"], "B")]))
    assert result.ok
    assert result.questions[0].true_false_answer is False
    assert result.questions[0].choices == []


@pytest.mark.parametrize("answer", ["AC", "A,C", "a、c", "A C", "ＡＣ", "C A"])
def test_multiple_choice_letters_in_any_separator_or_width(answer: str) -> None:
    result = parse_xlsx(make_xlsx([row("多选", "题干", ["甲", "乙", "丙"], answer)]))
    assert result.ok, [str(problem) for problem in result.problems]
    assert [choice.is_correct for choice in result.questions[0].choices] == [True, False, True]


def test_moodle_weights_in_the_answer_cell() -> None:
    result = parse_xlsx(
        make_xlsx([row("多选", "题干", ["甲", "乙", "丙", "丁"], "A:50%, C：50%，B:-100%")])
    )
    assert result.ok, [str(problem) for problem in result.problems]
    assert result.questions[0].choices == [
        ParsedChoice("甲", True, Decimal("0.5")),
        ParsedChoice("乙", False, Decimal(-1)),
        ParsedChoice("丙", True, Decimal("0.5")),
        ParsedChoice("丁", False, Decimal(0)),
    ]


def test_single_choice_with_a_partial_credit_option() -> None:
    result = parse_xlsx(make_xlsx([row("单选", "题干", ["甲", "乙", "丙"], "B:100%,A:50%")]))
    assert result.ok
    choices = result.questions[0].choices
    assert [choice.is_correct for choice in choices] == [False, True, False]
    assert [choice.weight for choice in choices] == [Decimal("0.5"), 1, 0]


def test_fill_in_blank_markers_of_every_style_become_four_underscores() -> None:
    result = parse_xlsx(
        make_xlsx(
            [
                row("填空", "中共一大于（ ）年在______召开。", [], "1921|上海"),
                row("填空", "中国共产党成立于哪一年？", [], "1921"),
            ]
        )
    )
    assert result.ok, [str(problem) for problem in result.problems]
    assert result.questions[0].stem == "中共一大于____年在____召开。"
    assert result.questions[1].stem == "中国共产党成立于哪一年？____"


@pytest.mark.parametrize(
    ("text", "blanks"),
    [
        ("1921", [["1921"]]),
        ("1921|嘉兴南湖/南湖", [["1921"], ["嘉兴南湖", "南湖"]]),
        ("1921｜南湖", [["1921"], ["南湖"]]),  # full-width bar
        (" a / b | c ", [["a", "b"], ["c"]]),
        (r"1\/2|TCP\/IP/tcp", [["1/2"], ["TCP/IP", "tcp"]]),
        (r"a\|b", [["a|b"]]),
        (r"C:\\temp", [["C:\\temp"]]),
        ("a||b", [["a"], [], ["b"]]),
        ("", []),
    ],
)
def test_blank_answers_split_and_join_back(text: str, blanks: list[list[str]]) -> None:
    assert split_blank_answers(text) == blanks
    if all(blanks):
        assert split_blank_answers(join_blank_answers(blanks)) == blanks


def test_english_headers_in_another_order_are_accepted() -> None:
    header = ["Answer", "Question", "Type", "Option A", "option_b", "Category", "Difficulty"]
    result = parse_xlsx(
        make_xlsx([["A", "题干", "single", "甲", "乙", "党史", 2.0]], header=header)
    )
    assert result.ok, [str(problem) for problem in result.problems]
    question = result.questions[0]
    assert (question.type, question.difficulty, question.category_path) == ("single", 2, ["党史"])


def test_empty_rows_are_skipped_and_rows_keep_their_excel_numbers() -> None:
    rows = [GOOD_ROWS[0], [None] * 14, row("单选", "", ["甲", "乙"], "A")]
    result = parse_xlsx(make_xlsx(rows))
    assert [(problem.row, problem.field) for problem in result.problems] == [(4, "题干")]


@pytest.mark.parametrize(
    ("bad_row", "column", "fragment"),
    [
        (row("选择", "题干", ["甲", "乙"], "A"), "题型", "选择"),
        (row("", "题干", ["甲", "乙"], "A"), "题型", "type is empty"),
        (row("单选", "", ["甲", "乙"], "A"), "题干", "stem is empty"),
        (row("单选", "题干", ["甲"], "A"), "选项", "at least 2"),
        (row("单选", "题干", ["甲", "", "丙"], "A"), "选项B", "without gaps"),
        (row("单选", "题干", ["甲", "乙"], "C"), "答案", "option C, which the question does not"),
        (row("单选", "题干" * 3000, ["甲", "乙"], "A"), "题干", "Longer than 5000"),
        (row("单选", "题干", ["甲", "乙"], "AB"), "答案", "exactly one"),
        (row("单选", "题干", ["甲", "乙"], ""), "答案", "empty"),
        (row("单选", "题干", ["甲", "乙"], "甲"), "答案", "甲"),
        (row("单选", "题干", ["甲", "甲"], "A"), "选项B", "repeats option A"),
        (row("多选", "题干", ["甲", "乙", "丙"], "AA"), "答案", "twice"),
        (row("多选", "题干", ["甲", "乙", "丙"], "A:50%,B:20%"), "答案", "70%"),
        (row("多选", "题干", ["甲", "乙", "丙"], "A:half"), "答案", "A:half"),
        (row("多选", "题干", ["甲", "乙", "丙"], "A:100%,B:-150%"), "选项B", "-150%"),
        (row("判断", "题干", [], "也许"), "答案", "也许"),
        (row("判断", "题干", ["甲", "乙"], "对"), "选项A", "对 and 错"),
        (row("填空", "题干____", [], ""), "答案", "each blank"),
        (row("填空", "题干____和____", [], "一"), "题干", "2 blank(s)"),
        (row("填空", "题干____", ["甲"], "一"), "选项A", "Only single- and multiple-choice"),
        (row("简答", "题干", [], "", difficulty="难"), "难度", "难"),
        (row("简答", "题干", [], "", difficulty=7), "难度", "from 1 to 5"),
        (row("简答", "题干", [], "", category="党史//建党"), "分类", "empty level"),
        (row("简答", "题干", [], "", tags="x" * 101), "标签", "longer than 100"),
    ],
)
def test_a_bad_cell_is_named_by_row_and_column(bad_row: list, column: str, fragment: str) -> None:
    result = parse_xlsx(make_xlsx([GOOD_ROWS[0], bad_row]))
    assert not result.ok
    assert [problem.row for problem in result.problems] == [3], [str(p) for p in result.problems]
    problem = result.problems[0]
    assert problem.field == column
    assert fragment in problem.message
    assert str(problem).startswith(f"Row 3, column {column}: ")


def test_every_problem_of_every_row_is_reported() -> None:
    rows = [
        row("单选", "", ["甲", "乙"], "C", difficulty=9),
        GOOD_ROWS[1],
        row("未知", "题干"),
        row("填空", "题干", ["甲"], ""),
    ]
    result = parse_xlsx(make_xlsx(rows))
    assert sorted({(problem.row, problem.field) for problem in result.problems}) == [
        (2, "答案"),
        (2, "难度"),
        (2, "题干"),
        (4, "题型"),
        (5, "答案"),
        (5, "选项A"),
    ]


def test_a_missing_required_column_is_reported_on_the_header_row() -> None:
    result = parse_xlsx(make_xlsx([["单选", "题干"]], header=["题型", "题干"]))
    assert [(problem.row, problem.field) for problem in result.problems] == [(1, "答案")]
    assert "答案" in result.problems[0].message


def test_an_empty_sheet_and_a_header_only_sheet_are_reported() -> None:
    import io

    from openpyxl import Workbook

    buffer = io.BytesIO()
    Workbook().save(buffer)
    assert parse_xlsx(buffer.getvalue()).problems[0].message == "The file is empty."
    assert "no questions" in parse_xlsx(make_xlsx([])).problems[0].message


def test_a_file_that_is_not_a_workbook_is_one_clear_problem() -> None:
    result = parse_xlsx(b"this is not a zip file")
    assert len(result.problems) == 1
    assert result.problems[0].row == 0
    assert "could not be read as an Excel .xlsx workbook" in str(result.problems[0])


def test_the_template_has_one_valid_example_per_type_and_instructions() -> None:
    import io

    from openpyxl import load_workbook

    data = question_import_template()
    result = parse_xlsx(data)
    assert result.ok, [str(problem) for problem in result.problems]
    assert sorted(question.type for question in result.questions) == sorted(Type.values)
    workbook = load_workbook(io.BytesIO(data))
    assert workbook.sheetnames == ["题目", "填写说明"]
    notes = " ".join(str(cell.value) for cell in workbook["填写说明"]["A"])
    assert "嘉兴南湖/南湖" in notes and "A:50%" in notes


# --- CSV ------------------------------------------------------------------------------


def test_csv_in_gb18030_as_excel_on_chinese_windows_writes_it() -> None:
    data = make_csv(GOOD_ROWS, encoding="gb18030")
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    result = parse_csv(data)
    assert result.ok, [str(problem) for problem in result.problems]
    assert [question.stem for question in result.questions] == [row[1] for row in GOOD_ROWS]
    assert result.questions[3].blanks == [["1921"], ["嘉兴南湖", "南湖"]]


def test_csv_in_gb18030_with_characters_outside_gbk() -> None:
    data = make_csv([row("简答", "简述“𠀀”与“㐀”。", [], "")], encoding="gb18030")
    assert parse_csv(data).questions[0].stem == "简述“𠀀”与“㐀”。"


@pytest.mark.parametrize("bom", [b"", codecs.BOM_UTF8])
def test_csv_in_utf8_with_or_without_bom(bom: bytes) -> None:
    result = parse_csv(bom + make_csv(GOOD_ROWS))
    assert result.ok, [str(problem) for problem in result.problems]
    assert result.questions[0].type == Type.SINGLE  # the BOM does not spoil the 题型 header
    assert len(result.questions) == 5


def test_csv_in_utf16_and_tab_separated_as_excel_unicode_text() -> None:
    data = make_csv(GOOD_ROWS, encoding="utf-16", delimiter="\t")
    result = parse_csv(data)
    assert result.ok, [str(problem) for problem in result.problems]
    assert len(result.questions) == 5


def test_csv_with_a_line_break_inside_a_quoted_cell() -> None:
    data = make_csv([row("简答", "第一行\n第二行", [], "参考")], encoding="utf-8")
    assert parse_csv(data).questions[0].stem == "第一行\n第二行"


def test_csv_rows_are_numbered_like_the_sheet() -> None:
    result = parse_csv(make_csv([GOOD_ROWS[0], row("单选", "题干", ["甲", "乙"], "Z")]))
    assert [(problem.row, problem.field) for problem in result.problems] == [(3, "答案")]


def test_csv_bytes_that_are_no_known_encoding_are_one_problem() -> None:
    result = parse_csv(b"\x81\x30\xff\xff\x00\x80")
    assert len(result.problems) == 1
    assert "UTF-8 or GB18030" in result.problems[0].message


def test_parse_questions_dispatches_by_format() -> None:
    assert parse_questions(make_csv(GOOD_ROWS), "csv").format == "csv"
    with pytest.raises(ValueError):
        parse_questions(b"", "docx")
