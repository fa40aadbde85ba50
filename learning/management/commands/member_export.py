"""``python manage.py member_export USERNAME [--output FILE]``: one member's data as JSON.

For an administrator answering a member's request for their data: the same JSON the
member downloads from 我的 › 下载我的数据, written to FILE (or standard output) as it is
read, in the site's language. The export is noted in the member's audit log.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import translation

from learning.models import Member
from learning.people.privacy import member_data_export, member_data_export_record


class Command(BaseCommand):
    help = (
        "Write everything stored about the member USERNAME as JSON (profile, organisation "
        "history, ledger, study, quiz attempts and answers, integrity reviews, assignments) "
        "to FILE, or to standard output."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--output", metavar="FILE", help="Write to FILE instead of stdout.")

    def handle(self, *args: Any, username: str, output: str | None, **options: Any) -> None:
        member = Member.objects.filter(username=username).select_related("organization").first()
        if member is None:
            raise CommandError(f"No member with the username {username!r}.")
        target = Path(output) if output else None
        if target is not None and target.is_dir():
            raise CommandError(f"{target} is a directory; give a file name.")
        with translation.override(settings.LANGUAGE_CODE):
            if target is None:
                for chunk in member_data_export(member=member):
                    sys.stdout.write(chunk)
                sys.stdout.flush()
            else:
                with target.open("w", encoding="utf-8") as stream:
                    for chunk in member_data_export(member=member):
                        stream.write(chunk)
        member_data_export_record(member=member, by=None)
        if target is not None:
            self.stderr.write(f"Data of member {member.pk} written to {target}.")
