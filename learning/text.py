"""Is this text fit to store? One small check for every way text comes in.

Imports, forms and the API all take text from outside. Some of it cannot be stored or
shown: PostgreSQL refuses the NUL character in text columns, the other C0 control
characters (except tab, line feed and carriage return) are invisible garbage that breaks
exports and screens, and a surrogate code point (U+D800–U+DFFF; in a Python ``str`` it can
only be unpaired, e.g. from JSON ``"\\ud800"``) is not Unicode at all and makes every
page that renders it fail. ``text_problem`` finds them in linear time and says what is
wrong, in words the sender can act on; callers add where (row and column, field).

This module is pure (no models) so that every app may import it.
"""

from __future__ import annotations

import re
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

# One character class, so the search is a single linear scan with no backtracking.
_INVALID_CHARACTER = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff]")
_FIRST_SURROGATE = 0xD800
EXCERPT_ELLIPSIS = "…"


def text_problem(value: str) -> str | None:
    """Why ``value`` cannot be stored as text, or None when it can.

    Refused: NUL and the other C0 control characters except tab (U+0009), line feed
    (U+000A) and carriage return (U+000D); surrogate code points (unpaired surrogates).
    The message names the first offending character by its code point, e.g.
    "The text contains the control character U+0000, …".

    >>> text_problem("中国共产党\\t第一次全国代表大会") is None
    True
    """
    match = _INVALID_CHARACTER.search(value)
    if match is None:
        return None
    code = ord(match.group())
    if code >= _FIRST_SURROGATE:
        return _(
            "The text contains an unpaired surrogate (U+%(code)04X), which is not valid "
            "Unicode: remove it or type the character again."
        ) % {"code": code}
    return _(
        "The text contains the invisible control character U+%(code)04X, which cannot be "
        "stored: remove it."
    ) % {"code": code}


def validate_text(value: Any) -> None:
    """A Django validator (model fields, form fields, DRF fields) built on ``text_problem``.

    Non-string values are left to the field's own type checks.
    """
    if not isinstance(value, str):
        return
    problem = text_problem(value)
    if problem is not None:
        raise ValidationError(problem, code="invalid_text")


def excerpt(value: str, limit: int = 30) -> str:
    """``value`` cut to at most ``limit`` characters (with …), to quote it in a message."""
    if len(value) <= limit:
        return value
    return value[: max(limit - 1, 0)] + EXCERPT_ELLIPSIS
