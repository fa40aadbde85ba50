"""Send again the background tasks the broker refused (beat does it every minute)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from learning.common.enqueue import unsent_tasks, unsent_tasks_send


class Command(BaseCommand):
    help = "Send the kept background tasks to the queue again; --list shows them instead."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--list", action="store_true", help="only list the kept tasks")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["list"]:
            for row in unsent_tasks()[:1000]:
                self.stdout.write(
                    f"{row.pk}\t{row.task_name}\t{row.queue or '-'}\t{row.attempts}\t"
                    f"{row.created_at:%Y-%m-%d %H:%M:%S%z}\t{row.error}"
                )
            return
        sent = waiting = 0
        while True:
            batch_sent, waiting = unsent_tasks_send()
            sent += batch_sent
            if not batch_sent or not waiting:
                break
        self.stdout.write(f"sent {sent}, still waiting {waiting}")
        if waiting:
            raise CommandError(f"{waiting} task(s) could not be sent; is the broker reachable?")
