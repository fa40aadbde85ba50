"""Moodle's Aiken format: single choice in plain text, mistakes reported by line."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from django.utils import translation

from quizzes.bank.formats import guess_format
from quizzes.bank.formats.aiken import parse_aiken
from quizzes.models import Question

DATA = Path(__file__).parent / "data"


@pytest.fixture(autouse=True)
def _english() -> Iterator[None]:
    with translation.override("en"):
        yield


def test_the_sample_file_reads_with_both_option_styles() -> None:
    result = parse_aiken((DATA / "bank_aiken.txt").read_bytes())
    assert result.ok, [str(problem) for problem in result.problems]
    first, second = result.questions
    assert first.type == Question.Type.SINGLE
    assert first.stem == "中国共产党第一次全国代表大会在哪一年召开？"
    assert [choice.text for choice in first.choices] == ["1919", "1921", "1927", "1949"]
    assert [choice.is_correct for choice in first.choices] == [False, True, False, False]
    assert first.source == 1
    assert second.choices[0].text == "党的全国代表大会和它所产生的中央委员会"
    assert second.choices[0].is_correct
    assert second.source == 8


def test_questions_need_no_blank_line_between_them_and_chinese_labels_work() -> None:
    text = "问题一？\nA、甲\nB、乙\n答案：B\n问题二？\nＡ．丙\nＢ）丁\nANSWER: a\n"
    result = parse_aiken(text)
    assert result.ok, [str(problem) for problem in result.problems]
    assert [question.stem for question in result.questions] == ["问题一？", "问题二？"]
    assert result.questions[1].choices[1].text == "丁"
    assert result.questions[1].choices[0].is_correct


def test_several_letters_make_a_multiple_choice_question() -> None:
    result = parse_aiken("Q?\nA. a\nB. b\nC. c\nANSWER: A, C\n")
    question = result.questions[0]
    assert question.type == Question.Type.MULTIPLE
    assert [choice.is_correct for choice in question.choices] == [True, False, True]


def test_a_stem_on_several_lines_is_kept() -> None:
    result = parse_aiken("First line\nsecond line\nA. a\nB. b\nANSWER: B\n")
    assert result.questions[0].stem == "First line\nsecond line"


@pytest.mark.parametrize(
    ("text", "line", "fragment"),
    [
        ("Q?\nA. a\nB. b\n\nNext?\nA. c\nB. d\nANSWER: A\n", 1, "no ANSWER line"),
        ("Q?\nA. a\nB. b\n", 1, "no ANSWER line"),
        ("Q?\nA. a\nC. b\nANSWER: A\n", 3, "out of order"),
        ("Q?\nA. a\nB. b\nANSWER: D\n", 4, "option D"),
        ("Q?\nA. a\nB. b\nANSWER: 甲\n", 4, "not an answer"),
        ("ANSWER: A\n", 1, "without options"),
        ("Q?\nA. a\nANSWER: A\n", 1, "at least 2"),
        ("Q?\nA. a\nB. a\nANSWER: A\n", 1, "repeats option A"),
    ],
)
def test_mistakes_are_reported_by_line(text: str, line: int, fragment: str) -> None:
    result = parse_aiken(text)
    assert not result.ok
    problem = result.problems[0]
    assert (problem.row, problem.unit) == (line, "line")
    assert fragment in problem.message, str(problem)


def test_gb18030_aiken_file() -> None:
    data = "党的根本宗旨是？\nA. 全心全意为人民服务\nB. 发展经济\nANSWER: A\n".encode("gb18030")
    assert parse_aiken(data).questions[0].choices[0].text == "全心全意为人民服务"


@pytest.mark.parametrize(
    ("name", "data", "expected"),
    [
        ("bank.xlsx", b"PK", "xlsx"),
        ("BANK.CSV", b"", "csv"),
        ("bank.gift", b"", "gift"),
        ("export.txt", b"Q {T}", "gift"),
        ("bank.txt", b"Q?\nA. a\nB. b\nANSWER: A\n", "aiken"),
        ("bank.aiken", b"", "aiken"),
        ("notes.txt", b"nothing", None),
        ("bank.docx", b"", None),
    ],
)
def test_the_format_is_guessed_from_the_name_and_a_look_at_text_files(
    name: str, data: bytes, expected: str | None
) -> None:
    assert guess_format(name, data) == expected
