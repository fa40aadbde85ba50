"""Hand background tasks to Celery so that none is lost when the broker refuses them.

Every enqueue in the project goes through :func:`task_send_on_commit` (or
:func:`task_send` outside a transaction). The publisher retries a few times within about
three seconds; if the broker still refuses the message — Redis down, a network cut, a
transport that cannot even be imported — the task is written to ``UnsentTask`` with the
error, logged once at ERROR, and sent again by the beat job ``learning.send_unsent_tasks``
(every minute) or ``manage.py send_unsent_tasks``. Administrators see the count on the
admin home; ``/readyz`` reports it (docs/operations.md).

After one refusal the process stops trying the broker for ``BROKER_DOWN_SECONDS`` and
keeps every further task straight away, so a page that queues many tasks during an outage
does not wait three seconds for each of them.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections.abc import Sequence
from typing import Any

from celery import Celery, Task, current_app
from django.db import transaction
from django.db.models import QuerySet

from learning.models import UnsentTask

logger = logging.getLogger(__name__)

# kombu's publish retry: 0 s, 0.5 s, 1 s, 1.5 s between the four tries (about 3 s at most).
PUBLISH_RETRY_POLICY = {
    "max_retries": 3,
    "interval_start": 0,
    "interval_step": 0.5,
    "interval_max": 1.5,
}
BROKER_DOWN_SECONDS = 30.0
ERROR_MAX_LENGTH = 500
RESEND_BATCH_SIZE = 200


class _BrokerState:
    """When this process last saw the broker refuse a message (monotonic seconds)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._down_until = 0.0
        self._error = ""

    def refused(self, error: str) -> None:
        with self._lock:
            self._down_until = time.monotonic() + BROKER_DOWN_SECONDS
            self._error = error

    def accepted(self) -> None:
        with self._lock:
            self._down_until = 0.0

    def known_down(self) -> str | None:
        """The last error while the broker counts as down, else None."""
        with self._lock:
            return self._error if time.monotonic() < self._down_until else None


broker_state = _BrokerState()


def _describe(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"[:ERROR_MAX_LENGTH]


def _publish(task: Task, *, args: Sequence[Any], kwargs: dict[str, Any], queue: str) -> None:
    options: dict[str, Any] = {"retry": True, "retry_policy": PUBLISH_RETRY_POLICY}
    if queue:
        options["queue"] = queue
    task.apply_async(args=list(args), kwargs=kwargs, **options)


def task_send(
    task: Task,
    *,
    args: Sequence[Any] = (),
    kwargs: dict[str, Any] | None = None,
    queue: str = "",
) -> bool:
    """Send ``task`` now; keep it as an ``UnsentTask`` when the broker refuses it.

    Returns whether the broker took it. Arguments must be JSON (the tasks' serializer).
    With ``task_always_eager`` (tests) the task runs here and its errors propagate.
    """
    kwargs = kwargs or {}
    if task.app.conf.task_always_eager:
        _publish(task, args=args, kwargs=kwargs, queue=queue)
        return True
    known_error = broker_state.known_down()
    if known_error is None:
        try:
            _publish(task, args=args, kwargs=kwargs, queue=queue)
        except Exception as error:
            known_error = _describe(error)
            broker_state.refused(known_error)
            logger.error(
                "background task %s could not be queued; kept to be sent again: %s",
                task.name,
                known_error,
            )
        else:
            broker_state.accepted()
            return True
    UnsentTask.objects.create(
        task_name=task.name, args=list(args), kwargs=kwargs, queue=queue, error=known_error
    )
    return False


def task_send_on_commit(
    task: Task,
    *,
    args: Sequence[Any] = (),
    kwargs: dict[str, Any] | None = None,
    queue: str = "",
) -> None:
    """:func:`task_send` once the current transaction commits (never for a rollback).

    Not ``robust``: if even keeping the task fails (the database is gone too), the error
    reaches the caller instead of a log line nobody reads.
    """
    transaction.on_commit(
        functools.partial(task_send, task, args=tuple(args), kwargs=dict(kwargs or {}), queue=queue)
    )


def unsent_tasks() -> QuerySet[UnsentTask]:
    """Tasks waiting to be sent again, oldest first."""
    return UnsentTask.objects.order_by("created_at", "pk")


def unsent_tasks_send(
    *, limit: int = RESEND_BATCH_SIZE, app: Celery | None = None
) -> tuple[int, int]:
    """Send kept tasks again, oldest first; returns (sent, still waiting).

    Stops at the first refusal (the broker is still down; the rest would fail the same
    way). Rows are locked while they are sent, so two runs never send one task twice.
    ``app`` is the Celery application whose tasks the names refer to (the project's).
    """
    app = app or current_app
    sent = 0
    with transaction.atomic():
        rows = list(unsent_tasks().select_for_update(skip_locked=True)[:limit])
        for row in rows:
            task = app.tasks.get(row.task_name)
            if task is None:
                _keep_failure(row, f"unknown task {row.task_name!r}")
                continue
            try:
                _publish(task, args=row.args, kwargs=row.kwargs, queue=row.queue)
            except Exception as error:
                _keep_failure(row, _describe(error))
                broker_state.refused(row.error)
                break
            row.delete()
            sent += 1
    if sent:
        broker_state.accepted()
        logger.info("sent %d kept background task(s) again", sent)
    return sent, UnsentTask.objects.count()


def _keep_failure(row: UnsentTask, error: str) -> None:
    row.attempts += 1
    row.error = error[:ERROR_MAX_LENGTH]
    row.save(update_fields=["attempts", "error", "last_tried_at"])
