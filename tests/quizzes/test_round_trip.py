"""Export → import gives the same questions, in .xlsx and in GIFT, from the bank and in general."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from django.utils import translation
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from quizzes.bank.formats import parse_questions
from quizzes.bank.formats.base import ParsedChoice, ParsedQuestion, default_weights
from quizzes.bank.formats.checks import check_question
from quizzes.bank.formats.exporters import questions_export
from quizzes.bank.formats.gift import parse_gift
from quizzes.bank.formats.gift_export import questions_to_gift
from quizzes.bank.formats.xlsx import parse_xlsx, questions_to_xlsx
from quizzes.bank.normalise import BLANK_MARKER, normalise_answer
from quizzes.bank.selectors import category_by_path, questions_as_parsed, questions_for_export
from quizzes.bank.services import questions_import
from quizzes.models import Question
from tests.factories.sheets import make_xlsx, row

Type = Question.Type
DATA = Path(__file__).parent / "data"

SHEET_ROWS = [
    row(
        "单选",
        "中共一大在哪一年召开？",
        ["1919", "1921", "1927"],
        "B",
        "见党史。",
        1,
        "党史/建党",
        "中共一大,建党",
    ),
    row("单选", "部分得分的单选（ ）", ["甲", "乙", "丙"], "A:100%,B:50%", category="党史/建党"),
    row(
        "多选",
        "“四个意识”包括（ ）。",
        ["政治意识", "大局意识", "核心意识", "市场意识"],
        "ABC",
        category="党的理论",
        tags="四个意识",
    ),
    row(
        "多选",
        "按 Moodle 分值的多选",
        ["甲", "乙", "丙", "丁"],
        "A:50%,C:50%,B:-100%",
        category="党的理论",
    ),
    row(
        "判断",
        "党的最高领导机关是党的全国代表大会和它所产生的中央委员会。",
        [],
        "对",
        difficulty=2,
        category="党章党规",
    ),
    row("判断", "以 = 开头的题干也不是公式", [], "错", "=1+1", category="党章党规"),
    row(
        "填空",
        "中共一大于（ ）年召开，闭幕会在____举行。",
        [],
        "1921|嘉兴南湖/南湖",
        category="党史/建党",
        tags="中共一大",
    ),
    row("填空", r"比例写作____。", [], r"1\/2/一比二", category="党史/建党"),
    row(
        "简答",
        "简述党的思想路线。",
        [],
        "一切从实际出发，\n实事求是。",
        "思想路线是党的根本的思想路线。",
        5,
        "党的理论",
    ),
]


@pytest.fixture(autouse=True)
def _english() -> Iterator[None]:
    with translation.override("en"):
        yield


def bank() -> list[ParsedQuestion]:
    return questions_as_parsed(questions_for_export())


def without_gift_only_parts(questions: list[ParsedQuestion]) -> list[ParsedQuestion]:
    """What an .xlsx sheet cannot hold: question titles and per-option feedback."""
    return [
        dataclasses.replace(
            question,
            title="",
            choices=[dataclasses.replace(choice, feedback="") for choice in question.choices],
        )
        for question in questions
    ]


def fill_the_bank() -> None:
    assert questions_import(parse_questions(make_xlsx(SHEET_ROWS), "xlsx")).ok
    assert questions_import(parse_questions((DATA / "bank.gift").read_bytes(), "gift")).ok


def reimport(data: bytes, format_name: str) -> list[ParsedQuestion]:
    """Empty the bank, import ``data``, and read the bank back."""
    Question.objects.all().delete()
    result = questions_import(parse_questions(data, format_name))
    assert result.ok, [str(problem) for problem in result.problems]
    return bank()


@pytest.mark.django_db
def test_the_bank_exported_to_gift_imports_as_the_same_questions() -> None:
    fill_the_bank()
    before = bank()
    assert len(before) == 16
    data, count = questions_export(format_name="gift")
    assert count == 16
    assert reimport(data, "gift") == before


@pytest.mark.django_db
def test_the_bank_exported_to_xlsx_imports_as_the_same_questions() -> None:
    fill_the_bank()
    before = bank()
    data, count = questions_export(format_name="xlsx")
    assert count == 16
    assert reimport(data, "xlsx") == without_gift_only_parts(before)


@pytest.mark.django_db
def test_an_export_imported_again_is_all_duplicates() -> None:
    fill_the_bank()
    data, _count = questions_export(format_name="xlsx")
    result = questions_import(parse_questions(data, "xlsx"))
    assert len(result.problems) == 16
    assert all("already in the bank" in problem.message for problem in result.problems)
    result = questions_import(parse_questions(data, "xlsx"), skip_duplicates=True)
    assert result.ok and result.created_ids == [] and len(result.skipped) == 16


@pytest.mark.django_db
def test_a_category_export_holds_that_category_and_below_only() -> None:
    fill_the_bank()
    category = category_by_path(["党史"])
    data, count = questions_export(format_name="gift", category=category)
    questions = parse_gift(data).questions
    assert count == len(questions) == 8
    assert all(question.category_path[0] == "党史" for question in questions)


@pytest.mark.django_db
def test_retired_questions_are_left_out_unless_asked_for() -> None:
    fill_the_bank()
    Question.objects.filter(type=Type.SHORT_ANSWER).update(status=Question.Status.RETIRED)
    assert questions_export(format_name="xlsx")[1] == 14
    assert questions_export(format_name="xlsx", include_retired=True)[1] == 16


# --- property-based: any valid question survives writing and reading ---------------------

_TEXT_ALPHABET = "abcXYZ019 党史中文题{}=~#:\\%。，“”！?-+"
_text = st.text(alphabet=_TEXT_ALPHABET, min_size=1, max_size=12).map(str.strip).filter(bool)
_long_text = (
    st.text(alphabet=_TEXT_ALPHABET + "\n", min_size=1, max_size=30).map(str.strip).filter(bool)
)
_name = st.text(alphabet="abc党史中文 $-", min_size=1, max_size=6).map(str.strip).filter(bool)
_wrong_weights = st.sampled_from([Decimal(0), Decimal("-0.5"), Decimal(-1), Decimal("-0.3333333")])
# A wrong option of a single-choice question may still earn part of the mark.
_single_wrong_weights = st.sampled_from([Decimal(0), Decimal("0.5"), Decimal(-1)])


@st.composite
def questions(draw: st.DrawFn, *, with_gift_only_parts: bool) -> ParsedQuestion:
    question_type = draw(st.sampled_from(Type.values))
    question = ParsedQuestion(
        type=question_type,
        stem=draw(_long_text),
        explanation=draw(st.one_of(st.just(""), _long_text)),
        difficulty=draw(st.integers(1, 5)),
        category_path=draw(st.lists(_name, min_size=1, max_size=3)),
        tags=draw(st.lists(_name, max_size=3, unique=True)),
        title=draw(st.one_of(st.just(""), _text)) if with_gift_only_parts else "",
    )
    if question_type in (Type.SINGLE, Type.MULTIPLE):
        texts = draw(st.lists(_text, min_size=2, max_size=6, unique_by=normalise_answer))
        correct_count = 1 if question_type == Type.SINGLE else draw(st.integers(1, len(texts)))
        correct = [index < correct_count for index in range(len(texts))]
        correct = draw(st.permutations(correct))
        weights = default_weights(question_type, correct)
        if draw(st.booleans()):  # custom weights for the wrong options
            weights = [
                weight
                if right
                else draw(_single_wrong_weights if question_type == Type.SINGLE else _wrong_weights)
                for weight, right in zip(weights, correct, strict=True)
            ]
        question.choices = [
            ParsedChoice(
                text=text,
                is_correct=right,
                weight=weight,
                feedback=draw(st.one_of(st.just(""), _text)) if with_gift_only_parts else "",
            )
            for text, right, weight in zip(texts, correct, weights, strict=True)
        ]
    elif question_type == Type.TRUE_FALSE:
        question.true_false_answer = draw(st.booleans())
    elif question_type == Type.FILL_BLANK:
        question.blanks = draw(
            st.lists(st.lists(_text, min_size=1, max_size=3, unique=True), min_size=1, max_size=3)
        )
        # Text before, between (never empty: two blanks side by side read as one) and after.
        middle = [draw(_text) for _blank in question.blanks[1:]]
        ends = [draw(st.text(alphabet=_TEXT_ALPHABET, max_size=8)) for _end in range(2)]
        question.stem = BLANK_MARKER.join([ends[0], *middle, ends[1]]).strip()
    else:
        question.reference_answer = draw(st.one_of(st.just(""), _long_text))
    assert check_question(question) == [], check_question(question)
    return question


@given(st.lists(questions(with_gift_only_parts=True), min_size=1, max_size=5))
@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
def test_any_questions_survive_gift(originals: list[ParsedQuestion]) -> None:
    result = parse_gift(questions_to_gift(originals))
    assert result.ok, [str(problem) for problem in result.problems]
    assert result.questions == originals


@given(st.lists(questions(with_gift_only_parts=False), min_size=1, max_size=5))
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_any_questions_survive_xlsx(originals: list[ParsedQuestion]) -> None:
    result = parse_xlsx(questions_to_xlsx(originals))
    assert result.ok, [str(problem) for problem in result.problems]
    assert result.questions == originals
