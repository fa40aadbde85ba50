"""Log lines: JSON objects one per line (production) or plain text (development, tests).

The standard library's ``logging`` does the work; this module adds a formatter and a
filter, and builds the ``LOGGING`` dictionaries for Django (``logging_config``) and for
gunicorn's own loggers (``gunicorn_logconfig_dict``). Every library logs through the
standard library already (Django, Celery, gunicorn, Wagtail), so one formatter on one
handler makes all of their lines JSON; docs/operations.md says why not django-structlog.

This module is imported by the settings and by gunicorn's configuration before Django is
set up: it must not import models or read settings.
"""

from __future__ import annotations

import datetime
import json
import logging
import re
from typing import Any

from ops.context import request_id_var, task_var

LOG_FORMATS = ("plain", "json")

# Attributes every LogRecord has; anything else on a record came from ``extra=``.
_RECORD_ATTRIBUTES = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {
    "message",
    "asctime",
    "request_id",
    "task",
    "task_id",
    "taskName",
}
#: Longest text kept from an extra value that is not plain JSON data.
EXTRA_TEXT_LIMIT = 1000


class RequestIdFilter(logging.Filter):
    """Put the current request id (and the running Celery task, if any) on every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "request_id", None) is None:
            record.request_id = request_id_var.get()
        task = task_var.get()
        if task is not None and not hasattr(record, "task"):
            record.task, record.task_id = task
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time (ISO 8601, UTC with its offset), level, logger,
    message, request_id, the task when one runs, then the record's extra fields."""

    def format(self, record: logging.LogRecord) -> str:
        body: dict[str, Any] = {
            "time": datetime.datetime.fromtimestamp(record.created, tz=datetime.UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None),
        }
        if hasattr(record, "task"):
            body["task"] = record.task
            body["task_id"] = getattr(record, "task_id", None)
        for key, value in record.__dict__.items():
            if key not in _RECORD_ATTRIBUTES and not key.startswith("_") and key not in body:
                body[key] = _jsonable(key, value)
        if record.exc_info:
            body["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            body["stack"] = self.formatStack(record.stack_info)
        # Chinese stays readable; json.dumps escapes newlines, so a message cannot start a
        # second line (or forge one).
        return json.dumps(body, ensure_ascii=False, default=str)


class PlainFormatter(logging.Formatter):
    """``time level logger message``, and ``[request id]`` when there is one."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        request_id = getattr(record, "request_id", None)
        return f"{line} [{request_id}]" if request_id else line


def _jsonable(key: str, value: Any, depth: int = 0) -> Any:
    """Plain JSON data as it is (lists and dictionaries a few levels deep); a request as its
    method and path (never its query string, which may hold a token); anything else as
    bounded text."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if key == "request" and hasattr(value, "method") and hasattr(value, "path"):
        return {"method": value.method, "path": value.path}
    if depth < 3 and isinstance(value, list | tuple):
        return [_jsonable("", item, depth + 1) for item in value[:100]]
    if depth < 3 and isinstance(value, dict):
        return {str(k): _jsonable(str(k), v, depth + 1) for k, v in list(value.items())[:100]}
    return str(value)[:EXTRA_TEXT_LIMIT]


# An office screen's link is its credential (docs/screens.md): never in a log line.
SCREEN_TOKEN_PATH = re.compile(r"^/screens/[^/]+/")


class AccessPathFilter(logging.Filter):
    """gunicorn's access line with the path's secret part replaced (``%(U)s`` atom)."""

    def filter(self, record: logging.LogRecord) -> bool:
        atoms = record.args
        if isinstance(atoms, dict) and isinstance(atoms.get("U"), str):
            atoms["U"] = SCREEN_TOKEN_PATH.sub("/screens/…/", atoms["U"])
        return True


def _formatter(log_format: str) -> dict[str, Any]:
    if log_format not in LOG_FORMATS:
        raise ValueError(f"log format must be one of {', '.join(LOG_FORMATS)}, not {log_format!r}")
    if log_format == "json":
        return {"()": "ops.logging.JsonFormatter"}
    return {"()": "ops.logging.PlainFormatter"}


def logging_config(*, log_format: str, level: str = "INFO") -> dict[str, Any]:
    """Django's ``LOGGING``: everything to standard error through one handler."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"main": _formatter(log_format)},
        "filters": {"request_id": {"()": "ops.logging.RequestIdFilter"}},
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "formatter": "main",
                "filters": ["request_id"],
            }
        },
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            "django.db.backends": {"level": "WARNING"},
            # One line per background task (search index, reference index) is noise at INFO.
            "django_tasks": {"level": "WARNING"},
            "celery": {"level": "INFO"},
            # django-health-check logs each failing check with its traceback on every
            # probe; ops.checks logs one line per failure instead.
            "health_check": {"level": "ERROR"},
        },
    }


def gunicorn_logconfig_dict(*, log_format: str = "json") -> dict[str, Any]:
    """gunicorn's ``logconfig_dict``: its error and access logs in the same format.

    In ``gunicorn.conf.py``: ``logconfig_dict = gunicorn_logconfig_dict(log_format=...)``.
    gunicorn writes its access line before it closes the response, while the request id
    is still set (ops.middleware clears it on ``request_finished``), so the line has it.
    """
    config = logging_config(log_format=log_format)
    config["filters"]["access_path"] = {"()": "ops.logging.AccessPathFilter"}
    config["handlers"]["access"] = {
        **config["handlers"]["console"],
        "filters": ["request_id", "access_path"],
    }
    config["loggers"] = {
        # propagate False: gunicorn's defaults propagate, which would print each line twice
        # once the application's LOGGING gives the root logger the same handler.
        "gunicorn.error": {"level": "INFO", "handlers": ["console"], "propagate": False},
        "gunicorn.access": {"level": "INFO", "handlers": ["access"], "propagate": False},
    }
    return config
