"""Two Celery beats, one sender: the leader lock of ``ops.beat.SingleBeatScheduler``.

Real Redis (REDIS_URL, or a local server on db 10; skipped when none is reachable), real
Celery schedulers with their shelve files; only the last step, handing a due task to the
broker, is recorded instead of sent, so the tests can count who sent what.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import redis

from config.celery import app
from ops.beat import LOCK_NAME, SingleBeatScheduler
from tests.ops.proxy import reachable

PROBE = "probe-every-200-ms"


def _redis_url() -> str:
    url = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/10"
    parts = urlsplit(url)
    if not reachable(parts.hostname or "127.0.0.1", parts.port or 6379):
        pytest.skip(f"Redis is not reachable at {url} (set REDIS_URL or start it)")
    return url


class RecordingScheduler(SingleBeatScheduler):
    """The product's scheduler; what it would hand to the broker is written down."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.sent: list[str] = []
        super().__init__(*args, **kwargs)

    def apply_async(self, entry: Any, producer: Any = None, advance: bool = True, **kw: Any):
        self.sent.append(entry.name)


@pytest.fixture
def redis_url(settings: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    url = _redis_url()
    settings.REDIS_URL = url
    client = redis.Redis.from_url(url)
    client.delete(LOCK_NAME)
    # Only the probe: the project's own schedule would send nothing within these seconds.
    monkeypatch.setitem(
        app.conf, "beat_schedule", {PROBE: {"task": "ops.heartbeat", "schedule": 0.2}}
    )
    yield url
    client.delete(LOCK_NAME)


def beat(tmp_path: Path, name: str, **attributes: Any) -> RecordingScheduler:
    cls = type("Beat", (RecordingScheduler,), attributes) if attributes else RecordingScheduler
    return cls(app=app, schedule_filename=str(tmp_path / f"{name}-schedule"))


def run(beats: list[RecordingScheduler], seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        for scheduler in beats:
            scheduler.tick()
        time.sleep(0.02)


def test_of_two_beats_only_the_lock_holder_sends(redis_url: str, tmp_path: Path) -> None:
    first, second = beat(tmp_path, "first"), beat(tmp_path, "second")
    run([first, second], 1.5)
    assert len(first.sent) >= 4 and set(first.sent) == {PROBE}
    assert second.sent == []
    # The standby keeps its schedule moving: taking over, it sends nothing "missed".
    assert second.schedule[PROBE].total_run_count >= 4
    first.close()
    second.close()


def test_when_the_leader_stops_the_standby_takes_over(redis_url: str, tmp_path: Path) -> None:
    first, second = beat(tmp_path, "first"), beat(tmp_path, "second")
    run([first, second], 0.6)
    assert first.sent and not second.sent
    first.close()  # a clean stop releases the lock at once
    run([second], 1.0)
    assert len(second.sent) >= 3


def test_a_leader_that_dies_loses_the_lock_and_does_not_send_again(
    redis_url: str, tmp_path: Path
) -> None:
    short = {"lock_seconds": 1.0, "renew_seconds": 0.2}
    first, second = beat(tmp_path, "first", **short), beat(tmp_path, "second", **short)
    run([first, second], 0.5)
    assert first.sent and not second.sent
    # `first` hangs (no tick, no close): the lock expires and `second` takes over.
    run([second], 1.8)
    assert second.sent
    taken_over = len(second.sent)
    sent_by_first = len(first.sent)
    # `first` wakes up: it finds the lock gone and stands by; only one beat sends.
    run([first, second], 1.0)
    assert len(first.sent) == sent_by_first
    assert len(second.sent) > taken_over
    first.close()
    second.close()


def test_a_beat_that_cannot_reach_redis_sends_nothing(
    redis_url: str, tmp_path: Path, settings: Any
) -> None:
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    lonely = beat(tmp_path, "lonely")
    lonely.tick()
    time.sleep(0.3)
    lonely.tick()
    assert lonely.sent == []
    assert not lonely.leading()
    lonely.close()


def test_without_redis_the_only_beat_sends(
    tmp_path: Path, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.REDIS_URL = ""  # the embedded defaults: one machine, one beat, no lock
    monkeypatch.setitem(
        app.conf, "beat_schedule", {PROBE: {"task": "ops.heartbeat", "schedule": 0.2}}
    )
    alone = beat(tmp_path, "alone")
    run([alone], 0.7)
    assert len(alone.sent) >= 2
    alone.close()
