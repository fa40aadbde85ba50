"""``python manage.py member_erase USERNAME [--yes]``: erase a member's personal data.

Pseudonymises the account (docs/privacy.md#erasure): the name, username, mobile number
and email are replaced, the account can no longer log in, its sessions and login records
go, short answers are emptied. Ledger rows and attempts stay, so totals and rankings do
not move. Asks for confirmation unless ``--yes``; running it again changes nothing.
"""

from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from learning.models import Member
from learning.people.privacy import member_erase


class Command(BaseCommand):
    help = (
        "Erase the personal data of the member USERNAME: the account stays as "
        "'erased-<id>', unable to log in, its points and results kept under that pseudonym."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--yes", action="store_true", help="Do not ask for confirmation.")

    def handle(self, *args: Any, username: str, yes: bool, **options: Any) -> None:
        member = Member.objects.filter(username=username).first()
        if member is None:
            raise CommandError(f"No member with the username {username!r}.")
        if not yes:
            if not sys.stdin.isatty():
                raise CommandError("Not a terminal: pass --yes to erase without asking.")
            answer = input(
                f"Erase the personal data of member {member.pk} ({username})? "
                "This cannot be undone. Type 'yes' to go on: "
            )
            if answer.strip().lower() != "yes":
                raise CommandError("Nothing erased.")
        result = member_erase(member=member, by=None)
        if result.already_erased:
            self.stdout.write(f"Member {result.member_id} was already erased; checked again.")
        else:
            self.stdout.write(f"Member {result.member_id} erased; now {member.username}.")
        for part, count in result.changed.items():
            self.stdout.write(f"  {part}: {count}")
