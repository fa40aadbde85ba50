"""Text normalisation for fill-in-the-blank answers and for spotting duplicate questions.

Both sides of a comparison go through the same function, so what matters is that the
function is predictable: full-width and half-width forms become one (NFKC), case is
folded, surrounding and repeated spaces go, spaces next to Chinese characters go, and
trailing sentence punctuation (Chinese or ASCII) is dropped. Brackets, quotes and
symbols such as ``%``, ``#`` or ``+`` are kept: ``C#`` must not match ``C``.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable

# After NFKC, full-width ，；：？！． have become their ASCII forms and … has become "...";
# 。 and 、 have no compatibility form and stay as they are.
TRAILING_PUNCTUATION = frozenset(".,;:!?。、")

# How a blank is written in a fill-in-the-blank stem once imported.
BLANK_MARKER = "____"
# What editors type for a blank: two or more underscores (ASCII or full-width), or an
# empty pair of brackets with at most spaces inside: ____ ＿＿ （ ） ( ) （）.
BLANK_MARKER_PATTERN = re.compile(r"[_＿]{2,}|[（(][ \u3000]*[）)]")

_WHITESPACE = re.compile(r"\s+")
_CJK = "\u2e80-\u2fdf\u3000-\u303f\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_SPACE_BESIDE_CJK = re.compile(rf"(?<=[{_CJK}])\s+|\s+(?=[{_CJK}])")
_FINGERPRINT_BLANK = "□"


def normalise_answer(text: str) -> str:
    """The form in which a fill-in answer is compared with the accepted answers.

    >>> normalise_answer("  ＡＢＣ。 ")
    'abc'
    """
    text = unicodedata.normalize("NFKC", text).casefold()
    # Case folding can produce characters with compatibility forms of their own.
    text = unicodedata.normalize("NFKC", text)
    text = _WHITESPACE.sub(" ", text).strip()
    text = _SPACE_BESIDE_CJK.sub("", text)
    return _strip_trailing_punctuation(text)


def answer_matches(given: str, accepted: Iterable[str]) -> bool:
    """Whether ``given`` equals one of the ``accepted`` answers after normalisation."""
    normalised = normalise_answer(given)
    if not normalised:
        return False
    return any(normalised == normalise_answer(answer) for answer in accepted)


def count_blank_markers(stem: str) -> int:
    """How many blanks a fill-in-the-blank stem marks."""
    return len(BLANK_MARKER_PATTERN.findall(stem))


def canonical_blank_stem(stem: str, blanks: int) -> str:
    """A fill-in stem with every blank written as ``____``.

    A stem that marks no blank but has exactly one gets the blank at its end, so that a
    stored fill-in stem always marks each of its blanks once.
    """
    stem = BLANK_MARKER_PATTERN.sub(BLANK_MARKER, stem)
    if blanks == 1 and BLANK_MARKER not in stem:
        stem = stem.rstrip() + BLANK_MARKER
    return stem


def normalise_for_fingerprint(text: str) -> str:
    """Text reduced to what makes two stems or options "the same question".

    Blank markers of every style count as one symbol; all whitespace and trailing
    punctuation are ignored.
    """
    text = unicodedata.normalize("NFKC", text).casefold()
    text = unicodedata.normalize("NFKC", text)
    text = BLANK_MARKER_PATTERN.sub(_FINGERPRINT_BLANK, text)
    text = _WHITESPACE.sub("", text)
    return _strip_trailing_punctuation(text)


def question_fingerprint(stem: str, options: Iterable[str] = ()) -> str:
    """A hash of the normalised stem and the sorted normalised options (64 hex digits).

    The option order does not matter: the same question with shuffled options is a
    duplicate.
    """
    parts = [normalise_for_fingerprint(stem)]
    parts.extend(sorted(normalise_for_fingerprint(option) for option in options))
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()


def _strip_trailing_punctuation(text: str) -> str:
    # Move an end index rather than slicing each time: "。" repeated 30,000 times must
    # not copy the text 30,000 times (an imported stem is fingerprinted like this).
    end = len(text)
    while end and text[end - 1] in TRAILING_PUNCTUATION:
        end -= 1
        while end and text[end - 1].isspace():
            end -= 1
    return text[:end]
