"""Version stamps of the ledger per subtree: a cached screen snapshot is fresh while its
subtree's stamp is unchanged. Awards and reversals bump the stamps of every subtree above
the branch after commit; membership and tree changes bump them too."""

from __future__ import annotations

import atexit
import logging
import os
import threading
import time
from collections.abc import Iterable
from functools import cache as memoize

from django.conf import settings
from django.core.cache import cache

from learning.common import redis_cache
from learning.models import Organization

logger = logging.getLogger(__name__)

LEDGER_VERSION_KEY = "dangjian:ledger-version:{path}"


def ledger_version(path: str) -> str:
    """A token that changes whenever points change anywhere in the subtree at ``path``."""
    return str(cache.get(LEDGER_VERSION_KEY.format(path=path), "0"))


def ledger_versions_touch(path: str) -> None:
    """Tell cached screen snapshots of every subtree containing ``path`` to refresh.

    Called after commit; a cache outage only makes snapshots stale for their short
    timeout, so it is logged, never raised into the award that already committed.
    """
    _versions_bump([path])


def ledger_versions_touch_soon(path: str) -> None:
    """``ledger_versions_touch`` within ``DANGJIAN_LEDGER_VERSION_FLUSH_SECONDS``.

    An award's bump was a Redis ``MSET`` of its own, about 40 % of the awarding process's
    CPU. Bumps are instead collected per process and sent together by a background
    thread every few hundredths of a second: screens refresh every 30 s, so the delay is
    invisible, and a bump lost with a dying process is bounded by the snapshots' cache
    timeout. With the setting at 0 (the tests) the bump is immediate.
    """
    if settings.DANGJIAN_LEDGER_VERSION_FLUSH_SECONDS <= 0:
        ledger_versions_touch(path)
        return
    _pending_bumps.add(path)


def _versions_bump(paths: Iterable[str]) -> None:
    keys = {key for path in paths for key in _version_keys(path)}
    if not keys:
        return
    stamp = time.time_ns() // 1000
    try:
        redis_cache.set_many_forever(dict.fromkeys(sorted(keys), stamp))
    except Exception:
        logger.warning("could not bump screen snapshot versions for %s", keys, exc_info=True)


class _PendingBumps:
    """The subtree paths awarded in since the last flush, sent by one thread per process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._paths: set[str] = set()
        self._owner_pid = 0
        self._thread: threading.Thread | None = None

    def add(self, path: str) -> None:
        with self._lock:
            self._paths.add(path)
            # A forked worker inherits the object but not the thread: start its own.
            if self._owner_pid != os.getpid() or self._thread is None:
                self._owner_pid = os.getpid()
                self._thread = threading.Thread(
                    target=self._run, name="ledger-version-bumps", daemon=True
                )
                self._thread.start()

    def flush(self) -> None:
        with self._lock:
            paths, self._paths = self._paths, set()
        if paths:
            _versions_bump(paths)

    def _run(self) -> None:
        while True:
            time.sleep(settings.DANGJIAN_LEDGER_VERSION_FLUSH_SECONDS)
            self.flush()


_pending_bumps = _PendingBumps()
atexit.register(_pending_bumps.flush)


@memoize
def _version_keys(path: str) -> tuple[str, ...]:
    step = Organization.steplen
    return tuple(
        LEDGER_VERSION_KEY.format(path=path[:end]) for end in range(step, len(path) + 1, step)
    )
