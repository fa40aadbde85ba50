"""``python manage.py export_questions OUT [--format xlsx|gift] [--category PATH]
[--include-retired]``: export the question bank or one category."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from quizzes.bank.formats.base import split_category_path
from quizzes.bank.formats.exporters import EXPORT_FORMATS, questions_export
from quizzes.bank.selectors import category_by_path
from quizzes.management.question_files import format_argument_add, format_chosen


class Command(BaseCommand):
    help = (
        "Export the question bank (or a category and everything below it) to .xlsx or GIFT; "
        "the file imports back with import_questions."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("out", type=Path, help="the file to write")
        format_argument_add(
            parser,
            formats=EXPORT_FORMATS,
            help="xlsx or gift (default: from the extension, .xlsx or .gift/.txt)",
        )
        parser.add_argument("--category", help="category path, e.g. 党史/新民主主义革命时期")
        parser.add_argument(
            "--include-retired", action="store_true", help="export retired questions too"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        out: Path = options["out"]
        format_name = format_chosen(
            given=options["format"],
            guess=lambda: _format_from_name(out),
            filename=out.name,
            formats=EXPORT_FORMATS,
        )
        category = None
        if options["category"]:
            category = category_by_path(split_category_path(options["category"]))
            if category is None:
                raise CommandError(
                    _("There is no question category “%(path)s”.") % {"path": options["category"]}
                )
        data, count = questions_export(
            format_name=format_name,
            category=category,
            include_retired=options["include_retired"],
        )
        out.write_bytes(data)
        self.stdout.write(
            self.style.SUCCESS(
                _("Exported %(count)d question(s) to %(path)s.") % {"count": count, "path": out}
            )
        )


def _format_from_name(path: Path) -> str | None:
    suffix = path.suffix.lower()
    if suffix == ".xlsx":
        return "xlsx"
    if suffix in (".gift", ".txt"):
        return "gift"
    return None
