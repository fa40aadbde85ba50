"""The beat and the workers show they are alive through a scheduled heartbeat."""

from __future__ import annotations

import time

import pytest
from celery.signals import beat_init
from django.conf import settings
from django.test import Client
from django.utils import timezone

from config import celery_app
from ops import celery_signals
from ops.heartbeats import HEARTBEAT_SECONDS, heartbeat_record, heartbeats_seen
from ops.models import Heartbeat
from ops.tasks import heartbeat
from tests.ops.conftest import readyz


def _entries() -> dict[str, dict]:
    return {
        name: entry
        for name, entry in settings.CELERY_BEAT_SCHEDULE.items()
        if entry["task"] == "ops.heartbeat"
    }


def test_the_beat_sends_a_heartbeat_to_the_default_queue_and_to_the_search_queue():
    entries = _entries()
    by_lane = {entry["kwargs"]["lane"]: entry for entry in entries.values()}
    assert set(by_lane) == {"default", "search"}
    assert "queue" not in by_lane["default"]["options"]
    search_queue = settings.WAGTAILSEARCH_BACKENDS["default"]["WRITE_QUEUE"]
    assert by_lane["search"]["options"]["queue"] == search_queue
    for entry in entries.values():
        assert entry["schedule"] == HEARTBEAT_SECONDS
        # A heartbeat no worker ran in time is dropped rather than run late in a pile.
        assert entry["options"]["expires"] <= 2 * HEARTBEAT_SECONDS


def test_a_second_heartbeat_overwrites_the_first(db):
    earlier = timezone.now() - timezone.timedelta(minutes=5)
    heartbeat_record(name="beat", at=earlier)
    heartbeat_record(name="beat", at=timezone.now())
    assert Heartbeat.objects.count() == 1
    assert heartbeats_seen()["beat"] > earlier


def test_an_unknown_component_or_lane_is_refused(db):
    with pytest.raises(ValueError, match="unknown heartbeat component"):
        heartbeat_record(name="worker:elsewhere", at=timezone.now())
    with pytest.raises(ValueError, match="unknown heartbeat lane"):
        heartbeat.apply(kwargs={"lane": "elsewhere"}, throw=True)
    assert Heartbeat.objects.count() == 0


@pytest.fixture
def in_the_beat(monkeypatch):
    """This process is the beat: its start-up signal went out."""
    monkeypatch.setattr(celery_signals, "_in_beat", False)
    beat_init.send(sender=None)
    assert celery_signals._in_beat


@pytest.fixture
def publishing(monkeypatch):
    """Tasks are published to the (in-memory) broker instead of run in the caller."""
    eager = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = False
    yield
    celery_app.conf.task_always_eager = eager


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_beat_records_its_heartbeat_when_it_sends_one(in_the_beat, publishing):
    heartbeat.apply_async(kwargs={"lane": "search"}, queue="search")
    seen = heartbeats_seen()
    assert set(seen) == {"beat"}
    assert (timezone.now() - seen["beat"]).total_seconds() < 5


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_another_process_sending_a_heartbeat_is_not_the_beat(monkeypatch, publishing):
    monkeypatch.setattr(celery_signals, "_in_beat", False)
    heartbeat.apply_async(kwargs={"lane": "default"})
    assert heartbeats_seen() == {}


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_beat_keeps_going_when_the_database_refuses_its_heartbeat(
    in_the_beat, publishing, monkeypatch, caplog
):
    from django.db import connection, connections

    connection.ensure_connection()  # the test's own connection stays on the real database
    monkeypatch.setitem(connections.settings["default"], "NAME", "/nonexistent/dir/db.sqlite3")
    monkeypatch.setitem(connections.settings["default"], "ENGINE", "django.db.backends.sqlite3")
    heartbeat.apply_async(kwargs={"lane": "default"})  # does not raise
    assert "Could not record the beat's heartbeat" in caplog.text


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_worker_running_the_heartbeat_shows_fresh_in_readyz(real_worker):
    heartbeat.apply_async(kwargs={"lane": "default"})
    deadline = time.monotonic() + 20
    while "worker:default" not in heartbeats_seen():
        assert time.monotonic() < deadline, "the worker did not run the heartbeat"
        time.sleep(0.1)
    _status, _body, checks = readyz(Client())
    assert checks["celery_worker_default"]["status"] == "fresh"
    assert checks["celery_worker_search"]["status"] == "stale"
    assert checks["celery_beat"]["status"] == "stale"
