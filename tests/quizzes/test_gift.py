"""Moodle's GIFT format: each question kind, weights, escapes, categories, and what is refused."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from django.utils import translation

from quizzes.bank.formats.base import ParsedChoice, ParsedQuestion
from quizzes.bank.formats.gift import parse_gift
from quizzes.bank.formats.gift_export import questions_to_gift
from quizzes.bank.formats.gift_syntax import escape, unescape
from quizzes.models import Question

Type = Question.Type
DATA = Path(__file__).parent / "data"


@pytest.fixture(autouse=True)
def _english() -> Iterator[None]:
    with translation.override("en"):
        yield


def only(text: str) -> ParsedQuestion:
    result = parse_gift(text)
    assert result.ok, [str(problem) for problem in result.problems]
    assert len(result.questions) == 1
    return result.questions[0]


def test_the_sample_bank_reads_completely() -> None:
    result = parse_gift((DATA / "bank.gift").read_bytes())
    assert result.ok, [str(problem) for problem in result.problems]
    types = [question.type for question in result.questions]
    assert types == [
        Type.SINGLE,
        Type.SINGLE,
        Type.TRUE_FALSE,
        Type.FILL_BLANK,
        Type.MULTIPLE,
        Type.SHORT_ANSWER,
        Type.TRUE_FALSE,
    ]
    first = result.questions[0]
    assert first.title == "中共一大"
    assert first.stem == "中国共产党第一次全国代表大会于哪一年召开？"
    assert first.category_path == ["党史", "新民主主义革命时期"]
    assert first.tags == ["中共一大", "建党"]
    assert first.difficulty == 1
    assert first.explanation == "中共一大于1921年7月在上海召开。"
    assert first.choices[0] == ParsedChoice("1919", False, Decimal(0), "五四运动那年")
    assert first.choices[1] == ParsedChoice("1921", True, Decimal(1), "正确")
    assert first.source == 9  # the line of the question text, after its comments
    assert result.questions[3].tags == ["长征"]
    assert result.questions[3].stem == "中央红军长征出发地是江西____。"
    assert result.questions[4].category_path == ["党的理论"]
    essay = result.questions[5]
    assert essay.reference_answer == "一切为了群众，一切依靠群众，\n从群众中来，到群众中去。"
    assert essay.explanation == "群众路线是党的生命线和根本工作路线。"
    assert result.questions[6].stem == "比例 1:2 中的符号{}=~#都要转义"
    assert result.questions[6].true_false_answer is False


def test_single_choice_with_a_right_answer() -> None:
    question = only("Who's buried in Grant's tomb?{~Grant ~Jefferson =no one}")
    assert question.type == Type.SINGLE
    assert question.stem == "Who's buried in Grant's tomb?"
    assert [(choice.text, choice.is_correct) for choice in question.choices] == [
        ("Grant", False),
        ("Jefferson", False),
        ("no one", True),
    ]


def test_missing_word_format_puts_a_blank_where_the_answers_were() -> None:
    question = only("Grant is {~buried =entombed ~living} in Grant's tomb.")
    assert question.type == Type.SINGLE
    assert question.stem == "Grant is ____ in Grant's tomb."


def test_answers_on_separate_indented_lines() -> None:
    question = only(
        "The American holiday of Thanksgiving is celebrated on the {\n"
        "    ~second\n    ~third\n    =fourth\n} Thursday of November."
    )
    assert (
        question.stem
        == "The American holiday of Thanksgiving is celebrated on the ____ Thursday of November."
    )
    assert [choice.text for choice in question.choices] == ["second", "third", "fourth"]


def test_multiple_choice_with_percentage_weights() -> None:
    question = only(
        "What two people are entombed in Grant's tomb? {\n"
        "   ~%-100%No one\n   ~%50%Grant\n   ~%50%Grant's wife\n   ~%-100%Grant's father\n}"
    )
    assert question.type == Type.MULTIPLE
    assert question.choices == [
        ParsedChoice("No one", False, Decimal(-1)),
        ParsedChoice("Grant", True, Decimal("0.5")),
        ParsedChoice("Grant's wife", True, Decimal("0.5")),
        ParsedChoice("Grant's father", False, Decimal(-1)),
    ]


def test_fractional_weights_keep_seven_decimal_places() -> None:
    question = only("Q {~%33.33333%a ~%33.33333%b ~%33.33334%c ~%-100%d}")
    assert [choice.weight for choice in question.choices] == [
        Decimal("0.3333333"),
        Decimal("0.3333333"),
        Decimal("0.3333334"),
        Decimal(-1),
    ]


def test_a_single_choice_option_with_partial_credit() -> None:
    question = only("Q {=right ~%50%half ~wrong}")
    assert question.type == Type.SINGLE
    assert [(choice.is_correct, choice.weight) for choice in question.choices] == [
        (True, 1),
        (False, Decimal("0.5")),
        (False, 0),
    ]


@pytest.mark.parametrize(
    ("block", "value"),
    [("{T}", True), ("{TRUE}", True), ("{true}", True), ("{F}", False), ("{FALSE}", False)],
)
def test_true_false(block: str, value: bool) -> None:
    question = only(f"Grant is buried in Grant's tomb.{block}")
    assert question.type == Type.TRUE_FALSE
    assert question.true_false_answer is value
    assert question.stem == "Grant is buried in Grant's tomb."


def test_true_false_with_feedback_and_general_feedback() -> None:
    question = only("The sun rises in the east.{T#wrong!#right!####Basic astronomy.}")
    assert question.true_false_answer is True
    assert question.explanation == "Basic astronomy."


def test_short_answer_becomes_fill_in_the_blank_with_its_place_as_the_blank() -> None:
    question = only("Two plus {=two =2} equals four.")
    assert question.type == Type.FILL_BLANK
    assert question.stem == "Two plus ____ equals four."
    assert question.blanks == [["two", "2"]]


def test_short_answer_at_the_end_gets_its_blank_at_the_end() -> None:
    question = only("Who's buried in Grant's tomb?{=no one =nobody}")
    assert question.stem == "Who's buried in Grant's tomb?____"
    assert question.blanks == [["no one", "nobody"]]


def test_short_answer_after_a_stem_that_already_marks_its_blank() -> None:
    question = only("中国共产党成立于（ ）年。{=1921}")
    assert question.stem == "中国共产党成立于____年。"
    assert question.blanks == [["1921"]]


def test_several_short_answer_blocks_make_several_blanks() -> None:
    question = only("中共一大于{=1921}年在{=上海 =上海市}召开。")
    assert question.stem == "中共一大于____年在____召开。"
    assert question.blanks == [["1921"], ["上海", "上海市"]]


def test_short_answer_feedback_is_dropped_and_full_credit_weights_accepted() -> None:
    question = only("Capital of France? {=%100%Paris#Yes =paris#yes}")
    assert question.blanks == [["Paris", "paris"]]


def test_partial_credit_for_a_short_answer_is_refused() -> None:
    result = parse_gift("Capital of France? {=Paris =%50%Lyon}")
    assert [(problem.row, problem.field) for problem in result.problems] == [(1, "答案")]
    assert "50%" in result.problems[0].message


def test_essay_becomes_short_answer() -> None:
    question = only("::E1:: 简述党的群众路线。 {}")
    assert question.type == Type.SHORT_ANSWER
    assert question.title == "E1"
    assert question.stem == "简述党的群众路线。"


def test_escapes_in_the_stem_answers_and_title() -> None:
    question = only(r"::a\:b:: 1 \= 1\, \{set\} \~x \#y \\z\nnext {=\{a\} =b\=c#fb}")
    assert question.title == "a:b"
    # An unknown escape (\,) stays as written.
    assert question.stem == "1 = 1\\, {set} ~x #y \\z\nnext ____"
    assert question.blanks == [["{a}", "b=c"]]


def test_escape_and_unescape_are_inverse() -> None:
    text = "a:b {c} =d ~e #f \\g\nh"
    assert unescape(escape(text)) == text
    assert "\n" not in escape(text)


def test_format_markers_are_dropped() -> None:
    assert only("[markdown]Some **text** {T}").stem == "Some **text**"
    assert only("[plain]1 < 2 {T}").stem == "1 < 2"


def test_html_as_moodle_exports_it_becomes_plain_text() -> None:
    question = only(
        "// question: 42  name: 中共一大\n"
        "::中共一大::[html]<p>中共一大在&nbsp;<b>哪一年</b>召开？</p><p>请选择：</p>{\n"
        "\t~<p>1919</p>\n"
        "\t=<p>1921</p>#<p>对，&lt;1921&gt;</p>\n"
        "\t####<p>见党史。</p>\n"
        "}"
    )
    assert question.stem == "中共一大在 哪一年召开？\n请选择："
    assert [choice.text for choice in question.choices] == ["1919", "1921"]
    assert question.choices[1].feedback == "对，<1921>"
    assert question.explanation == "见党史。"


def test_categories_switch_and_moodle_context_is_dropped() -> None:
    result = parse_gift(
        "Q0 {T}\n\n"
        "$CATEGORY: $course$/top/党史/改革开放\n\n"
        "Q1 {T}\n\n"
        "$CATEGORY: 党章党规\nQ2 {F}\n\n"
        "$CATEGORY: $system$/top/a//b\n\n"
        "Q3 {T}\n"
    )
    assert result.ok, [str(problem) for problem in result.problems]
    assert [question.category_path for question in result.questions] == [
        [],
        ["党史", "改革开放"],
        ["党章党规"],
        ["a/b"],
    ]
    assert [question.source for question in result.questions] == [1, 5, 8, 12]


def test_comment_lines_anywhere_are_ignored_and_windows_line_ends_work() -> None:
    result = parse_gift(
        "// header\r\n\r\n// c1\r\nQ1 {\r\n// inside\r\n=a ~b}\r\n\r\n// only a comment\r\n"
    )
    assert result.ok
    assert [choice.text for choice in result.questions[0].choices] == ["a", "b"]


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("When was Grant born?{#1822:1}", "Numerical"),
        ("What is pi? {#3.14159:0.0005}", "Numerical"),
        ("Match. { =a -> b =c -> d }", "Matching"),
        ("Just a description, no answers.", "descriptions"),
        ("Q {=a ~b", "never closed"),
        ("Q =a ~b}", "no matching {"),
        ("Q {=a {~b}}", "inside another"),
        ("::title without end Q {T}", "closing ::"),
        ("Q {=a} and {~b =c}", "several answer blocks"),
        ("Q {=a =b ~c}", "exactly one correct option, not 2"),
        ("Q {~a ~b}", "at least one correct"),
        ("Q {=only}\n\nQ2 {~%50%a ~%20%b}", "70%"),
        ("// [difficulty:hard]\nQ {T}", "hard"),
        ("// [difficulty:9]\nQ {T}", "from 1 to 5"),
        ("{=a ~b}", "stem is empty"),
        ("Q {~=}", "option is empty"),
    ],
)
def test_unsupported_kinds_and_mistakes_are_reported_by_line(text: str, fragment: str) -> None:
    result = parse_gift("Fine {T}\n\n// comment\n" + text)
    assert not result.ok
    assert all(problem.unit == "line" for problem in result.problems)
    messages = " | ".join(str(problem) for problem in result.problems)
    assert fragment in messages
    assert all(problem.row >= 4 for problem in result.problems), messages
    assert str(result.problems[0]).startswith(f"Line {result.problems[0].row}")


def test_an_unsupported_question_does_not_hide_the_others() -> None:
    result = parse_gift("Q1 {T}\n\nQ2 {#5}\n\nQ3 {F}\n\nQ4 { =a -> b =c -> d }\n")
    assert [question.stem for question in result.questions] == ["Q1", "Q3"]
    assert [problem.row for problem in result.problems] == [3, 7]


def test_gb18030_text_is_read() -> None:
    data = "中国共产党成立于{=1921}年。".encode("gb18030")
    assert parse_gift(data).questions[0].blanks == [["1921"]]


def test_an_empty_file_is_reported() -> None:
    assert "no questions" in parse_gift("// nothing here\n\n").problems[0].message


def test_writing_escapes_everything_moodle_would_misread() -> None:
    question = ParsedQuestion(
        type=Type.SINGLE,
        stem="比例 1:2 {x}\n第二行",
        choices=[
            ParsedChoice("a=b", True, Decimal(1), "对#了"),
            ParsedChoice("~c", False, Decimal(0)),
        ],
        explanation="解析：见#1",
        category_path=["党史"],
        title="t:1",
    )
    text = questions_to_gift([question])
    assert "::t\\:1::比例 1\\:2 \\{x\\}\\n第二行 {" in text
    assert "\t=a\\=b#对\\#了" in text
    assert "\t~\\~c" in text
    assert "\t####解析：见\\#1" in text
    assert "$CATEGORY: $course$/top/党史" in text
    assert parse_gift(text).questions == [question]
