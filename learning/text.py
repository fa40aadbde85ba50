"""Which text the project accepts, and how to repair text stored before the check existed.

Valid text is what UTF-8 can encode and what XML and the database can hold: no unpaired
(lone) surrogate, no NUL and no other C0 control character except tab, line feed and
carriage return. A lone surrogate cannot be encoded, so any page or export that shows one
fails; PostgreSQL refuses NUL; openpyxl refuses control characters in a cell.

``text_problem`` is the check for one string; ``json_problem`` walks a parsed JSON value
(keys, strings, numbers and depth). ``text_cleaned`` / ``json_cleaned`` repair stored
values (see the ``clean_stored_text`` command).
"""

from __future__ import annotations

import math
import re
from typing import Any

from django.utils.translation import gettext as _

# Nesting deeper than this is no answer, heartbeat or request the project understands.
JSON_MAX_DEPTH = 20

_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff]")
_SURROGATE = re.compile("[\ud800-\udfff]")
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")


def text_problem(value: str) -> str | None:
    """Why ``value`` is not acceptable text, or None when it is."""
    found = _INVALID.search(value)
    if found is None:
        return None
    if _SURROGATE.match(found.group()):
        return _("The text contains an invalid character (an unpaired surrogate).")
    return _("The text contains a control character (U+%(code)04X) that is not allowed.") % {
        "code": ord(found.group())
    }


def text_cleaned(value: str) -> str:
    """``value`` made acceptable: a lone surrogate becomes U+FFFD, controls are dropped."""
    if _INVALID.search(value) is None:
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
