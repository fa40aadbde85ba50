"""``python manage.py integrity_report [--since DAYS] [--json]``: integrity flags, one a line."""

from __future__ import annotations

import datetime
import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from learning.integrity.explanations import flag_explanation
from learning.models import IntegrityFlag

MAX_DAYS = 3660


class Command(BaseCommand):
    help = (
        "List the integrity flags raised in the last DAYS days (default 30), newest first: "
        "member, organisation, kind, subject, status and what was seen; --json for one JSON "
        "object a line."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--since", type=int, default=30, metavar="DAYS")
        parser.add_argument(
            "--json", action="store_true", dest="as_json", help="One JSON object a line."
        )

    def handle(self, *args: Any, since: int, as_json: bool, **options: Any) -> None:
        if not 0 < since <= MAX_DAYS:
            raise CommandError(f"--since must be between 1 and {MAX_DAYS} days.")
        start = timezone.now() - datetime.timedelta(days=since)
        flags = (
            IntegrityFlag.objects.filter(raised_at__gte=start)
            .select_related("member", "organization")
            .order_by("-raised_at", "-pk")
        )
        count = 0
        for flag in flags.iterator(chunk_size=500):
            count += 1
            self.stdout.write(_as_json(flag) if as_json else _as_line(flag))
        if not as_json:
            self.stderr.write(f"{count} flag(s) since {timezone.localtime(start):%Y-%m-%d %H:%M}.")


def _fields(flag: IntegrityFlag) -> dict[str, str]:
    return {
        "raised_at": timezone.localtime(flag.raised_at).isoformat(timespec="seconds"),
        "member": flag.member.username,
        "organization": flag.organization.name if flag.organization else "",
        "kind": flag.kind,
        "subject": flag.subject_label,
        "status": flag.status,
        "explanation": flag_explanation(flag),
    }


def _as_line(flag: IntegrityFlag) -> str:
    fields = _fields(flag)
    return "\t".join(
        [
            fields["raised_at"],
            fields["member"],
            fields["organization"] or "-",
            str(flag.get_kind_display()),
            fields["subject"],
            str(flag.get_status_display()),
            fields["explanation"],
        ]
    )


def _as_json(flag: IntegrityFlag) -> str:
    return json.dumps({"id": flag.pk, **_fields(flag)}, ensure_ascii=False)
