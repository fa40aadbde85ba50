"""Log lines: JSON objects with the request id, which reaches the tasks a request enqueued;
slow requests logged by route."""

from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.test import Client

from ops.context import REQUEST_ID_MAX_LENGTH
from ops.logging import JsonFormatter, PlainFormatter, RequestIdFilter, gunicorn_logconfig_dict
from tests.ops.urls import log_something

REPO = Path(__file__).resolve().parent.parent.parent

pytestmark = pytest.mark.urls("tests.ops.urls")


class Lines:
    """The JSON lines written while the fixture is active, parsed."""

    def __init__(self, stream: io.StringIO) -> None:
        self.stream = stream

    def all(self) -> list[dict]:
        return [json.loads(line) for line in self.stream.getvalue().splitlines()]

    def of(self, logger: str) -> list[dict]:
        return [line for line in self.all() if line["logger"] == logger]


@pytest.fixture
def json_lines() -> Iterator[Lines]:
    """The production handler (JSON formatter, request id filter) on the loggers the tests
    read. Not on the root logger: a worker starting up runs Django's logging configuration
    again, which replaces the root logger's handlers."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestIdFilter())
    loggers = [logging.getLogger(name) for name in ("tests.ops", "ops", "django.request")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
    yield Lines(stream)
    for logger, level in zip(loggers, levels, strict=True):
        logger.removeHandler(handler)
        logger.setLevel(level)


def test_a_line_is_one_json_object_with_time_level_logger_message_and_extras(json_lines):
    logger = logging.getLogger("tests.ops.formatter")
    logger.warning("第 %d 行\nforged line", 1, extra={"route": "quiz/<int:pk>/", "count": 2})
    try:
        raise ValueError("broken")
    except ValueError:
        logger.exception("with a traceback")
    raw = json_lines.stream.getvalue().splitlines()
    assert len(raw) == 2  # a newline in a message never starts a line of its own
    first, second = json_lines.of("tests.ops.formatter")
    assert first["level"] == "WARNING"
    assert first["message"] == "第 1 行\nforged line"
    assert first["route"] == "quiz/<int:pk>/"
    assert first["count"] == 2
    assert first["request_id"] is None
    # ISO 8601 with its offset.
    assert first["time"].endswith("+00:00")
    assert "ValueError: broken" in second["exception"]


def test_a_request_object_in_a_line_shows_its_path_without_the_query_string(json_lines):
    class FakeRequest:
        method = "GET"
        path = "/screens/abc/"

        def __str__(self) -> str:
            return "<WSGIRequest: GET '/screens/abc/?token=secret'>"

    logging.getLogger("django.request").warning("Not Found", extra={"request": FakeRequest()})
    (line,) = json_lines.of("django.request")
    assert line["request"] == {"method": "GET", "path": "/screens/abc/"}
    assert "secret" not in json_lines.stream.getvalue()


def test_a_request_keeps_a_safe_incoming_id_in_its_lines_and_its_response(db, json_lines):
    response = Client().get("/log-and-enqueue/", HTTP_X_REQUEST_ID="lb-1234.abc_DEF")
    assert response["X-Request-ID"] == "lb-1234.abc_DEF"
    (line,) = json_lines.of("tests.ops.views")
    assert line["request_id"] == "lb-1234.abc_DEF"
    assert line["member_count"] == 3


@pytest.mark.parametrize(
    "forged",
    [
        "x" * (REQUEST_ID_MAX_LENGTH + 1),
        "abc def",
        'abc"}, {"level": "ERROR',
        "id\r\nX-Injected: 1",
        "",
    ],
)
def test_a_long_or_unsafe_incoming_id_is_replaced(db, json_lines, forged):
    response = Client().get("/log-and-enqueue/", HTTP_X_REQUEST_ID=forged)
    request_id = response["X-Request-ID"]
    assert request_id != forged
    assert len(request_id) == 32
    assert int(request_id, 16) >= 0
    assert json_lines.of("tests.ops.views")[0]["request_id"] == request_id


def test_django_s_line_about_an_error_response_carries_the_request_id(db, json_lines):
    response = Client().get("/gone/?token=secret", HTTP_X_REQUEST_ID="lost-1")
    assert response.status_code == 410
    (line,) = json_lines.of("django.request")
    assert line["request_id"] == "lost-1"
    assert line["request"] == {"method": "GET", "path": "/gone/"}
    assert "secret" not in json_lines.stream.getvalue()


def test_an_error_in_a_view_is_logged_with_its_traceback_and_the_request_id(db, json_lines):
    client = Client(raise_request_exception=False)
    response = client.get("/broken/", HTTP_X_REQUEST_ID="broken-1")
    assert response.status_code == 500
    (line,) = json_lines.of("django.request")
    assert line["level"] == "ERROR"
    assert line["request_id"] == "broken-1"
    assert "RuntimeError: the view broke" in line["exception"]


def test_structured_extras_stay_structured(json_lines):
    logging.getLogger("tests.ops.extras").info(
        "task received", extra={"data": {"id": "t1", "args": [1, "二"], "eta": None}}
    )
    (line,) = json_lines.of("tests.ops.extras")
    assert line["data"] == {"id": "t1", "args": [1, "二"], "eta": None}


def test_every_request_gets_its_own_id(db):
    client = Client()
    first = client.get("/log-and-enqueue/")["X-Request-ID"]
    second = client.get("/log-and-enqueue/")["X-Request-ID"]
    assert first != second


def test_no_request_id_is_left_behind_after_the_request(db, json_lines):
    Client().get("/log-and-enqueue/")
    logging.getLogger("tests.ops.after").warning("later")
    assert json_lines.of("tests.ops.after")[0]["request_id"] is None


def test_a_task_run_eagerly_logs_with_the_request_id_of_the_request_that_enqueued_it(
    db, json_lines
):
    response = Client().get("/log-and-enqueue/")
    (view_line,) = json_lines.of("tests.ops.views")
    (task_line,) = json_lines.of("tests.ops.tasks")
    assert task_line["message"] == "task says hello"
    assert task_line["request_id"] == view_line["request_id"] == response["X-Request-ID"]
    assert task_line["task"] == "tests.ops.log_something"


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_task_run_by_a_worker_logs_with_the_request_id_of_the_request_that_enqueued_it(
    real_worker, json_lines
):
    done = threading.Event()

    class Done(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            done.set()

    task_logger = logging.getLogger("tests.ops.tasks")
    task_logger.addHandler(Done())
    try:
        response = Client().get("/log-and-enqueue/", HTTP_X_REQUEST_ID="from-the-edge")
        assert done.wait(timeout=20), "the worker did not run the task"
    finally:
        task_logger.handlers.clear()
    (task_line,) = json_lines.of("tests.ops.tasks")
    assert response["X-Request-ID"] == "from-the-edge"
    assert task_line["request_id"] == "from-the-edge"
    assert task_line["task"] == "tests.ops.log_something"
    # The worker's own lines after the task carry no request id.
    logging.getLogger("tests.ops.after").warning("later")
    assert json_lines.of("tests.ops.after")[0]["request_id"] is None


def test_a_task_enqueued_outside_a_request_carries_no_request_id(db, json_lines):
    log_something.delay(word="alone")
    (task_line,) = json_lines.of("tests.ops.tasks")
    assert task_line["request_id"] is None


def test_a_slow_request_is_logged_with_its_route_not_its_path_or_query(db, json_lines, settings):
    settings.DANGJIAN_SLOW_REQUEST_MS = 5
    Client().get("/slow/4242/?token=secret-value")
    (line,) = json_lines.of("ops.requests")
    assert line["level"] == "WARNING"
    assert line["route"] == "slow/<int:item>/"
    assert line["view"] == "slow"
    assert line["method"] == "GET"
    assert line["status"] == 200
    assert line["duration_ms"] >= 5
    text = json_lines.stream.getvalue()
    assert "4242" not in text
    assert "secret-value" not in text


def test_a_fast_request_is_not_logged_as_slow(db, json_lines, settings):
    settings.DANGJIAN_SLOW_REQUEST_MS = 60_000
    Client().get("/slow/1/")
    assert json_lines.of("ops.requests") == []


def test_plain_lines_show_the_request_id_when_there_is_one():
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "hello", (), None)
    record.request_id = "abc"
    assert PlainFormatter().format(record).endswith("INFO x hello [abc]")
    record.request_id = None
    assert PlainFormatter().format(record).endswith("INFO x hello")


# --- the settings of each environment -----------------------------------------------------


def _run(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {
        key: value
        for key, value in os.environ.items()
        if key not in {"LOG_FORMAT", "DJANGO_SETTINGS_MODULE", "DATABASE_URL", "REDIS_URL"}
    }
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


PRODUCTION = {
    "DJANGO_SETTINGS_MODULE": "config.settings.production",
    "SECRET_KEY": "k" * 50,
    "ALLOWED_HOSTS": "dangjian.example.org",
}
LOG_A_LINE = (
    "import django, logging; django.setup(); "
    "logging.getLogger('dangjian.check').warning('started %s', 'ok')"
)


def test_production_writes_json_lines_by_default():
    result = _run(LOG_A_LINE, **PRODUCTION)
    assert result.returncode == 0, result.stderr
    line = json.loads(result.stderr.strip().splitlines()[-1])
    assert line["logger"] == "dangjian.check"
    assert line["message"] == "started ok"
    assert line["level"] == "WARNING"


def test_production_writes_plain_lines_when_asked():
    result = _run(LOG_A_LINE, LOG_FORMAT="plain", **PRODUCTION)
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip().splitlines()[-1].endswith("WARNING dangjian.check started ok")


def test_development_writes_plain_lines_and_json_when_asked():
    plain = _run(LOG_A_LINE, DJANGO_SETTINGS_MODULE="config.settings.dev")
    assert plain.stderr.strip().splitlines()[-1].endswith("started ok")
    as_json = _run(LOG_A_LINE, DJANGO_SETTINGS_MODULE="config.settings.dev", LOG_FORMAT="json")
    assert json.loads(as_json.stderr.strip().splitlines()[-1])["message"] == "started ok"


def test_an_unknown_log_format_stops_the_start():
    result = _run(LOG_A_LINE, LOG_FORMAT="xml", **PRODUCTION)
    assert result.returncode != 0
    assert "LOG_FORMAT must be plain or json" in result.stderr


def test_gunicorn_logs_json_lines_once_with_the_provided_config():
    code = (
        "import logging, logging.config; "
        "from ops.logging import gunicorn_logconfig_dict; "
        "logging.config.dictConfig(gunicorn_logconfig_dict()); "
        "logging.getLogger('gunicorn.error').info('Booting worker with pid: %s', 42)"
    )
    result = _run(code)
    assert result.returncode == 0, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    line = json.loads(lines[0])
    assert line["logger"] == "gunicorn.error"
    assert line["message"] == "Booting worker with pid: 42"
    assert gunicorn_logconfig_dict()["loggers"]["gunicorn.access"]["propagate"] is False


def test_gunicorns_access_line_never_holds_an_office_screens_token():
    # The real thing: gunicorn's own access logger, its atoms, the project's config and
    # the access format of gunicorn.conf.py.
    code = f"""
import logging.config, runpy, types
from gunicorn.config import Config
from gunicorn.glogging import Logger
conf = runpy.run_path({str(REPO / "gunicorn.conf.py")!r})
config = Config()
config.set("accesslog", "-")
config.set("access_log_format", conf["access_log_format"])
config.set("logconfig_dict", conf["logconfig_dict"])
logger = Logger(config)
request = types.SimpleNamespace(
    method="GET", path="/screens/SECRET-TOKEN-1234/snapshot.json", query="",
    version=(1, 1), headers=[("USER-AGENT", "kiosk")], uri="/screens/SECRET-TOKEN-1234/",
)
response = types.SimpleNamespace(status="200 OK", headers=[], sent=10, response_length=10)
environ = {{
    "REMOTE_ADDR": "127.0.0.1", "RAW_URI": request.uri, "SERVER_PROTOCOL": "HTTP/1.1",
    "REQUEST_METHOD": "GET", "PATH_INFO": request.path, "QUERY_STRING": "",
}}
import datetime
logger.access(response, request, environ, datetime.timedelta(seconds=0.01))
"""
    result = _run(code)
    assert result.returncode == 0, result.stderr
    output = result.stdout + result.stderr
    assert "/screens/…/snapshot.json" in output
    assert "SECRET-TOKEN-1234" not in output
