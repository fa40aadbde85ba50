"""Is this text fit to store? One small check for every way text comes in.

Imports, forms, JSON bodies and the API all take text from outside. Some of it cannot be
stored or shown: PostgreSQL refuses the NUL character in text columns, the other C0
control characters (except tab, line feed and carriage return) are invisible garbage that
breaks exports (openpyxl refuses them in a cell) and screens, and a surrogate code point
(U+D800–U+DFFF; in a Python ``str`` it can only be unpaired, e.g. from JSON ``"\\ud800"``)
is not Unicode at all and makes every page that renders it fail.

- ``text_problem`` finds them in linear time and says what is wrong, in words the sender
  can act on; callers add where (row and column, field). ``validate_text`` is the same
  check as a Django validator.
- ``json_problem`` walks a parsed JSON value (keys, strings, numbers and depth) without
  recursion.
- ``text_cleaned`` / ``json_cleaned`` repair values stored before the check existed (see
  the ``clean_stored_text`` command).

This module is pure (no models) so that every app may import it.
"""

from __future__ import annotations

import math
import re
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

# One character class, so the search is a single linear scan with no backtracking.
_INVALID_CHARACTER = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff]")
_FIRST_SURROGATE = 0xD800
_SURROGATE = re.compile("[\ud800-\udfff]")
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")
EXCERPT_ELLIPSIS = "…"
# Nesting deeper than this is no answer, heartbeat or request the project understands.
JSON_MAX_DEPTH = 20


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


def text_cleaned(value: str) -> str:
    """``value`` made acceptable: a lone surrogate becomes U+FFFD, controls are dropped."""
    if _INVALID_CHARACTER.search(value) is None:
        return value
    return _CONTROL.sub("", _SURROGATE.sub("\ufffd", value))


def json_problem(value: Any, *, max_depth: int = JSON_MAX_DEPTH) -> str | None:
    """Why a parsed JSON value is not acceptable (text, depth, numbers), or None.

    Walks without recursion, so a value nested past Python's recursion limit is refused
    rather than crashing the walk.
    """
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            problem = text_problem(item)
            if problem:
                return problem
        elif isinstance(item, float) and not math.isfinite(item):
            return _("A number in the request is out of range.")
        elif isinstance(item, dict | list):
            if depth > max_depth:
                return _("The request is nested more than %(depth)d levels deep.") % {
                    "depth": max_depth
                }
            children = [*item.keys(), *item.values()] if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children)
    return None


def json_cleaned(value: Any) -> Any:
    """A parsed JSON value with every key and string passed through ``text_cleaned``.

    Meant for stored values, which are small and shallow (they passed the API's checks or
    predate them); not for untrusted input of unknown depth.
    """
    if isinstance(value, str):
        return text_cleaned(value)
    if isinstance(value, list):
        return [json_cleaned(item) for item in value]
    if isinstance(value, dict):
        return {text_cleaned(key): json_cleaned(item) for key, item in value.items()}
    return value
