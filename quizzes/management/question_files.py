"""What the two question-file commands, ``import_questions`` and ``export_questions``,
share: the ``--format`` option, and the format a file is in (the option, else told from
the file's name, else the command stops and says which formats it knows).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from django.core.management.base import CommandError, CommandParser
from django.utils.translation import gettext as _


def format_argument_add(parser: CommandParser, *, formats: Sequence[str], help: str) -> None:
    """The ``--format`` option, one of ``formats``."""
    parser.add_argument("--format", choices=formats, help=help)


def format_chosen(
    *,
    given: str | None,
    guess: Callable[[], str | None],
    filename: str,
    formats: Sequence[str],
) -> str:
    """The ``--format`` given, else the one ``guess()`` tells from the file; a
    ``CommandError`` naming ``formats`` when neither says."""
    format_name = given or guess()
    if format_name is None:
        raise CommandError(
            _("Cannot tell the format of %(name)s: give --format %(formats)s.")
            % {"name": filename, "formats": " | ".join(formats)}
        )
    return format_name
