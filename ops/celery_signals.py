"""Celery signals: a task carries the request id of the request that enqueued it, and the
beat records its heartbeat when it sends one.

- Publishing (any process): the current request id goes into the message's headers.
- Running (a worker): the task's log lines carry that id while it runs, and only then; a
  task run eagerly (tests, ``CELERY_TASK_ALWAYS_EAGER``) keeps the caller's id.
- The beat process: sending ``ops.heartbeat`` records ``beat`` in ``ops.Heartbeat``.
"""

from __future__ import annotations

import logging
from typing import Any

from celery.signals import (
    after_task_publish,
    beat_embedded_init,
    beat_init,
    before_task_publish,
    task_postrun,
    task_prerun,
)
from django.db import DatabaseError
from django.utils import timezone

from ops.context import request_id_accept, request_id_var, task_var

#: The message header that carries the request id.
REQUEST_ID_HEADER = "dangjian_request_id"
HEARTBEAT_TASK = "ops.heartbeat"

logger = logging.getLogger(__name__)

# Context tokens of running tasks, by task id, to restore the worker's context after each.
_running: dict[str, tuple[Any, Any]] = {}
# True in the beat process only (set by the beat's own start-up signals).
_in_beat = False


def carry_request_id(headers: dict[str, Any] | None = None, **_kwargs: Any) -> None:
    request_id = request_id_var.get()
    if request_id is not None and headers is not None:
        headers.setdefault(REQUEST_ID_HEADER, request_id)


def task_context_enter(task_id: str | None = None, task: Any = None, **_kwargs: Any) -> None:
    if task is None or task_id is None:
        return
    carried = request_id_accept(task.request.get(REQUEST_ID_HEADER))
    if carried is None and task.request.is_eager:
        carried = request_id_var.get()
    _running[task_id] = (request_id_var.set(carried), task_var.set((task.name, task_id)))


def task_context_leave(task_id: str | None = None, **_kwargs: Any) -> None:
    tokens = _running.pop(task_id, None) if task_id is not None else None
    if tokens is None:
        return
    request_token, task_token = tokens
    task_var.reset(task_token)
    request_id_var.reset(request_token)


def beat_started(**_kwargs: Any) -> None:
    global _in_beat  # one flag per process, set once by the beat
    _in_beat = True


def beat_heartbeat_record(sender: str | None = None, **_kwargs: Any) -> None:
    if not _in_beat or sender != HEARTBEAT_TASK:
        return
    from ops.heartbeats import BEAT, heartbeat_record
    from ops.probes import probe_connection

    # The beat is one thread scheduling everything: a database that does not answer must
    # hold it seconds, not minutes, and a failure must not stop it sending other tasks.
    try:
        with probe_connection():
            heartbeat_record(name=BEAT, at=timezone.now())
    except DatabaseError:
        logger.warning("Could not record the beat's heartbeat", exc_info=True)


def connect() -> None:
    """Connect the handlers (``OpsConfig.ready``); connecting twice changes nothing."""
    before_task_publish.connect(carry_request_id, dispatch_uid="ops_carry_request_id")
    task_prerun.connect(task_context_enter, dispatch_uid="ops_task_context_enter")
    task_postrun.connect(task_context_leave, dispatch_uid="ops_task_context_leave")
    beat_init.connect(beat_started, dispatch_uid="ops_beat_started")
    beat_embedded_init.connect(beat_started, dispatch_uid="ops_beat_embedded_started")
    after_task_publish.connect(beat_heartbeat_record, dispatch_uid="ops_beat_heartbeat")
