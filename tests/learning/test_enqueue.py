"""A task the broker refuses is kept, shown to administrators and sent again: never lost."""

from __future__ import annotations

import functools
import socket
import time
from collections.abc import Iterator

import pytest
from celery import Celery
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import transaction

from learning.common import enqueue
from learning.common.enqueue import task_send, task_send_on_commit, unsent_tasks_send
from learning.models import UnsentTask
from learning.people import roles
from tests.factories.people import MemberFactory
from tests.ops.proxy import TcpProxy

pytestmark = pytest.mark.django_db


def _closed_port() -> int:
    """A local TCP port nothing listens on: connecting is refused at once."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@functools.cache
def _app(broker_url: str, task_name: str = "tests.reindex") -> Celery:
    """A Celery app of its own with one task; names differ per app (one registry).

    Its Redis client has the production settings' timeouts (``REDIS_CLIENT_TIMEOUTS``).
    """
    app = Celery("enqueue-test", broker=broker_url, set_as_current=False)
    app.conf.update(
        task_always_eager=False,
        broker_connection_timeout=settings.REDIS_CLIENT_TIMEOUTS["socket_connect_timeout"],
        broker_transport_options=dict(settings.REDIS_CLIENT_TIMEOUTS),
        broker_connection_retry_on_startup=False,
        task_serializer="json",
    )

    @app.task(name=task_name)
    def reindex(page_id: int, *, force: bool = False) -> None:  # pragma: no cover - never run
        raise AssertionError("the test only publishes")

    return app


@pytest.fixture(autouse=True)
def _broker_up_again(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    # One quick retry instead of the production policy's three spread over 3 s.
    monkeypatch.setattr(enqueue, "PUBLISH_RETRY_POLICY", {"max_retries": 1, "interval_start": 0})
    enqueue.broker_state.accepted()
    yield
    enqueue.broker_state.accepted()


REDIS_DOWN_URL = f"redis://127.0.0.1:{_closed_port()}/0"


@pytest.fixture
def redis_down() -> Celery:
    return _app(REDIS_DOWN_URL, "tests.reindex_down")


@pytest.fixture
def memory_broker() -> Celery:
    return _app("memory://")


def _queued_messages(app: Celery, queue: str = "celery") -> list[dict[str, object]]:
    with app.connection_for_read() as connection:
        simple = connection.SimpleQueue(queue)
        messages = []
        while True:
            try:
                message = simple.get(block=False)
            except simple.Empty:
                break
            messages.append({"task": message.headers["task"], "body": message.decode()})
            message.ack()
        simple.close()
    return messages


def test_a_task_the_broker_refuses_is_kept_with_its_arguments_and_error(redis_down) -> None:
    task = redis_down.tasks["tests.reindex_down"]
    assert task_send(task, args=[7], kwargs={"force": True}, queue="search") is False
    kept = UnsentTask.objects.get()
    assert (kept.task_name, kept.args, kept.kwargs, kept.queue) == (
        "tests.reindex_down",
        [7],
        {"force": True},
        "search",
    )
    assert "refused" in kept.error.lower() or "connection" in kept.error.lower()


def test_after_one_refusal_further_tasks_are_kept_without_waiting(redis_down) -> None:
    task = redis_down.tasks["tests.reindex_down"]
    task_send(task, args=[1])
    started = time.monotonic()
    for page_id in range(2, 12):
        assert task_send(task, args=[page_id]) is False
    assert time.monotonic() - started < 1.0
    assert sorted(row.args[0] for row in UnsentTask.objects.all()) == list(range(1, 12))


def test_a_broker_that_accepts_and_never_answers_keeps_the_task_within_seconds() -> None:
    # A network cut: the connection opens, nothing ever comes back. Without the client's
    # timeouts the publish would wait for ever and the web worker be killed, task and all.
    silent = TcpProxy("127.0.0.1", _closed_port())
    silent.black_hole()
    try:
        app = _app(f"redis://127.0.0.1:{silent.port}/0", "tests.reindex_silent")
        started = time.monotonic()
        assert task_send(app.tasks["tests.reindex_silent"], args=[5]) is False
        assert time.monotonic() - started < 30
    finally:
        silent.close()
    assert UnsentTask.objects.get().args == [5]


def test_a_transport_that_cannot_be_loaded_keeps_the_task() -> None:
    # The failure issue 15 found: kombu's transport module could not be imported.
    app = _app("no-such-transport://localhost//", "tests.reindex_lost")
    assert task_send(app.tasks["tests.reindex_lost"], args=[3]) is False
    assert UnsentTask.objects.get().args == [3]


def test_a_task_is_sent_only_when_its_transaction_commits(
    redis_down, django_capture_on_commit_callbacks
) -> None:
    task = redis_down.tasks["tests.reindex_down"]
    with (
        django_capture_on_commit_callbacks(execute=True) as rolled_back,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        task_send_on_commit(task, args=[1])
        raise RuntimeError("rolled back")
    assert rolled_back == []
    assert not UnsentTask.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        task_send_on_commit(task, args=[2])
        assert not UnsentTask.objects.exists()
    assert UnsentTask.objects.get().args == [2]


def test_kept_tasks_are_sent_again_once_the_broker_takes_them(memory_broker) -> None:
    for page_id in (1, 2, 3):
        UnsentTask.objects.create(
            task_name="tests.reindex", args=[page_id], kwargs={}, error="ConnectionError"
        )
    assert unsent_tasks_send(app=memory_broker) == (3, 0)
    assert not UnsentTask.objects.exists()
    sent = _queued_messages(memory_broker)
    assert [(message["task"], message["body"][0]) for message in sent] == [
        ("tests.reindex", [1]),
        ("tests.reindex", [2]),
        ("tests.reindex", [3]),
    ]


def test_sending_again_stops_at_the_first_refusal_and_counts_the_attempt(redis_down) -> None:
    for page_id in (1, 2):
        UnsentTask.objects.create(task_name="tests.reindex_down", args=[page_id], error="earlier")
    assert unsent_tasks_send(app=redis_down) == (0, 2)
    first, second = UnsentTask.objects.order_by("pk")
    assert first.attempts == 2 and first.error != "earlier"
    assert second.attempts == 1  # not tried: the broker was still down


def test_a_kept_task_of_an_unknown_name_stays_with_a_clear_error(memory_broker) -> None:
    UnsentTask.objects.create(task_name="tests.gone", args=[], error="earlier")
    assert unsent_tasks_send(app=memory_broker) == (0, 1)
    assert UnsentTask.objects.get().error == "unknown task 'tests.gone'"


def test_the_command_fails_while_tasks_still_wait(redis_down, monkeypatch) -> None:
    UnsentTask.objects.create(task_name="tests.reindex_down", args=[1], error="earlier")
    monkeypatch.setattr(enqueue, "current_app", redis_down)
    with pytest.raises(CommandError, match="1 task"):
        call_command("send_unsent_tasks")
    assert UnsentTask.objects.count() == 1


def test_the_command_sends_them_when_the_broker_is_back(memory_broker, monkeypatch) -> None:
    UnsentTask.objects.create(task_name="tests.reindex", args=[1], error="earlier")
    monkeypatch.setattr(enqueue, "current_app", memory_broker)
    call_command("send_unsent_tasks")
    assert not UnsentTask.objects.exists()
    # Taken off the in-memory queue, which every Celery app of the process shares.
    assert [message["task"] for message in _queued_messages(memory_broker)] == ["tests.reindex"]


def test_eager_mode_runs_the_task_and_lets_its_error_through(settings) -> None:
    # Tests run tasks inline; a failing task must fail the test, not become "unsent".
    app = _app("memory://", "tests.reindex_eager")
    app.conf.task_always_eager = True
    app.conf.task_eager_propagates = True
    with pytest.raises(AssertionError, match="only publishes"):
        task_send(app.tasks["tests.reindex_eager"], args=[1])
    assert not UnsentTask.objects.exists()


def test_administrators_see_waiting_tasks_on_the_admin_home(client) -> None:
    UnsentTask.objects.create(
        task_name="cms.search_index_sync", error="OperationalError: Error 111 connecting"
    )
    admin = MemberFactory(role_names=[roles.ADMINISTRATOR])
    client.force_login(admin)
    page = client.get("/admin/").content.decode()
    assert 'id="unsent-tasks-section"' in page
    assert "Error 111 connecting" in page


def test_nobody_else_sees_the_waiting_tasks(client) -> None:
    UnsentTask.objects.create(task_name="cms.search_index_sync", error="secret detail")
    client.force_login(MemberFactory(role_names=[roles.EDITOR]))
    response = client.get("/admin/")
    assert response.status_code == 200
    assert "secret detail" not in response.content.decode()


def test_no_panel_when_nothing_waits(client) -> None:
    admin = MemberFactory(role_names=[roles.ADMINISTRATOR])
    client.force_login(admin)
    assert 'id="unsent-tasks-section"' not in client.get("/admin/").content.decode()
