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
from collections import OrderedDict, defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import DEFAULT_DB_ALIAS, models, transaction
from django.db.models import Subquery
from django.db.models.sql import Query
from django.db.models.sql.constants import MULTI, SINGLE
from modelsearch.backends.base import (
    BaseIndex,
    BaseSearchBackend,
    BaseSearchQueryCompiler,
    BaseSearchResults,
    FilterFieldError,
    get_model_root,
)
from modelsearch.index import class_is_indexed
from modelsearch.query import (
    And,
    Boost,
    Fuzzy,
    MatchAll,
    Not,
    Or,
    Phrase,
    PlainText,
    SearchQuery,
)
from whoosh import query as wq
from whoosh import sorting
from whoosh.fields import Schema
from whoosh.searching import Searcher
from whoosh.writing import SegmentWriter

from cms.search.evaluate import Evaluation, evaluate, facet_counts
from cms.search.mapping import (
    CONTENT_TYPES,
    KEY,
    NULLS,
    ORDER,
    ModelMapping,
    encode_filter_value,
    schema_fields,
)
from cms.search.query import (
    LARGE_IN_THRESHOLD,
    ColumnInQuery,
    phrase_text_query,
    plain_text_query,
)
from cms.search.storage import (
    IndexBusyError,
    IndexStore,
    add_missing_fields,
    cached_searcher,
    filter_documents,
)

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


# --- queries ------------------------------------------------------------------------


class WhooshSearchQueryCompiler(BaseSearchQueryCompiler):
    """Turns a modelsearch query plus queryset filters into (Whoosh query, Whoosh filter)."""

    DEFAULT_OPERATOR = "and"
    prefix_matching = False

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.mapping = ModelMapping(self.queryset.model)

    def text_columns(self) -> dict[str, float]:
        return self.mapping.search_columns(self.fields)

    # modelsearch query objects -> Whoosh queries

    def compile_query(self, search_query: SearchQuery | None = None) -> wq.Query:
        search_query = self.query if search_query is None else search_query
        columns = self.text_columns()
        if isinstance(search_query, MatchAll):
            return wq.Every()
        if isinstance(search_query, PlainText):
            return plain_text_query(
                search_query.query_string,
                columns,
                operator=search_query.operator,
                boost=search_query.boost,
                prefix=self.prefix_matching,
            )
        if isinstance(search_query, Fuzzy):
            # Edit distance means little for Chinese words; treat it as plain text.
            return plain_text_query(
                search_query.query_string,
                columns,
                operator=search_query.operator,
                prefix=self.prefix_matching,
            )
        if isinstance(search_query, Phrase):
            return phrase_text_query(search_query.query_string, columns)
        if isinstance(search_query, Boost):
            return self.compile_query(search_query.subquery).with_boost(search_query.boost)
        if isinstance(search_query, And):
            return wq.And([self.compile_query(sub) for sub in search_query.subqueries])
        if isinstance(search_query, Or):
            return wq.Or([self.compile_query(sub) for sub in search_query.subqueries])
        if isinstance(search_query, Not):
            return wq.Not(self.compile_query(search_query.subquery))
        raise NotImplementedError(
            f"{type(search_query).__name__} queries are not supported by the Whoosh backend."
        )

    def compile_filter(self) -> wq.Query:
        """Content type restriction plus the queryset's own filters, as a Whoosh query."""
        content_type = wq.Term(CONTENT_TYPES, self.queryset.model._meta.label_lower)
        filters = self._get_filters_from_queryset()
        if filters is None:
            return content_type
        return wq.And([content_type, filters])

    def sort_facets(self) -> list[sorting.FacetType] | None:
        """``None`` for relevance order, otherwise Whoosh facets for the queryset's order."""
        if self.order_by_relevance:
            return None
        facets = []
        for reverse, field in self._get_order_by():
            column = self.mapping.filter_column([field])
            facets.append(sorting.FieldFacet(column.name, reverse=reverse))
        if not facets:
            facets.append(sorting.FieldFacet(ORDER if self._has_order_column() else KEY))
        return facets

    def _has_order_column(self) -> bool:
        return ORDER in schema_fields(get_model_root(self.queryset.model))

    # BaseSearchQueryCompiler hooks for filters

    def _process_lookup(self, field_path: list[Any], lookup: str, value: Any) -> wq.Query | None:
        column = self.mapping.filter_column(field_path)
        name, kind = column.name, column.kind
        value = self._resolve(lookup, value)
        if lookup == "exact":
            if value is None:
                return wq.Term(NULLS, name)
            return self._equals(name, kind, value)
        if lookup == "isnull":
            return wq.Term(NULLS, name) if value else wq.Not(wq.Term(NULLS, name))
        if lookup == "in":
            values = [item for item in value if item is not None]
            if len(values) > LARGE_IN_THRESHOLD and not column.multi:
                encoded = {self._encode(kind, item) for item in values}
                return ColumnInQuery(name, encoded)
            queries = [self._equals(name, kind, item) for item in values]
            if len(values) < len(value):
                queries.append(wq.Term(NULLS, name))
            return wq.Or(queries) if queries else wq.NullQuery
        if lookup in {"startswith", "prefix"}:
            return wq.Prefix(name, str(value))
        if lookup in {"gt", "gte", "lt", "lte"}:
            lower = value if lookup in {"gt", "gte"} else None
            upper = value if lookup in {"lt", "lte"} else None
            return self._range(name, kind, lower, upper, lookup == "gt", lookup == "lt")
        if lookup == "range":
            lower, upper = value
            return self._range(name, kind, lower, upper, False, False)
        return None

    def _process_match_none(self) -> wq.Query:
        return wq.NullQuery

    def _connect_filters(self, filters: list[Any], connector: str, negated: bool) -> Any:
        filters = [item for item in filters if item is not None]
        if not filters:
            return None
        combined = filters[0] if len(filters) == 1 else None
        if combined is None:
            combined = wq.And(filters) if connector == "AND" else wq.Or(filters)
        return wq.Not(combined) if negated else combined

    def _resolve(self, lookup: str, value: Any) -> Any:
        """Evaluate subqueries (``pk__in=other_queryset``) in the database, as ES does."""
        if not isinstance(value, Query | Subquery):
            if lookup == "in" and not isinstance(value, list):
                return list(value)
            return value
        db_alias = self.queryset._db or DEFAULT_DB_ALIAS
        inner = value.query if isinstance(value, Subquery) else value
        compiler = inner.get_compiler(db_alias)
        if lookup == "in":
            rows = compiler.execute_sql(result_type=MULTI)
            return [row[0] for chunk in rows for row in chunk] if rows else []
        row = compiler.execute_sql(result_type=SINGLE)
        return row[0] if row else None

    @staticmethod
    def _encode(kind: str, value: Any) -> Any:
        return encode_filter_value(kind, value)

    def _equals(self, name: str, kind: str, value: Any) -> wq.Query:
        return wq.Term(name, self._encode(kind, value))

    def _range(
        self,
        name: str,
        kind: str,
        lower: Any,
        upper: Any,
        lower_exclusive: bool,
        upper_exclusive: bool,
    ) -> wq.Query:
        lower = self._encode(kind, lower)
        upper = self._encode(kind, upper)
        if kind == "datetime":
            return wq.DateRange(name, lower, upper, lower_exclusive, upper_exclusive)
        if kind in {"int", "float"}:
            return wq.NumericRange(name, lower, upper, lower_exclusive, upper_exclusive)
        return wq.TermRange(name, lower, upper, lower_exclusive, upper_exclusive)


class WhooshAutocompleteQueryCompiler(WhooshSearchQueryCompiler):
    """Prefix matching on AutocompleteFields, for as-you-type search in the admin.

    Each word of the input matches words that start with it, so ``从严治`` (segmented as
    ``从严`` ``治``) finds ``从严治党`` through its ``从严`` and ``治党`` words.
    """

    prefix_matching = True

    def text_columns(self) -> dict[str, float]:
        return self.mapping.autocomplete_columns(self.fields)


class WhooshSearchResults(BaseSearchResults):
    """Runs the compiled query on the cached searcher and loads the hits from the database.

    Relevance-ordered searches, counts and facets go through :mod:`cms.search.evaluate`
    (term at a time, postings cached per searcher); sorting by a field and query shapes
    that module does not know go through Whoosh's own collectors.
    """

    supports_facet = True

    def _index(self) -> WhooshIndex:
        return self.backend.get_index_for_model(self.query_compiler.queryset.model)

    def _searcher_and_filter(self) -> tuple[Searcher, set[int]] | None:
        searcher = cached_searcher(self._index().store)
        if searcher is None:
            return None
        allowed = filter_documents(searcher, self.query_compiler.compile_filter())
        if not allowed:
            return None  # Whoosh would read an empty filter set as "no filter"
        return searcher, allowed

    def _run(self, **options: Any) -> Any:
        found = self._searcher_and_filter()
        if found is None:
            return None
        searcher, allowed = found
        return searcher.search(self.query_compiler.compile_query(), filter=allowed, **options)

    def _evaluate(self, limit: int | None) -> tuple[Searcher, Evaluation] | None:
        """The evaluation of a relevance-ordered search, or ``None`` if Whoosh must run it."""
        if self.query_compiler.sort_facets() is not None:
            return None
        found = self._searcher_and_filter()
        if found is None:
            return None
        searcher, allowed = found
        evaluation = evaluate(searcher, self.query_compiler.compile_query(), allowed, limit)
        return None if evaluation is None else (searcher, evaluation)

    def _hits(self) -> list[tuple[str, float]]:
        """(key, score) of the documents from ``start`` to ``stop``, in result order."""
        evaluated = self._evaluate(self.stop)
        if evaluated is not None:
            searcher, evaluation = evaluated
            return [
                (searcher.stored_fields(docnum)[KEY], score)
                for score, docnum in evaluation.hits[self.start : self.stop]
            ]
        results = self._run(limit=self.stop, sortedby=self.query_compiler.sort_facets())
        if results is None:
            return []
        return [(hit[KEY], hit.score) for hit in results[self.start : self.stop]]

    def _do_search(self) -> list[models.Model]:
        if self.stop is not None and self.stop <= self.start:
            return []
        hits = self._hits()
        if not hits:
            return []
        keys = [key for key, _ in hits]
        objects = {str(obj.pk): obj for obj in self.query_compiler.queryset.filter(pk__in=keys)}
        found = []
        for key, score in hits:
            obj = objects.get(key)
            if obj is None:
                continue  # deleted or filtered out since it was indexed
            if self._score_field:
                setattr(obj, self._score_field, score)
            found.append(obj)
        return found

    def _matching_count(self) -> int:
        evaluated = self._evaluate(0)
        if evaluated is not None:
            return evaluated[1].total
        results = self._run(limit=None, scored=False)
        return 0 if results is None else len(results)

    def _do_count(self) -> int:
        total = self._matching_count() - self.start
        if self.stop is not None:
            total = min(total, self.stop - self.start)
        return max(total, 0)

    def facet(self, field_name: str) -> OrderedDict[Any, int]:
        """Counts per value of a FilterField over all matches, most frequent first."""
        field = self.query_compiler._get_filterable_field(field_name)
        if field is None:
            raise FilterFieldError(
                f'Cannot facet search results with field "{field_name}". Please add '
                f'index.FilterField("{field_name}") to '
                f"{self.query_compiler.queryset.model.__name__}.search_fields.",
                field_name=field_name,
            )
        column = self.query_compiler.mapping.filter_column([field]).name
        facet = sorting.FieldFacet(column, maptype=sorting.Count)
        counts: dict[Any, int] | None = None
        evaluated = self._evaluate(0)
        if evaluated is not None:
            searcher, evaluation = evaluated
            counts = facet_counts(searcher, facet, evaluation.matches)
        if counts is None:
            results = self._run(limit=1, scored=False, groupedby={"facet": facet})
            counts = {} if results is None else results.groups("facet")
        return OrderedDict(sorted(counts.items(), key=lambda item: (-item[1], str(item[0]))))


# --- backend ------------------------------------------------------------------------


class WhooshSearchBackend(BaseSearchBackend):
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
            "PATH": str(self.path),
            "INDEX_PREFIX": self.index_prefix,
            "WRITE_TIMEOUT": self.write_timeout,
        }

    def get_index_for_model(self, model: type[models.Model]) -> WhooshIndex:
        root = get_model_root(model)
        name = f"{self.index_prefix}{root._meta.app_label.lower()}_{root.__name__.lower()}"
        return self.index_class(self, root, name)

    # Writes: straight to the index, or as a task on the single-writer queue.

    def add(self, obj: models.Model) -> None:
        if self.write_queue:
            self.enqueue_sync(type(obj), [obj.pk])
        else:
            super().add(obj)

    def add_bulk(self, model: type[models.Model], obj_list: Any) -> None:
        if self.write_queue:
            self.enqueue_sync(model, [obj.pk for obj in obj_list])
        else:
            super().add_bulk(model, obj_list)

    def delete(self, obj: models.Model) -> None:
        if self.write_queue:
            self.enqueue_sync(type(obj), [obj.pk])
        else:
            super().delete(obj)

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

            def send(chunk: list[str] = chunk) -> None:
                search_index_sync.apply_async(
                    kwargs={"options": options, "model": label, "pks": chunk}, queue=queue
                )

            transaction.on_commit(send, robust=True)


SearchBackend = WhooshSearchBackend
