"""Fill-in answers match after normalisation; duplicate fingerprints ignore form, not content."""

from __future__ import annotations

import string

import pytest
from hypothesis import given
from hypothesis import strategies as st

from quizzes.bank.normalise import (
    answer_matches,
    canonical_blank_stem,
    count_blank_markers,
    normalise_answer,
    question_fingerprint,
)


@pytest.mark.parametrize(
    ("given_answer", "expected"),
    [
        ("1921", "1921"),
        ("１９２１", "1921"),  # full-width digits
        ("ＡＢＣ", "abc"),  # full-width letters, folded
        ("Marx", "marx"),
        ("STRASSE", "strasse"),
        ("Straße", "strasse"),  # case folding, not just lower()
        ("  实事求是  ", "实事求是"),
        ("\u3000实事求是\u3000", "实事求是"),  # ideographic spaces
        ("实事求是。", "实事求是"),
        ("实事求是！", "实事求是"),  # full-width ! becomes ! and goes
        ("实事求是？", "实事求是"),
        ("实事求是；", "实事求是"),
        ("实事求是，", "实事求是"),
        ("实事求是、", "实事求是"),
        ("实事求是…", "实事求是"),
        ("实事求是 。", "实事求是"),
        ("实事求是。。。", "实事求是"),
        ("democracy.", "democracy"),
        ("democracy!?", "democracy"),
        ("new   york", "new york"),  # inner runs of spaces become one
        ("实事 求是", "实事求是"),  # spaces next to Chinese characters go
        ("中国 共产党 CPC", "中国共产党cpc"),
        ("C#", "c#"),  # symbols are content
        ("C++", "c++"),
        ("100%", "100%"),
        ("“两个维护”", "“两个维护”"),  # quotes and brackets stay
        ("（一）", "(一)"),
        ("3.14", "3.14"),
        ("。", ""),
        ("", ""),
    ],
)
def test_normalise_answer(given_answer: str, expected: str) -> None:
    assert normalise_answer(given_answer) == expected


@pytest.mark.parametrize(
    ("given_answer", "accepted", "matches"),
    [
        ("１９２１年。", ["1921年"], True),
        ("嘉兴南湖", ["嘉兴南湖", "南湖"], True),
        ("南湖", ["嘉兴南湖", "南湖"], True),
        ("上海", ["嘉兴南湖", "南湖"], False),
        ("Mao Zedong", ["mao zedong"], True),
        ("MaoZedong", ["mao zedong"], False),
        ("C", ["C#"], False),
        ("", ["", "x"], False),  # an empty answer is never right
        ("  。 ", ["。"], False),
    ],
)
def test_answer_matches(given_answer: str, accepted: list[str], matches: bool) -> None:
    assert answer_matches(given_answer, accepted) is matches


@given(st.text())
def test_normalising_twice_changes_nothing(text: str) -> None:
    once = normalise_answer(text)
    assert normalise_answer(once) == once


@given(st.text(alphabet=string.ascii_letters + string.digits, min_size=1))
def test_full_width_and_case_never_matter(text: str) -> None:
    full_width = "".join(chr(ord(character) + 0xFEE0) for character in text)
    assert normalise_answer(full_width) == normalise_answer(text.swapcase())


@given(st.text(), st.sampled_from(["。", ".", "！", "?", "，", "；", "：", "、", " "]))
def test_trailing_punctuation_and_spaces_never_matter(text: str, ending: str) -> None:
    assert normalise_answer(text + ending) == normalise_answer(text)


@pytest.mark.parametrize(
    ("stem", "markers"),
    [
        ("中国共产党成立于____年", 1),
        ("中国共产党成立于（ ）年", 1),
        ("中国共产党成立于（）年，在（\u3000）召开", 2),
        ("中国共产党成立于( )年", 1),
        ("中国共产党成立于＿＿年", 1),
        ("一个_下划线不算", 0),
        ("（一）不是空", 0),
    ],
)
def test_blank_markers_are_counted_in_every_style(stem: str, markers: int) -> None:
    assert count_blank_markers(stem) == markers


def test_canonical_blank_stem_writes_every_blank_the_same_way() -> None:
    assert canonical_blank_stem("成立于（ ）年，在______召开", 2) == "成立于____年，在____召开"
    # One blank and no marker: the blank goes at the end.
    assert canonical_blank_stem("中国共产党成立于哪一年？ ", 1) == "中国共产党成立于哪一年？____"
    assert canonical_blank_stem("成立于____年", 1) == "成立于____年"


def test_fingerprint_ignores_option_order_width_spaces_and_blank_style() -> None:
    first = question_fingerprint("中国共产党成立于（ ）年。", ["1921", "1949"])
    assert first == question_fingerprint("中国共产党成立于(  )年", ["１９４９", " 1921 "])
    assert first == question_fingerprint("中国共产党 成立于____年。", ["1949", "1921"])


def test_fingerprint_changes_with_the_content() -> None:
    first = question_fingerprint("中国共产党成立于（ ）年。", ["1921", "1949"])
    assert first != question_fingerprint("中国共产党成立于（ ）年。", ["1921", "1950"])
    assert first != question_fingerprint("中华人民共和国成立于（ ）年。", ["1921", "1949"])
    assert first != question_fingerprint("中国共产党成立于（ ）年。", ["1921", "1949", "1927"])
