"""``python manage.py import_members FILE [--dry-run] [--credentials OUT.xlsx] [--password P]``.

Bulk member import. Each new member gets a random initial password of their own, written
to ``--credentials`` (an .xlsx to print or hand out) or else printed once; ``--password``
gives them all one shared password instead, which lets any of them log in as another
until they change it, so it is meant for test installations only.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from learning.people.member_import import initial_credentials_xlsx, members_import


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
            "--credentials",
            type=Path,
            help="write each new member's initial password to this .xlsx (else printed once)",
        )
        parser.add_argument(
            "--password",
            help="one initial password shared by every new account (test installations only)",
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
        if result.initial_password:
            self.stdout.write(
                self.style.WARNING(
                    "Every new member shares the initial password you gave, so each of them "
                    "can log in as another until they change it."
                )
            )
            return
        credentials_path: Path | None = options["credentials"]
        if credentials_path is not None:
            credentials_path.write_bytes(initial_credentials_xlsx(result.credentials))
            credentials_path.chmod(0o600)
            self.stdout.write(
                f"Initial passwords written to {credentials_path} (members must change "
                "them at first login). Hand them out, then delete the file."
            )
            return
        self.stdout.write("Initial passwords (members must change them at first login):")
        for credential in result.credentials:
            self.stdout.write(f"{credential.username}\t{credential.password}")
