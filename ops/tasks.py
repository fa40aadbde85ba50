"""The heartbeat task the beat sends to each worker queue (ops.heartbeats)."""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from ops.heartbeats import LANES, heartbeat_record


@shared_task(name="ops.heartbeat", ignore_result=True)
def heartbeat(*, lane: str) -> None:
    """Record that a worker of ``lane``'s queue ran this (safe to run twice or late)."""
    if lane not in LANES:
        raise ValueError(f"unknown heartbeat lane {lane!r}")
    heartbeat_record(name=f"worker:{lane}", at=timezone.now())
