"""``python manage.py clean_stored_text [--dry-run]``: repair stored text that is not valid.

Answers (``AttemptQuestion.response``) and grader comments, members' names, organisation
names, membership notes and assignment titles and notes: a lone surrogate becomes U+FFFD,
NUL and other control characters are dropped (see ``learning.common.stored_text``). Prints one
line per repaired value and a count; a second run repairs nothing.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils.translation import gettext as _

from learning.common.stored_text import LEARNING_TEXT_FIELDS, stored_text_clean
from quizzes.models import AttemptQuestion

TEXT_FIELDS = [*LEARNING_TEXT_FIELDS, (AttemptQuestion, ("response", "grader_comment"))]


class Command(BaseCommand):
    help = (
        "Repair stored answers, comments and names that hold a lone surrogate, NUL or "
        "another control character (safe to run again)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--dry-run", action="store_true", help="list what would be repaired, change nothing"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        dry_run = options["dry_run"]
        repaired = stored_text_clean(fields=TEXT_FIELDS, dry_run=dry_run)
        for value in repaired:
            self.stdout.write(f"{value.model} #{value.pk} {value.field}")
        if dry_run:
            message = _("%(count)d stored values would be repaired (dry run: nothing changed).")
        else:
            message = _("%(count)d stored values repaired.")
        self.stdout.write(message % {"count": len(repaired)})
