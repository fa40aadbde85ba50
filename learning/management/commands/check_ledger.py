"""``python manage.py check_ledger``: recompute all totals from the ledger and compare."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from learning.points.ledger_check import ledger_differences


class Command(BaseCommand):
    help = (
        "Recompute every points total from the ledger; list differences and exit "
        "non-zero if any stored total disagrees."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--limit", type=int, default=100, help="Most differences to list.")

    def handle(self, *args: Any, limit: int, **options: Any) -> None:
        differences = ledger_differences(limit=limit)
        if not differences:
            self.stdout.write("OK: every total agrees with the ledger.")
            return
        for difference in differences:
            self.stderr.write(difference)
        raise CommandError(f"{len(differences)} difference(s) between the ledger and its totals.")
