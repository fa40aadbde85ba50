"""The checks behind ``/readyz``, on django-health-check's ``HealthCheck``.

django-health-check runs the checks concurrently, each within its ``timeout`` (plus one
second for the check's own client to report first), and turns what they raise into
results. Each check here also gives its client a timeout of its own, so that a service
that drops packets costs a probe ``TIMEOUT`` seconds, not a thread stuck for minutes.

A check's error message is shown to anyone who asks ``/readyz``: it names what failed and
the kind of error, never a URL, a host or a password; the details go to the log.

Critical checks make ``/readyz`` answer 503; the liveness of the Celery beat and workers
(``CeleryLiveness``) is reported but never does (docs/operations.md says why).
"""

from __future__ import annotations

import copy
import dataclasses
import datetime
import logging
import os
import uuid
from pathlib import Path
from typing import Any, ClassVar

import kombu
from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, DatabaseError
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone
from django.utils.module_loading import import_string
from health_check.base import HealthCheck
from health_check.exceptions import ServiceUnavailable, ServiceWarning

from ops.probes import probe_connection

logger = logging.getLogger(__name__)

#: Seconds each check (and its client) may take.
TIMEOUT = datetime.timedelta(seconds=2)
REDIS_CACHE = "django.core.cache.backends.redis.RedisCache"


def _unavailable(what: str, error: BaseException) -> ServiceUnavailable:
    """A public message (what failed, the error's type); the details go to the log."""
    logger.warning("Readiness: %s (%s: %s)", what, type(error).__name__, error)
    return ServiceUnavailable(f"{what} ({type(error).__name__})")


@dataclasses.dataclass
class ReadinessCheck(HealthCheck):
    """A check with a name for the report and whether its failure means "not ready"."""

    name: ClassVar[str] = ""
    critical: ClassVar[bool] = True
    timeout = TIMEOUT


@dataclasses.dataclass
class Database(ReadinessCheck):
    """The default database answers ``SELECT 1`` on a new connection."""

    name: ClassVar[str] = "database"
    alias: str = DEFAULT_DB_ALIAS

    def run(self) -> None:
        try:
            seconds = TIMEOUT.total_seconds()
            with (
                probe_connection(alias=self.alias, timeout_seconds=seconds) as db,
                db.cursor() as cursor,
            ):
                cursor.execute("SELECT 1")
                row = cursor.fetchone()
        except DatabaseError as error:
            raise _unavailable("cannot connect or query", error) from error
        if row is None or row[0] != 1:
            raise ServiceUnavailable("SELECT 1 did not return 1")


@dataclasses.dataclass
class Migrations(ReadinessCheck):
    """Every migration of the code is applied to the default database.

    A positive answer is kept for the life of the process: the code does not change under a
    running process, and a migration is never un-applied by accident; a negative one is
    asked again on the next probe (a deployment migrates while old processes serve).
    """

    name: ClassVar[str] = "migrations"
    alias: str = DEFAULT_DB_ALIAS
    confirmed: ClassVar[bool] = False

    def run(self) -> None:
        if Migrations.confirmed:
            return
        try:
            with probe_connection(alias=self.alias, timeout_seconds=TIMEOUT.total_seconds()) as db:
                executor = MigrationExecutor(db)
                plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
        except DatabaseError as error:
            raise _unavailable("cannot read the applied migrations", error) from error
        if plan:
            raise ServiceUnavailable(f"{len(plan)} migration(s) not applied: run manage.py migrate")
        Migrations.confirmed = True


@dataclasses.dataclass
class Cache(ReadinessCheck):
    """The default cache stores, returns and deletes a value (a client of its own, with
    timeouts, for the probe)."""

    name: ClassVar[str] = "cache"
    alias: str = "default"

    def run(self) -> None:
        try:
            params = copy.deepcopy(settings.CACHES[self.alias])
        except KeyError as error:
            raise ServiceUnavailable(f"no cache named {self.alias!r}") from error
        backend_path = params.pop("BACKEND")
        location = params.pop("LOCATION", "")
        if backend_path == REDIS_CACHE:
            from redis.backoff import NoBackoff
            from redis.retry import Retry

            seconds = TIMEOUT.total_seconds()
            params.setdefault("OPTIONS", {}).update(
                socket_connect_timeout=seconds, socket_timeout=seconds, retry=Retry(NoBackoff(), 0)
            )
        cache = import_string(backend_path)(location, params)
        key = f"ops-readyz-{uuid.uuid4().hex}"
        try:
            cache.set(key, "ok", timeout=10)
            value = cache.get(key)
            cache.delete(key)
        except Exception as error:  # any client's connection or protocol error
            raise _unavailable("cannot store and read a value", error) from error
        finally:
            _close_cache(cache)
        if value != "ok":
            raise ServiceUnavailable("a stored value did not come back")


def _close_cache(cache: object) -> None:
    # Django's RedisCache keeps its connection pools on its client and has no close();
    # this probe's client is thrown away, so its connections are too.
    for pool in getattr(getattr(cache, "_cache", None), "_pools", {}).values():
        pool.disconnect()


@dataclasses.dataclass
class Broker(ReadinessCheck):
    """Celery's broker (``CELERY_BROKER_URL``) accepts a connection; for the embedded
    filesystem broker, its folders exist and are writable."""

    name: ClassVar[str] = "broker"

    def run(self) -> None:
        url = settings.CELERY_BROKER_URL
        options = dict(getattr(settings, "CELERY_BROKER_TRANSPORT_OPTIONS", None) or {})
        if url.startswith("filesystem:"):
            self._check_folders(options)
            return
        seconds = TIMEOUT.total_seconds()
        options.update(socket_connect_timeout=seconds, socket_timeout=seconds)
        connection = kombu.Connection(url, transport_options=options, connect_timeout=seconds)
        try:
            connection.ensure_connection(max_retries=0, timeout=seconds)
        except Exception as error:  # kombu wraps each transport's errors differently
            raise _unavailable("cannot connect", error) from error
        finally:
            connection.release()

    @staticmethod
    def _check_folders(options: dict[str, object]) -> None:
        for option in ("data_folder_in", "data_folder_out", "control_folder"):
            folder = options.get(option)
            if folder is None:
                continue
            if not os.path.isdir(folder) or not os.access(folder, os.W_OK | os.X_OK):
                raise ServiceUnavailable(f"the broker's {option} is missing or not writable")


@dataclasses.dataclass
class SearchIndex(ReadinessCheck):
    """The search index can be read: for Whoosh, the index directory is there and every index
    built in it opens and reads; for PostgreSQL, its table answers.

    Read-only and cheap: the index's table of contents and a reader, or one row of the
    table; no search. An index that was never built (a new installation before its first
    page) is not an error.
    """

    name: ClassVar[str] = "search_index"

    def run(self) -> None:
        from wagtail.search.backends import get_search_backend

        from cms.search.postgres import PostgresSearchBackend

        backend = get_search_backend()
        if isinstance(backend, PostgresSearchBackend):
            self._run_postgres()
        else:
            self._run_whoosh(backend)

    @staticmethod
    def _run_postgres() -> None:
        from django.db import DatabaseError

        from cms.models import SearchEntry

        try:
            SearchEntry.objects.only("pk").first()
        except DatabaseError as error:
            raise _unavailable("cannot read the search index", error) from error

    @staticmethod
    def _run_whoosh(backend: Any) -> None:
        from modelsearch.backends.base import get_model_root
        from modelsearch.index import get_indexed_models

        from cms.search.storage import IndexStore

        root = Path(backend.path)
        if not root.is_dir():
            raise ServiceUnavailable(
                "the search index directory does not exist (a new installation: run "
                "manage.py update_index)"
            )
        try:
            os.listdir(root)
            stores = {
                backend.get_index_for_model(get_model_root(model)).store.directory
                for model in get_indexed_models()
            }
            for directory in sorted(stores):
                store = IndexStore(directory)
                generation = store.current_generation()
                if generation is None:
                    continue
                with store.open(generation).reader() as reader:
                    reader.doc_count()
        except OSError as error:
            raise _unavailable("cannot read the search index", error) from error
        except Exception as error:  # Whoosh's own errors for a damaged index
            raise _unavailable("the search index does not open", error) from error


@dataclasses.dataclass
class CeleryLiveness(ReadinessCheck):
    """How long ago the beat sent a heartbeat and each worker queue ran one.

    Never critical: a load balancer must not take every web server out because the beat
    stopped. The ages are in ``ages``, for the report.
    """

    name: ClassVar[str] = "celery"
    critical: ClassVar[bool] = False
    ages: dict[str, float | None] = dataclasses.field(default_factory=dict, repr=False)

    def run(self) -> None:
        from ops.heartbeats import COMPONENTS, FRESH_SECONDS, heartbeats_seen

        try:
            with probe_connection(timeout_seconds=TIMEOUT.total_seconds()):
                seen = heartbeats_seen()
        except DatabaseError as error:
            raise _unavailable("cannot read the heartbeats", error) from error
        now = timezone.now()
        for component in COMPONENTS:
            at = seen.get(component)
            self.ages[component] = None if at is None else max(0.0, (now - at).total_seconds())
        stale = [
            component for component, age in self.ages.items() if age is None or age > FRESH_SECONDS
        ]
        if stale:
            raise ServiceWarning(f"stale: {', '.join(stale)}")


@dataclasses.dataclass
class UnsentTasks(ReadinessCheck):
    """No background task waits to be handed to the broker (``learning.common.enqueue``).

    Not critical: the web keeps serving while tasks wait, and they are sent again once the
    broker takes messages; but a count above zero means search updates, statistics or
    imports are late, which an operator should hear of.
    """

    name: ClassVar[str] = "unsent_tasks"
    critical: ClassVar[bool] = False

    def run(self) -> None:
        from learning.models import UnsentTask

        try:
            with probe_connection(timeout_seconds=TIMEOUT.total_seconds()) as db:
                waiting = UnsentTask.objects.using(db.alias).count()
        except DatabaseError as error:
            raise _unavailable("cannot count the unsent tasks", error) from error
        if waiting:
            raise ServiceWarning(
                f"{waiting} background task(s) waiting to be queued: is the broker reachable?"
            )
