"""One Celery beat sends, however many run: a leader lock in Redis.

Two beats would send every scheduled task twice: two morning digests, doubled sweeps.
``SingleBeatScheduler`` (``CELERY_BEAT_SCHEDULER``) lets a beat send only while it holds
the lock ``LOCK_NAME`` in Redis (``REDIS_URL``); it renews the lock every few seconds, and
a beat that dies loses it after ``LOCK_SECONDS``. A second beat on another machine is a
standby: it keeps its schedule moving as if it sent (so on taking over it does not send
at once everything it "missed"), and sends from the first tick on which it holds the lock.

A task due in the gap between the leader's death and the standby taking over (at most
``LOCK_SECONDS``) is not sent by either; every scheduled task here runs again at its next
time, and the sweeps catch up on what is left (docs/deployment.md, "Scaling out").

Without ``REDIS_URL`` (the embedded defaults: one machine, one beat) there is no lock and
the scheduler is Celery's ``PersistentScheduler`` unchanged.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
from typing import Any

from celery.beat import PersistentScheduler, ScheduleEntry

logger = logging.getLogger(__name__)

LOCK_NAME = "dangjian:celery-beat-leader"
#: How long the lock outlives its holder's last renewal.
LOCK_SECONDS = 30.0
#: The longest a beat sleeps between two ticks, so that it renews the lock in time.
RENEW_SECONDS = 5.0


class SingleBeatScheduler(PersistentScheduler):
    """Celery's persistent scheduler that sends only while it leads (see the module)."""

    lock_seconds = LOCK_SECONDS
    renew_seconds = RENEW_SECONDS

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._lock: Any = None
        self._lock_known = False
        self._leading = False
        self.identity = f"{socket.gethostname()}:{os.getpid()}"
        super().__init__(*args, **kwargs)

    # --- the lock -------------------------------------------------------------------

    def _redis_lock(self) -> Any:
        if not self._lock_known:
            from django.conf import settings

            self._lock_known = True
            if url := getattr(settings, "REDIS_URL", ""):
                import redis

                client = redis.Redis.from_url(url, **settings.REDIS_CLIENT_TIMEOUTS)
                self._lock = client.lock(
                    LOCK_NAME, timeout=self.lock_seconds, blocking=False, thread_local=False
                )
        return self._lock

    def leading(self) -> bool:
        """Take or renew the lock; whether this beat may send now."""
        lock = self._redis_lock()
        if lock is None:
            return True
        import redis

        was_leading = self._leading
        try:
            if was_leading:
                # Renew: False (or LockNotOwnedError) when the lock expired meanwhile.
                self._leading = bool(lock.reacquire())
            else:
                self._leading = bool(lock.acquire(blocking=False))
        except redis.exceptions.LockNotOwnedError:
            try:
                self._leading = bool(lock.acquire(blocking=False))
            except redis.RedisError as error:
                self._redis_unreachable(error)
        except redis.RedisError as error:
            self._redis_unreachable(error)
        if self._leading != was_leading:
            if self._leading:
                logger.info("beat %s leads: it sends the scheduled tasks", self.identity)
            else:
                logger.warning("beat %s stands by: another beat holds the lock", self.identity)
        return self._leading

    def _redis_unreachable(self, error: Exception) -> None:
        # Redis is the broker too: nothing could be sent now anyway.
        logger.warning("beat %s cannot reach Redis for its lock: %s", self.identity, error)
        self._leading = False

    # --- Celery's hooks ---------------------------------------------------------------

    def tick(self, *args: Any, **kwargs: Any) -> float:
        self.leading()
        interval = super().tick(*args, **kwargs)
        return min(interval, self.renew_seconds) if self._lock is not None else interval

    def apply_entry(self, entry: ScheduleEntry, producer: Any = None) -> None:
        if self._lock is None or self._leading:
            super().apply_entry(entry, producer=producer)
        else:
            logger.debug("beat %s stands by: %s not sent", self.identity, entry.name)

    def close(self) -> None:
        try:
            super().close()
        finally:
            if self._lock is not None and self._leading:
                import redis

                with contextlib.suppress(redis.RedisError):  # it expires by itself
                    self._lock.release()
                self._leading = False
