"""Reading a JSON request body that may be hostile.

Python's ``json`` module has no depth limit (``[`` × 100,000 raises ``RecursionError``),
reads ``1e400`` as infinity and ``"\\ud800"`` as a lone surrogate that no page can show
afterwards. ``json_body_parse`` refuses all of these with one error that views turn into
their documented 400; the API's parser (``quizzes.api.views.CheckedJSONParser``), the quiz
pages' JSON endpoints and the lesson heartbeat all read bodies through it.
"""

from __future__ import annotations

import json
from typing import Any

from django.utils.translation import gettext as _

from learning.common.text import JSON_MAX_DEPTH, json_problem


class JSONBodyError(ValueError):
    """A request body that is not acceptable JSON; ``message`` says why, in words."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def json_body_parse(raw: bytes | str, *, encoding: str = "utf-8") -> Any:
    """The parsed body; raises ``JSONBodyError`` for anything but plain, shallow JSON."""
    try:
        text = raw.decode(encoding) if isinstance(raw, bytes) else raw
    except (UnicodeDecodeError, LookupError) as error:
        raise JSONBodyError(_("The request body is not valid UTF-8 text.")) from error
    try:
        value = json.loads(text, parse_constant=_refuse_constant)
    except RecursionError as error:
        # The C scanner gives up at Python's recursion limit, long before memory runs out.
        raise JSONBodyError(_too_deep()) from error
    except ValueError as error:
        raise JSONBodyError(_("The request body is not valid JSON.")) from error
    problem = json_problem(value)
    if problem:
        raise JSONBodyError(problem)
    return value


def _too_deep() -> str:
    return _("The request is nested more than %(depth)d levels deep.") % {"depth": JSON_MAX_DEPTH}
