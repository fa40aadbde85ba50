"""Counting requests per key in a fixed window, shared by every web process.

Used where a person's pace has a natural limit: password reset requests
(``learning.people.auth``) and answer verdicts in practice and quizzes
(``quizzes.taking.pacing``). The counters live in Django's cache, so all web processes
and servers share them when the cache is Redis (the production settings); with the
embedded defaults each process counts on its own.
"""

from __future__ import annotations

import datetime
import hashlib
import math
import time

from django.core.cache import cache


def throttle_count(*, scope: str, key: str, window: datetime.timedelta) -> tuple[int, int]:
    """Count one more request for ``key`` in its window: (requests so far, seconds left).

    A fixed window that starts with the first request and ends ``window`` later.
    """
    digest = hashlib.sha256(key.encode()).hexdigest()
    counter = f"dangjian:throttle:{scope}:{digest}"
    seconds = max(1, int(window.total_seconds()))
    now = time.time()
    cache.add(f"{counter}:start", now, seconds)
    cache.add(counter, 0, seconds)
    try:
        count = cache.incr(counter)
    except ValueError:  # the window ended between add() and incr()
        cache.set(counter, 1, seconds)
        count = 1
    started = cache.get(f"{counter}:start") or now
    return count, max(1, math.ceil(started + seconds - now))
