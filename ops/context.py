"""The request id of the work in progress: a web request's, or the request's that
enqueued the Celery task being run.

A context variable, not a thread-local, so that it follows the request into async views
and the threads they hand work to (``contextvars.copy_context``).
"""

from __future__ import annotations

import re
import uuid
from contextvars import ContextVar

#: The most characters accepted from an incoming ``X-Request-ID``.
REQUEST_ID_MAX_LENGTH = 64
_SAFE_REQUEST_ID = re.compile(rf"[A-Za-z0-9._-]{{1,{REQUEST_ID_MAX_LENGTH}}}")

request_id_var: ContextVar[str | None] = ContextVar("dangjian_request_id", default=None)
#: ``(task name, task id)`` while a Celery task runs, for its log lines.
task_var: ContextVar[tuple[str, str] | None] = ContextVar("dangjian_task", default=None)


def request_id_accept(value: object) -> str | None:
    """``value`` when it is a short id of letters, digits, ``.``, ``_`` and ``-``; else None.

    A proxy in front may send its own id, which then ties our log lines to its own. Anything
    else (too long, other characters, not a string) could forge or break log lines and is
    replaced by a new id.
    """
    if isinstance(value, str) and _SAFE_REQUEST_ID.fullmatch(value):
        return value
    return None


def request_id_new() -> str:
    """A fresh random request id (32 hexadecimal digits)."""
    return uuid.uuid4().hex


def request_id_get() -> str | None:
    """The current request id, or None outside a request or a task a request enqueued."""
    return request_id_var.get()
