"""Questions: parsed ones of every type, as an importer hands them over, and saved ones.

``question_create`` writes a parsed question into the bank through the import service,
as every import does; ``bank_of_each_type`` saves one of each automatically scored type.
"""

from __future__ import annotations

from decimal import Decimal

from quizzes.bank.formats.base import ParsedChoice, ParsedQuestion, ParseResult
from quizzes.bank.services import questions_import
from quizzes.models import Question


def _choices(
    options: tuple[str, ...], correct: set[int], *, right: Decimal, wrong: Decimal
) -> list[ParsedChoice]:
    """``options`` as choices: the ``correct`` indexes weigh ``right``, the others ``wrong``."""
    return [
        ParsedChoice(
            text=text, is_correct=index in correct, weight=right if index in correct else wrong
        )
        for index, text in enumerate(options)
    ]


def single_choice(
    stem: str = "中国共产党第一次全国代表大会在哪一年召开？",
    options: tuple[str, ...] = ("1919", "1921", "1927", "1949"),
    correct: int = 1,
    category_path: tuple[str, ...] = ("党史",),
    tags: tuple[str, ...] = (),
) -> ParsedQuestion:
    return ParsedQuestion(
        type=Question.Type.SINGLE,
        stem=stem,
        choices=_choices(options, {correct}, right=Decimal(1), wrong=Decimal(0)),
        category_path=list(category_path),
        tags=list(tags),
        source=2,
    )


def multiple_choice(
    stem: str = "下列属于“四个意识”的有？", correct: tuple[int, ...] = (0, 1)
) -> ParsedQuestion:
    options = ("政治意识", "大局意识", "市场意识", "品牌意识")
    share = (Decimal(1) / len(correct)).quantize(Decimal("0.0000001"))
    return ParsedQuestion(
        type=Question.Type.MULTIPLE,
        stem=stem,
        choices=_choices(options, set(correct), right=share, wrong=Decimal(-1)),
        category_path=["理论"],
        explanation="四个意识：政治意识、大局意识、核心意识、看齐意识。",
    )


def true_false(
    stem: str = "党的最高领导机关是党的全国代表大会和它所产生的中央委员会。", answer: bool = True
) -> ParsedQuestion:
    return ParsedQuestion(
        type=Question.Type.TRUE_FALSE,
        stem=stem,
        true_false_answer=answer,
        category_path=["党章"],
        explanation="见党章第十条。",
    )


def fill_blank(
    stem: str = "中国共产党成立于____年。", answers: tuple[str, ...] = ("1921",)
) -> ParsedQuestion:
    return ParsedQuestion(
        type=Question.Type.FILL_BLANK,
        stem=stem,
        blanks=[list(answers)],
        category_path=["党史"],
    )


def short_answer(stem: str = "简述党的群众路线。") -> ParsedQuestion:
    return ParsedQuestion(
        type=Question.Type.SHORT_ANSWER,
        stem=stem,
        reference_answer="一切为了群众，一切依靠群众，从群众中来，到群众中去。",
        category_path=["理论"],
    )


def question_create(parsed: ParsedQuestion | None = None) -> Question:
    """One question in the bank, written the way imports write them."""
    result = questions_import(
        ParseResult(format="test", unit="row", questions=[parsed or single_choice()])
    )
    assert result.ok, [str(problem) for problem in result.problems]
    return Question.objects.get(pk=result.created_ids[0])


def bank_of_each_type() -> dict[str, Question]:
    """A saved question of each type the quiz scores by itself (not the short answer)."""
    return {
        "single": question_create(single_choice()),
        "multiple": question_create(multiple_choice()),
        "true_false": question_create(true_false()),
        "fill_blank": question_create(fill_blank()),
    }
