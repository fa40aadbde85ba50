"""A django-modelsearch backend on Whoosh with Chinese word segmentation.

Configure it as Wagtail's search backend (``WAGTAILSEARCH_BACKENDS``; Wagtail's app config
reads that key, not ``MODELSEARCH_BACKENDS``)::

    WAGTAILSEARCH_BACKENDS = {
        "default": {
            "BACKEND": "cms.search.backend",
            "WRITE_QUEUE": "search",  # or None: write in the calling process
        }
    }

Options: ``PATH`` (default ``settings.SEARCH_INDEX_DIR``), ``INDEX_PREFIX``,
``WRITE_TIMEOUT`` (seconds a writer waits for the index lock, default 30) and
``WRITE_QUEUE`` (a Celery queue name: index writes become a task on that queue, enqueued
after the database transaction commits; ``None`` writes immediately).

Reads go straight to the index from any process. Writes take Whoosh's per-index lock; with
``WRITE_QUEUE`` and one worker on that queue only that worker (and a running rebuild)
writes, so publishing never waits for the lock and never shows an editor a lock error.
See docs/search.md for the whole picture.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models
from modelsearch.backends.base import (
    BaseIndex,
    BaseSearchBackend,
    get_model_root,
)
from modelsearch.index import class_is_indexed
from whoosh.fields import Schema
from whoosh.writing import SegmentWriter

from cms.search.mapping import (
    KEY,
    ModelMapping,
    schema_fields,
)
from cms.search.results import (
    WhooshAutocompleteQueryCompiler,
    WhooshSearchQueryCompiler,
    WhooshSearchResults,
)
from cms.search.storage import (
    IndexBusyError,
    IndexStore,
    add_missing_fields,
)
from learning.common.enqueue import task_send_on_commit

logger = logging.getLogger(__name__)

__all__ = ["IndexBusyError", "SearchBackend", "WhooshSearchBackend"]

#: How long a rebuild waits for ordinary writers before swapping generations.
SWAP_TIMEOUT_MINIMUM = 120.0
#: Objects per write when re-indexing a moved subtree or a journal.
SYNC_CHUNK_SIZE = 500


def _label(model: type[models.Model]) -> str:
    return model._meta.label_lower


def collect_documents(
    model: type[models.Model], pks: list[str]
) -> tuple[list[dict[str, Any]], list[str]]:
    """Read ``pks`` of ``model`` from the database: documents to write, keys to delete.

    This is what makes queued writes safe to run late or twice: the task does not carry
    the object, it asks the database what the object is *now*. Objects that are gone or
    no longer indexable (``get_indexed_objects`` excludes them) are deleted.
    """
    wanted = [str(pk) for pk in pks]
    queryset = model._default_manager.filter(pk__in=wanted)
    if hasattr(queryset, "specific"):
        queryset = queryset.specific()
    pks_by_class: dict[type[models.Model], list[Any]] = defaultdict(list)
    for obj in queryset:
        instance = obj.get_indexed_instance() if hasattr(obj, "get_indexed_instance") else obj
        if instance is not None and class_is_indexed(type(instance)):
            pks_by_class[type(instance)].append(instance.pk)
    documents = []
    for indexed_class, class_pks in pks_by_class.items():
        mapping = ModelMapping(indexed_class)
        for obj in indexed_class.get_indexed_objects().filter(pk__in=class_pks):
            documents.append(mapping.document(obj))
    present = {document[KEY] for document in documents}
    return documents, [pk for pk in wanted if pk not in present]


def _write(writer: SegmentWriter, documents: list[dict[str, Any]], deletes: list[str]) -> None:
    for document in documents:
        writer.update_document(**document)
    for key in deletes:
        writer.delete_by_term(KEY, key)


# --- index --------------------------------------------------------------------------


class WhooshIndex(BaseIndex):
    """One named Whoosh index (all generations of it) holding one root model's objects.

    Created with ``building_generation`` by the rebuilder, it writes into that unpublished
    generation through one long-lived writer instead of the live one.
    """

    def __init__(
        self,
        backend: WhooshSearchBackend,
        root_model: type[models.Model],
        name: str,
        building_generation: str | None = None,
    ) -> None:
        super().__init__(backend)
        self.root_model = root_model
        self.name = name
        self.store = IndexStore(backend.path / name, write_timeout=backend.write_timeout)
        self.building_generation = building_generation
        self._build_writer: SegmentWriter | None = None

    def __str__(self) -> str:
        return self.name

    def get_key(self) -> str:
        return self.name

    def schema_fields(self) -> dict[str, Any]:
        return schema_fields(self.root_model)

    def add_model(self, model: type[models.Model]) -> None:
        """The schema already covers every indexed model of this root (see mapping)."""

    def refresh(self) -> None:
        """Commits are visible at once: searchers notice them on their next query."""

    def reset(self) -> None:
        """Replace the index with an empty one, atomically, like a rebuild without data."""
        rebuilder = WhooshIndexRebuilder(self)
        rebuilder.start()
        rebuilder.finish()

    def add_item(self, obj: models.Model) -> None:
        self.add_items(type(obj), [obj])

    def add_items(self, model: type[models.Model], items: Any) -> None:
        documents = [
            ModelMapping(type(item)).document(item)
            for item in items
            if class_is_indexed(type(item))
        ]
        if not documents:
            return
        if self.building_generation is not None:
            writer = self._building_writer()
            for document in documents:
                writer.add_document(**document)
            return
        keys = [(_label(model), document[KEY]) for document in documents]
        with self.live_writer(keys) as writer:
            _write(writer, documents, [])

    def delete_item(self, item: models.Model) -> None:
        key = str(item.pk)
        with self.live_writer([(_label(type(item)), key)]) as writer:
            writer.delete_by_term(KEY, key)

    def sync(self, model: type[models.Model], pks: list[Any]) -> None:
        """Make the index agree with the database about these objects (add, update, delete)."""
        for start in range(0, len(pks), SYNC_CHUNK_SIZE):
            chunk = [str(pk) for pk in pks[start : start + SYNC_CHUNK_SIZE]]
            documents, deletes = collect_documents(model, chunk)
            keys = [(_label(model), pk) for pk in chunk]
            with self.live_writer(keys) as writer:
                _write(writer, documents, deletes)

    @contextmanager
    def live_writer(self, keys: list[tuple[str, str]]) -> Iterator[SegmentWriter]:
        """The writer of the published generation; commits on success, cancels on error.

        Waits up to the backend's ``WRITE_TIMEOUT`` for the lock. If a rebuild swapped in a
        new generation while we waited, the lock we got is for a retired generation: let it
        go and take the new one. While a rebuild runs, ``keys`` go into its journal.
        """
        wanted = self.schema_fields()
        deadline = time.monotonic() + self.store.write_timeout
        while True:
            generation = self.store.ensure(Schema(**wanted))
            remaining = max(deadline - time.monotonic(), 0.0)
            writer = self.store.locked_writer(generation, timeout=remaining)
            if self.store.current_generation() == generation:
                break
            writer.cancel()
        try:
            add_missing_fields(writer, wanted)
            rebuilding = self.store.rebuilding()
            if rebuilding is not None and rebuilding != generation:
                self.store.journal_append(rebuilding, keys)
            yield writer
        except BaseException:
            writer.cancel()
            raise
        writer.commit()

    def _building_writer(self) -> SegmentWriter:
        if self._build_writer is None:
            assert self.building_generation is not None
            self._build_writer = self.store.locked_writer(
                self.building_generation, procs=1, limitmb=256
            )
        return self._build_writer

    def finish_building(self) -> None:
        writer = self._building_writer()
        self._build_writer = None
        writer.commit(optimize=True)

    def swap_in(self, generation: str) -> None:
        """Publish a finished generation, first replaying what changed while it was built."""
        timeout = max(self.store.write_timeout * 4, SWAP_TIMEOUT_MINIMUM)
        with self.store.coordination_lock(timeout=timeout):
            previous = self.store.current_generation()
            # Holding the live generation's write lock keeps ordinary writers out from the
            # moment the journal is read until CURRENT points at the new generation.
            guard = self.store.locked_writer(previous, timeout=timeout) if previous else None
            try:
                journal = self.store.journal_read(generation)
                if journal:
                    self._replay(generation, journal)
                self.store.publish(generation)
                self.store.end_rebuild(generation)
            finally:
                if guard is not None:
                    guard.cancel()
            self.store.remove_stale_generations(keep={generation, previous} - {None})

    def _replay(self, generation: str, journal: list[tuple[str, str]]) -> None:
        pks_by_label: dict[str, list[str]] = defaultdict(list)
        for label, pk in journal:
            pks_by_label[label].append(pk)
        writer = self.store.locked_writer(generation)
        try:
            add_missing_fields(writer, self.schema_fields())
            for label, pks in pks_by_label.items():
                try:
                    model = apps.get_model(label)
                except LookupError:
                    continue
                documents, deletes = collect_documents(model, pks)
                _write(writer, documents, deletes)
        except BaseException:
            writer.cancel()
            raise
        writer.commit()


class WhooshIndexRebuilder:
    """Builds a new generation beside the live one and swaps it in when complete.

    ``rebuild_modelsearch_index`` (and its Wagtail alias ``update_index``) call ``start()``,
    feed the returned index every object, then call ``finish()``.
    """

    def __init__(self, index: WhooshIndex) -> None:
        self.index = index
        self.generation: str | None = None
        self.building: WhooshIndex | None = None

    def start(self) -> WhooshIndex:
        store = self.index.store
        with store.coordination_lock():
            store.remove_stale_generations(keep=set())
            self.generation = store.create_generation(Schema(**self.index.schema_fields()))
            store.start_rebuild(self.generation)
        self.building = WhooshIndex(
            self.index.backend,
            self.index.root_model,
            self.index.name,
            building_generation=self.generation,
        )
        return self.building

    def finish(self) -> None:
        assert self.building is not None and self.generation is not None
        self.building.finish_building()
        self.index.swap_in(self.generation)


# --- backend ------------------------------------------------------------------------


class QueuedWritesMixin:
    """Index writes straight to the index, or as a task on a queue after commit.

    Shared by the Whoosh and the PostgreSQL backends. The class needs ``write_queue``,
    ``options`` (what a worker needs to build the same backend, ``BACKEND`` included) and
    an index whose ``sync(model, pks)`` re-reads those objects from the database.
    """

    write_queue: str | None

    @property
    def options(self) -> dict[str, Any]:
        raise NotImplementedError

    def get_index_for_model(self, model: type[models.Model]) -> Any:
        raise NotImplementedError

    def add(self, obj: models.Model) -> None:
        if self.write_queue:
            self.enqueue_sync(type(obj), [obj.pk])
        else:
            super().add(obj)  # type: ignore[misc]

    def add_bulk(self, model: type[models.Model], obj_list: Any) -> None:
        if self.write_queue:
            self.enqueue_sync(model, [obj.pk for obj in obj_list])
        else:
            super().add_bulk(model, obj_list)  # type: ignore[misc]

    def delete(self, obj: models.Model) -> None:
        if self.write_queue:
            self.enqueue_sync(type(obj), [obj.pk])
        else:
            super().delete(obj)  # type: ignore[misc]

    def sync(self, model: type[models.Model], pks: list[Any]) -> None:
        """Re-read these objects from the database into the index, in this process."""
        if class_is_indexed(model) and pks:
            self.get_index_for_model(model).sync(model, pks)

    def sync_later(self, model: type[models.Model], pks: list[Any]) -> None:
        """:meth:`sync` via the queue when one is configured, else right away."""
        if self.write_queue:
            self.enqueue_sync(model, pks)
        else:
            self.sync(model, pks)

    def enqueue_sync(self, model: type[models.Model], pks: list[Any]) -> None:
        """Queue a :func:`cms.search.tasks.search_index_sync` once the transaction commits.

        The task carries keys, not objects, and reads the database when it runs; an
        update rolled back with its transaction is never queued.
        """
        from cms.search.tasks import search_index_sync

        label = _label(model)
        queue = self.write_queue
        options = self.options
        for start in range(0, len(pks), SYNC_CHUNK_SIZE):
            chunk = [str(pk) for pk in pks[start : start + SYNC_CHUNK_SIZE]]
            task_send_on_commit(
                search_index_sync,
                kwargs={"options": options, "model": label, "pks": chunk},
                queue=queue,
            )


class WhooshSearchBackend(QueuedWritesMixin, BaseSearchBackend):
    query_compiler_class = WhooshSearchQueryCompiler
    autocomplete_query_compiler_class = WhooshAutocompleteQueryCompiler
    results_class = WhooshSearchResults
    index_class = WhooshIndex
    rebuilder_class = WhooshIndexRebuilder
    # A local index that fails to write is a bug or a full disk: let it surface.
    catch_indexing_errors = False

    def __init__(self, params: dict[str, Any]) -> None:
        super().__init__(params)
        options = dict(params)
        options.pop("AUTO_UPDATE", None)
        options.pop("BACKEND", None)
        self.path = Path(options.pop("PATH", None) or settings.SEARCH_INDEX_DIR)
        self.index_prefix = str(options.pop("INDEX_PREFIX", ""))
        self.write_timeout = float(options.pop("WRITE_TIMEOUT", 30))
        self.write_queue: str | None = options.pop("WRITE_QUEUE", None)
        if options:
            raise ImproperlyConfigured(
                f"Unknown options for the Whoosh search backend: {', '.join(sorted(options))}"
            )

    @property
    def options(self) -> dict[str, Any]:
        """What a worker needs to build the same backend (without the queue)."""
        return {
            "BACKEND": "cms.search.backend",
            "PATH": str(self.path),
            "INDEX_PREFIX": self.index_prefix,
            "WRITE_TIMEOUT": self.write_timeout,
        }

    def get_index_for_model(self, model: type[models.Model]) -> WhooshIndex:
        root = get_model_root(model)
        name = f"{self.index_prefix}{root._meta.app_label.lower()}_{root.__name__.lower()}"
        return self.index_class(self, root, name)


SearchBackend = WhooshSearchBackend
