"""The two cache calls on the ledger's hot paths, one Redis command each.

Django's ``RedisCache`` builds a new Redis client object for every call (copying redis-py's
table of response callbacks), and its ``set_many`` runs a MULTI/EXEC pipeline: together
more CPU than the rest of an award's Python, and a third of a cached screen snapshot. With
Django's Redis cache configured (production), these helpers keep one client per process
and send one ``MGET`` or ``MSET``, storing and reading values exactly as the cache does
(its key prefix and version, its serializer), so ``cache.get`` and these agree. With any
other cache (the embedded local-memory one) they are ``cache.get_many`` and
``cache.set_many``.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache as memoize
from functools import lru_cache
from typing import Any

from django.core.cache import cache


def get_many(keys: Iterable[str]) -> dict[str, Any]:
    """The cached values of ``keys`` that exist (as ``cache.get_many``)."""
    keys = list(keys)
    backend = _redis_backend()
    if backend is None:
        return cache.get_many(keys)
    values = _client(backend).mget([_made_key(key) for key in keys])
    return {
        key: backend._serializer.loads(value)
        for key, value in zip(keys, values, strict=True)
        if value is not None
    }


def set_many_forever(values: dict[str, Any]) -> None:
    """Store ``values`` without expiry (as ``cache.set_many(values, None)``)."""
    backend = _redis_backend()
    if backend is None:
        cache.set_many(values, None)
        return
    _client(backend).mset(
        {_made_key(key): backend._serializer.dumps(value) for key, value in values.items()}
    )


def _redis_backend() -> Any:
    backend = getattr(cache, "_cache", None)
    if hasattr(backend, "get_client") and hasattr(backend, "_serializer"):
        return backend
    return None


@memoize
def _client(backend: Any) -> Any:
    # The first server: Django's RedisCache writes there, and reads there too when it is
    # the only one (replicas would make reads go elsewhere; this project has one server).
    return backend.get_client(None, write=True)


@lru_cache(maxsize=4096)
def _made_key(key: str) -> str:
    return cache.make_and_validate_key(key)
