"""``python manage.py import_questions FILE [--format …] [--category PATH] [--dry-run]
[--skip-duplicates]``: import questions into the bank, all or nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from learning.common.sheets import file_too_large_message
from quizzes.bank.formats import FORMATS, guess_format, parse_questions
from quizzes.bank.formats.base import MAX_FILE_BYTES
from quizzes.bank.services import ImportResult, questions_import
from quizzes.management.question_files import format_argument_add, format_chosen
from quizzes.models import Question


class Command(BaseCommand):
    help = (
        "Import questions from an .xlsx, CSV, GIFT or Aiken file. Every question is checked "
        "first; if any is wrong nothing is imported. Exit status 1 on problems."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path, help="the question file")
        format_argument_add(
            parser,
            formats=FORMATS,
            help="the file's format (default: from the extension; .txt is looked at)",
        )
        parser.add_argument(
            "--category",
            help="category path the file's categories go under, e.g. 党史/新民主主义革命时期; "
            "questions without a category go into it (created when missing)",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="check the file and report, write nothing"
        )
        parser.add_argument(
            "--skip-duplicates",
            action="store_true",
            help="leave out questions already in the bank or repeated in the file",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        if not path.is_file():
            raise CommandError(_("No such file: %(path)s") % {"path": path})
        # No more than the limit is read: a file over it is refused, however large.
        with path.open("rb") as handle:
            data = handle.read(MAX_FILE_BYTES + 1)
        if len(data) > MAX_FILE_BYTES:
            raise CommandError(file_too_large_message(MAX_FILE_BYTES))
        format_name = format_chosen(
            given=options["format"],
            guess=lambda: guess_format(path.name, data),
            filename=path.name,
            formats=FORMATS,
        )
        result = questions_import(
            parse_questions(data, format_name),
            category=options["category"] or None,
            skip_duplicates=options["skip_duplicates"],
            dry_run=options["dry_run"],
        )
        self._report(result)
        if not result.ok:
            for problem in result.problems:
                self.stderr.write(str(problem))
            raise CommandError(
                _("%(count)d problem(s) found; nothing was imported.")
                % {"count": len(result.problems)}
            )

    def _report(self, result: ImportResult) -> None:
        count = len(result.questions)
        if not result.ok:
            self.stdout.write(
                _("%(count)d question(s) could be imported once the problems are fixed:")
                % {"count": count}
            )
        elif result.dry_run:
            self.stdout.write(
                _("Dry run: %(count)d question(s) would be imported; nothing was written.")
                % {"count": count}
            )
        else:
            self.stdout.write(
                self.style.SUCCESS(_("Imported %(count)d question(s).") % {"count": count})
            )
        for question_type, type_count in result.counts.items():
            self.stdout.write(
                "  "
                + _("%(type)s: %(count)d")
                % {"type": Question.Type(question_type).label, "count": type_count}
            )
        if result.skipped:
            self.stdout.write(
                _("Skipped %(count)d duplicate question(s):") % {"count": len(result.skipped)}
            )
            for skipped in result.skipped:
                self.stdout.write(f"  {skipped}")
        if result.categories_created and result.ok:
            if result.dry_run:
                message = _("Categories that would be created: %(paths)s")
            else:
                message = _("Categories created: %(paths)s")
            self.stdout.write(message % {"paths": ", ".join(result.categories_created)})
