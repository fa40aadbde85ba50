"""``python manage.py import_members FILE [--dry-run] [--password P]``: bulk member import."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from learning.importers.members import members_import


class Command(BaseCommand):
    help = (
        "Import members from an .xlsx sheet (columns 用户名, 姓名, 手机, 组织编码). "
        "Every row is checked first; if any row is wrong nothing is imported."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path, help="the .xlsx file")
        parser.add_argument(
            "--dry-run", action="store_true", help="check the file and report, write nothing"
        )
        parser.add_argument(
            "--password",
            help="initial password for the new accounts (default: a random one, printed once)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        if not path.is_file():
            raise CommandError(f"No such file: {path}")
        with path.open("rb") as handle:
            result = members_import(
                file=handle, initial_password=options["password"], dry_run=options["dry_run"]
            )
        if not result.ok:
            for problem in result.problems:
                self.stderr.write(str(problem))
            raise CommandError(f"{len(result.problems)} problem(s) found; nothing was imported.")
        if result.dry_run:
            self.stdout.write(f"OK: {len(result.rows)} member(s) would be imported (dry run).")
            return
        self.stdout.write(self.style.SUCCESS(f"Imported {result.created} member(s)."))
        if not options["password"]:
            self.stdout.write(
                f"Initial password (members must change it at first login): "
                f"{result.initial_password}"
            )
