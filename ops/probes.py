"""Database connections that give up quickly, for probes that must answer in seconds.

The application's own connections wait as long as the database driver does: with no
``connect_timeout`` in ``DATABASE_URL``, a database whose packets are dropped holds a
connection attempt for minutes. A health check (or the beat recording its heartbeat) must
not, so it swaps a connection of its own, with short timeouts, in for the current thread's.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Iterator
from contextlib import contextmanager

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.utils import load_backend


def _with_timeouts(settings_dict: dict, seconds: float) -> dict:
    settings_dict = copy.deepcopy(settings_dict)
    options = settings_dict.setdefault("OPTIONS", {})
    engine = settings_dict["ENGINE"]
    if engine.endswith("postgresql"):
        # libpq's connect_timeout is whole seconds, at least 2; tcp_user_timeout bounds how
        # long sent data may stay unacknowledged once connected (a black-holed server).
        options["connect_timeout"] = max(2, math.ceil(seconds))
        options["tcp_user_timeout"] = round(seconds * 1000)
        statement_timeout = f"-c statement_timeout={round(seconds * 1000)}"
        options["options"] = f"{options.get('options', '')} {statement_timeout}".strip()
    elif engine.endswith("sqlite3"):
        options["timeout"] = seconds  # how long to wait for a writer's lock
    else:
        options["connect_timeout"] = max(1, math.ceil(seconds))
    # Never reused: each probe connects and closes.
    settings_dict["CONN_MAX_AGE"] = 0
    settings_dict["CONN_HEALTH_CHECKS"] = False
    return settings_dict


@contextmanager
def probe_connection(
    *, alias: str = DEFAULT_DB_ALIAS, timeout_seconds: float = 2.0
) -> Iterator[BaseDatabaseWrapper]:
    """Within the block, this thread's ``alias`` connection is a new one with short
    timeouts (the ORM uses it); it is closed after, and the previous one put back."""
    wrapper_class = load_backend(connections.settings[alias]["ENGINE"]).DatabaseWrapper
    probe = wrapper_class(_with_timeouts(connections.settings[alias], timeout_seconds), alias)
    previous = connections[alias]
    connections[alias] = probe
    try:
        yield probe
    finally:
        try:
            probe.close()
        finally:
            connections[alias] = previous
