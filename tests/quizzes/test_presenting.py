"""How the right answer is named to members (quizzes.taking.presenting)."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import translation

from quizzes.taking.presenting import correct_answer_text, question_view


def choices(*texts_and_rights: tuple[str, bool]) -> list[dict[str, Any]]:
    return [
        {"id": number, "text": text, "is_correct": right}
        for number, (text, right) in enumerate(texts_and_rights, start=1)
    ]


@pytest.mark.parametrize(
    ("snapshot", "named"),
    [
        (
            {
                "type": "single",
                "choices": choices(("一个月", False), ("六个月", False), ("十二个月", True)),
            },
            "十二个月",
        ),
        (
            {
                "type": "multiple",
                "choices": choices(("政治意识", True), ("市场意识", False), ("看齐意识", True)),
            },
            "政治意识；看齐意识",
        ),
        ({"type": "true_false", "true_false_answer": False}, "错"),
        (
            {"type": "fill_blank", "blanks": [["1921"], ["嘉兴南湖", "南湖"]]},
            "1921；嘉兴南湖 / 南湖",
        ),
        (
            {"type": "short_answer", "reference_answer": "从群众中来，到群众中去。"},
            "从群众中来，到群众中去。",
        ),
    ],
)
def test_the_right_answer_is_named_by_its_text_not_a_letter(snapshot, named):
    with translation.override("zh-hans"):
        assert correct_answer_text(snapshot) == named


def test_the_named_answer_is_the_same_whatever_order_the_options_are_shown_in():
    snapshot = {
        "type": "multiple",
        "stem": "下列属于“四个意识”的有？",
        "choices": choices(("政治意识", True), ("市场意识", False), ("看齐意识", True)),
    }
    for order in ([1, 2, 3], [3, 2, 1], [2, 3, 1]):
        letters = {o["text"]: o["letter"] for o in question_view(snapshot, order)["options"]}
        assert correct_answer_text(snapshot) == "政治意识；看齐意识"
        # Letters follow the order shown: they differ between orders, the text does not.
        assert letters["看齐意识"] == "ABC"[order.index(3)]
