"""The Celery task that applies index writes, for either search backend.

Route it with the backend's ``WRITE_QUEUE`` option. For Whoosh, run exactly one worker
process on that queue (``celery -A config worker -Q search --concurrency 1``): then only
that worker writes the live index, so web requests never wait for the Whoosh lock. The
PostgreSQL backend has no such constraint: any number of workers may consume the queue.

The task is safe to run late, twice, or out of order: it carries primary keys and asks the
database for the current state of each object. That is also why it may be acknowledged
late (``acks_late``): a worker killed mid-write gets the message again and loses nothing.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

from celery import shared_task
from django.apps import apps

from cms.search.storage import IndexBusyError

#: The backends a task may build (a message names one of them in ``options["BACKEND"]``).
BACKEND_MODULES = ("cms.search.backend", "cms.search.postgres")


@shared_task(
    name="cms.search.sync",
    acks_late=True,
    autoretry_for=(IndexBusyError,),
    retry_backoff=2,
    retry_backoff_max=60,
    max_retries=20,
    ignore_result=True,
)
def search_index_sync(*, options: dict[str, Any], model: str, pks: list[str]) -> None:
    """Make the search index agree with the database about ``pks`` of ``model``.

    ``options["BACKEND"]`` says which backend queued it; messages queued before the
    PostgreSQL backend existed carry none and are the Whoosh backend's.
    """
    options = dict(options)
    backend_module = options.pop("BACKEND", BACKEND_MODULES[0])
    if backend_module not in BACKEND_MODULES:
        raise ValueError(f"Not a search backend of this project: {backend_module!r}")
    try:
        model_class = apps.get_model(model)
    except LookupError:
        return
    backend_class = import_module(backend_module).SearchBackend
    backend_class({**options, "WRITE_QUEUE": None}).sync(model_class, pks)
