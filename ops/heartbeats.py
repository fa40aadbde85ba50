"""Liveness of the Celery beat and workers, as seen through a scheduled heartbeat.

The beat sends the task ``ops.heartbeat`` every ``HEARTBEAT_SECONDS`` to the default
queue and to the search index's queue. When the beat sends it, the beat records
``beat``; when a worker runs it, the worker records ``worker:<lane>``. A row older than
``FRESH_SECONDS`` is stale: that process stopped, or its queue is stuck.
"""

from __future__ import annotations

import datetime

from ops.models import Heartbeat

HEARTBEAT_SECONDS = 30
#: Three missed heartbeats in a row before a component counts as stale; one late message
#: (a worker busy with a long task) is not an alarm.
FRESH_SECONDS = 3 * HEARTBEAT_SECONDS
BEAT = "beat"
#: The queues a worker's heartbeat is sent to, by lane (see CELERY_BEAT_SCHEDULE).
LANES = ("default", "search")
COMPONENTS = (BEAT, *(f"worker:{lane}" for lane in LANES))


def heartbeat_record(*, name: str, at: datetime.datetime) -> None:
    """Record that ``name`` was alive at ``at`` (one upsert; two processes may race)."""
    if name not in COMPONENTS:
        raise ValueError(f"unknown heartbeat component {name!r}")
    Heartbeat.objects.bulk_create(
        [Heartbeat(name=name, seen_at=at)],
        update_conflicts=True,
        unique_fields=["name"],
        update_fields=["seen_at"],
    )


def heartbeats_seen() -> dict[str, datetime.datetime]:
    """When each component was last seen (components never seen are absent)."""
    rows = Heartbeat.objects.filter(name__in=COMPONENTS).values_list("name", "seen_at")
    return dict(rows)
