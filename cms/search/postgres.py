"""A django-modelsearch backend on PostgreSQL full-text search, for more than one web server.

Select it with ``SEARCH_BACKEND=postgres`` (config/settings/base.py), which configures::

    WAGTAILSEARCH_BACKENDS = {
        "default": {"BACKEND": "cms.search.postgres", "WRITE_QUEUE": "search"}
    }

Options: ``WRITE_QUEUE`` (a Celery queue name: writes become the ``cms.search.sync`` task,
enqueued after the transaction commits; ``None`` writes in the calling process) and
``WRITE_TIMEOUT`` (seconds a write waits for a row that a running rebuild holds, default 30;
then :class:`~cms.search.storage.IndexBusyError`, which the task retries).

It shares everything but storage with the Whoosh backend (docs/search.md):

- the text is analysed by :mod:`cms.search.analysis` exactly as for Whoosh (NFKC, rjieba
  words, sub-words at their parent word's position) and written as a ``tsvector`` literal,
  one lexeme ``<column>:<word>`` per word and column, with word positions and a weight
  label per column (A for the title's boost 2, C for boost 1, D for attachments' 0.5).
  PostgreSQL's parser and dictionaries never see the text, so nothing is stemmed or
  dropped and a phrase means the same on both backends;
- queries are compiled by the Whoosh backend's compiler (:mod:`cms.search.query`: every
  word required, pieces, quoted phrases, prefixes for autocomplete) and that query tree is
  translated to a ``tsquery`` (``&``, ``|``, ``!``, ``<->`` for adjacent words, ``:*``);
- filters, ordering and facets are the searched queryset's own, run by the database on
  the live rows, so moved, unpublished or re-permissioned pages need no re-indexing;
- ranking is ``ts_rank_cd`` (cover density, normalised by the log of the document length)
  with the weight labels above, so a title hit counts double a body hit.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable
from functools import cache
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.db import DEFAULT_DB_ALIAS, OperationalError, connections, models, transaction
from django.db.models import BooleanField, Count, F, FloatField, Func, QuerySet, TextField, Value
from django.db.models.functions import Cast
from modelsearch.backends.base import (
    BaseIndex,
    BaseSearchBackend,
    BaseSearchResults,
    get_model_root,
)
from modelsearch.index import class_is_indexed
from whoosh import query as wq

from cms.search.analysis import iter_word_tokens, normalize
from cms.search.backend import SYNC_CHUNK_SIZE, QueuedWritesMixin, collect_documents
from cms.search.mapping import KEY, ModelMapping, _index_models
from cms.search.results import (
    WhooshAutocompleteQueryCompiler,
    WhooshSearchQueryCompiler,
    facet_field,
    sliced_count,
)
from cms.search.storage import IndexBusyError

__all__ = ["PostgresSearchBackend", "SearchBackend", "document_vector", "tsquery_of"]

#: ``ts_rank_cd`` weights of the labels D, C, B, A: a column's boost divided by two.
RANK_WEIGHTS = "{0.25,0.5,0.75,1.0}"
#: Normalisation 1: the rank is divided by 1 + the logarithm of the document's length.
RANK_NORMALIZATION = 1
#: PostgreSQL keeps positions up to 16,383 and 256 positions per lexeme.
MAX_POSITION = 16_383
MAX_POSITIONS_PER_LEXEME = 256
#: A lexeme may have at most 2,047 bytes, a whole tsvector at most 1 MB.
MAX_LEXEME_BYTES = 2_046
MAX_VECTOR_BYTES = 900_000
#: PostgreSQL's error code for ``lock_timeout``.
LOCK_NOT_AVAILABLE = "55P03"


class _MatchAll:
    """The translation of a query that matches every indexed object."""

    def __repr__(self) -> str:
        return "MATCH_ALL"


MATCH_ALL = _MatchAll()
TsQuery = str | _MatchAll | None


def _label(model: type[models.Model]) -> str:
    return model._meta.label_lower


def weight_label(boost: float) -> str:
    """The tsvector weight label of a column with ``boost`` (see :data:`RANK_WEIGHTS`)."""
    if boost >= 2:
        return "A"
    if boost >= 1.5:
        return "B"
    if boost >= 1:
        return "C"
    return "D"


def quote_lexeme(lexeme: str) -> str:
    """A lexeme as tsvector and tsquery input spell it: quoted, ``'`` and ``\\`` escaped."""
    return "'" + lexeme.replace("\\", "\\\\").replace("'", "''") + "'"


@cache
def text_column_boosts(root: type[models.Model]) -> dict[str, float]:
    """Every text column of ``root``'s index with its boost (the highest any model gives)."""
    boosts: dict[str, float] = {}
    for model in _index_models(root) or (root,):
        for column in ModelMapping(model).columns():
            if column.role != "filter":
                boosts[column.name] = max(boosts.get(column.name, 0.0), column.boost)
    return boosts


def document_vector(document: dict[str, Any], boosts: dict[str, float]) -> str:
    """The tsvector literal for a document of :meth:`ModelMapping.document`.

    Each term of each text column becomes the lexeme ``column:term`` at its word position
    (plus one: tsvector positions start at 1) with the column's weight label. Terms too
    long for PostgreSQL, positions beyond its limit and lexemes past 1 MB are left out.
    """
    positions: dict[str, set[int]] = {}
    labels: dict[str, str] = {}
    size = 0
    for column, text in document.items():
        boost = boosts.get(column)
        if boost is None or not isinstance(text, str):
            continue
        label = weight_label(boost)
        for term, position, _, _ in iter_word_tokens(normalize(text).text, with_subwords=True):
            lexeme = f"{column}:{term.lower()}".replace("\x00", "")
            found = positions.get(lexeme)
            if found is None:
                lexeme_bytes = len(lexeme.encode())
                if lexeme_bytes > MAX_LEXEME_BYTES or size + lexeme_bytes > MAX_VECTOR_BYTES:
                    continue
                size += lexeme_bytes + 8
                found = positions[lexeme] = set()
                labels[lexeme] = label
            if len(found) < MAX_POSITIONS_PER_LEXEME:
                if position + 1 not in found:
                    size += 2
                found.add(min(position + 1, MAX_POSITION))
    return " ".join(
        quote_lexeme(lexeme)
        + ":"
        + ",".join(f"{position}{labels[lexeme]}" for position in sorted(found))
        for lexeme, found in positions.items()
    )


def tsquery_of(query: wq.Query) -> TsQuery:
    """Translate a query built by :mod:`cms.search.query` into ``tsquery`` text.

    ``None`` matches nothing (a query without words), :data:`MATCH_ALL` everything.
    """
    if query is wq.NullQuery or isinstance(query, type(wq.NullQuery)):
        return None
    if isinstance(query, wq.Every):
        return MATCH_ALL
    if isinstance(query, wq.Prefix):
        return quote_lexeme(f"{query.fieldname}:{query.text}") + ":*"
    if isinstance(query, wq.Term):
        return quote_lexeme(f"{query.fieldname}:{query.text}")
    if isinstance(query, wq.Phrase):
        return (
            "("
            + " <-> ".join(quote_lexeme(f"{query.fieldname}:{word}") for word in query.words)
            + ")"
        )
    if isinstance(query, wq.And):
        parts = [tsquery_of(sub) for sub in query.subqueries]
        if any(part is None for part in parts):
            return None
        texts = [part for part in parts if isinstance(part, str)]
        return "(" + " & ".join(texts) + ")" if texts else MATCH_ALL
    if isinstance(query, wq.Or):
        parts = [tsquery_of(sub) for sub in query.subqueries]
        if any(part is MATCH_ALL for part in parts):
            return MATCH_ALL
        texts = [part for part in parts if isinstance(part, str)]
        return "(" + " | ".join(texts) + ")" if texts else None
    if isinstance(query, wq.Not):
        inner = tsquery_of(query.query)
        if inner is None:
            return MATCH_ALL
        if inner is MATCH_ALL:
            return None
        return f"!{inner}"
    raise NotImplementedError(
        f"{type(query).__name__} queries are not supported by the PostgreSQL search backend."
    )


# --- SQL expressions -----------------------------------------------------------------


class _AsTsQuery(Func):
    template = "CAST(%(expressions)s AS tsquery)"


class _Matches(Func):
    """``vector @@ query``."""

    arg_joiner = " @@ "
    template = "(%(expressions)s)"
    output_field = BooleanField()

    def __init__(self, tsquery: str) -> None:
        super().__init__(F("vector"), _AsTsQuery(Value(tsquery)))


class _Rank(Func):
    template = f"ts_rank_cd('{RANK_WEIGHTS}'::real[], %(expressions)s, {RANK_NORMALIZATION})"
    output_field = FloatField()

    def __init__(self, tsquery: str) -> None:
        super().__init__(F("vector"), _AsTsQuery(Value(tsquery)))


def _entries() -> QuerySet[Any]:
    from cms.models import SearchEntry

    return SearchEntry.objects.all()


# --- queries and results -------------------------------------------------------------


class PostgresSearchQueryCompiler(WhooshSearchQueryCompiler):
    """The Whoosh backend's compiler (same words, pieces and phrases), read as a tsquery.

    Its filter translation runs only for ``check()``'s validation; the filters themselves
    are applied by the searched queryset in the database.
    """

    def tsquery(self) -> TsQuery:
        return tsquery_of(self.compile_query())


class PostgresAutocompleteQueryCompiler(PostgresSearchQueryCompiler):
    """Prefix matching on AutocompleteFields, like the Whoosh backend's autocomplete."""

    prefix_matching = True

    def text_columns(self) -> dict[str, float]:
        return WhooshAutocompleteQueryCompiler.text_columns(self)


class PostgresSearchResults(BaseSearchResults):
    """Matches are entries whose words match the query and whose object is in the queryset."""

    supports_facet = True

    def _entries(self) -> QuerySet[Any] | None:
        compiler = self.query_compiler
        tsquery = compiler.tsquery()
        if tsquery is None:
            return None
        queryset = compiler.queryset
        keys = (
            queryset.order_by()
            .annotate(_search_key=Cast("pk", output_field=TextField()))
            .values("_search_key")
        )
        entries = (
            _entries()
            .using(queryset.db)
            .filter(root=_label(get_model_root(queryset.model)), object_id__in=keys)
        )
        if isinstance(tsquery, str):
            entries = entries.filter(_Matches(tsquery)).annotate(rank=_Rank(tsquery))
        else:
            entries = entries.annotate(rank=Value(0.0, output_field=FloatField()))
        return entries

    def _matching_objects(self, entries: QuerySet[Any]) -> QuerySet[Any]:
        return self.query_compiler.queryset.annotate(
            _search_key=Cast("pk", output_field=TextField())
        ).filter(_search_key__in=entries.values("object_id"))

    def _do_search(self) -> list[models.Model]:
        if self.stop is not None and self.stop <= self.start:
            return []
        entries = self._entries()
        if entries is None:
            return []
        if not self.query_compiler.order_by_relevance:
            objects = self._matching_objects(entries)
            if not objects.ordered:
                objects = objects.order_by("pk")
            return list(objects[self.start : self.stop])
        hits = list(
            entries.order_by("-rank", "pk").values_list("object_id", "rank")[self.start : self.stop]
        )
        if not hits:
            return []
        keys = [key for key, _ in hits]
        found_objects = self.query_compiler.queryset.filter(pk__in=keys)
        objects = {str(obj.pk): obj for obj in found_objects}
        found = []
        for key, score in hits:
            obj = objects.get(key)
            if obj is None:
                continue
            if self._score_field:
                setattr(obj, self._score_field, score)
            found.append(obj)
        return found

    def _do_count(self) -> int:
        entries = self._entries()
        return sliced_count(0 if entries is None else entries.count(), self.start, self.stop)

    def facet(self, field_name: str) -> OrderedDict[Any, int]:
        """Counts per value of a FilterField over all matches, most frequent first."""
        facet_field(self.query_compiler, field_name)  # refuses a field that is not a FilterField
        entries = self._entries()
        if entries is None:
            return OrderedDict()
        rows = (
            self._matching_objects(entries)
            .order_by()
            .values(field_name)
            .annotate(count=Count("pk"))
            .values_list(field_name, "count")
        )
        return OrderedDict(sorted(rows, key=lambda item: (-item[1], str(item[0]))))


# --- writes --------------------------------------------------------------------------


class PostgresIndex(BaseIndex):
    """The entries of one root model (every page type shares ``wagtailcore.page``)."""

    def __init__(self, backend: PostgresSearchBackend, root_model: type[models.Model]) -> None:
        super().__init__(backend)
        self.root_model = root_model
        self.root = _label(root_model)
        self.write_timeout = backend.write_timeout

    def __str__(self) -> str:
        return self.root

    def get_key(self) -> str:
        return self.root

    def add_model(self, model: type[models.Model]) -> None:
        """One table holds every model; nothing to prepare."""

    def refresh(self) -> None:
        """Committed writes are visible to the next query."""

    def reset(self) -> None:
        _entries().filter(root=self.root).delete()

    def add_item(self, obj: models.Model) -> None:
        self.add_items(type(obj), [obj])

    def add_items(self, model: type[models.Model], items: Iterable[models.Model]) -> None:
        documents = [
            ModelMapping(type(item)).document(item)
            for item in items
            if class_is_indexed(type(item))
        ]
        if documents:
            self.write(documents, [])

    def delete_item(self, item: models.Model) -> None:
        self.write([], [str(item.pk)])

    def sync(self, model: type[models.Model], pks: list[Any]) -> None:
        """Make the entries agree with the database about these objects."""
        for start in range(0, len(pks), SYNC_CHUNK_SIZE):
            chunk = [str(pk) for pk in pks[start : start + SYNC_CHUNK_SIZE]]
            documents, deletes = collect_documents(model, chunk)
            self.write(documents, deletes)

    def write(self, documents: list[dict[str, Any]], deletes: list[str]) -> None:
        """Upsert ``documents`` and delete ``deletes`` (keys) in one transaction.

        A row that a running rebuild has rewritten stays locked until the rebuild commits;
        waiting longer than ``WRITE_TIMEOUT`` raises :class:`IndexBusyError` (the sync task
        retries it), and the write that waited lands after the rebuild, so it is not lost.
        """
        from cms.models import SearchEntry

        boosts = text_column_boosts(self.root_model)
        by_key = {
            document[KEY]: SearchEntry(
                root=self.root, object_id=document[KEY], vector=document_vector(document, boosts)
            )
            for document in documents
        }
        try:
            with transaction.atomic():
                connection = transaction.get_connection()
                if connection.vendor == "postgresql":
                    with connection.cursor() as cursor:
                        cursor.execute(
                            "SELECT set_config('lock_timeout', %s, true)",
                            [f"{int(self.write_timeout * 1000)}ms"],
                        )
                if by_key:
                    SearchEntry.objects.bulk_create(
                        list(by_key.values()),
                        update_conflicts=True,
                        unique_fields=["root", "object_id"],
                        update_fields=["vector"],
                    )
                if deletes:
                    SearchEntry.objects.filter(root=self.root, object_id__in=deletes).delete()
        except OperationalError as error:
            if getattr(error.__cause__, "sqlstate", None) == LOCK_NOT_AVAILABLE:
                raise IndexBusyError(
                    f"The search index of {self.root} is being rebuilt; waited "
                    f"{self.write_timeout:g} s for it."
                ) from error
            raise


class PostgresIndexRebuilder:
    """Rebuilds a root model's entries inside one transaction.

    Searches keep seeing the committed entries, old and complete, until the rebuild
    commits and they see the new ones: never a half-built index. Writers of objects the
    rebuild has touched wait for the commit (see :meth:`PostgresIndex.write`) and then
    apply their newer state on top.
    """

    def __init__(self, index: PostgresIndex) -> None:
        self.index = index
        self._transaction: Any = None

    def start(self) -> PostgresIndex:
        self._transaction = transaction.atomic()
        self._transaction.__enter__()
        try:
            _entries().filter(root=self.index.root).delete()
        except BaseException as error:
            self.abort(error)
            raise
        return self.index

    def finish(self) -> None:
        atomic, self._transaction = self._transaction, None
        atomic.__exit__(None, None, None)
        # Fresh statistics, or the planner takes the rebuilt table for an empty one and
        # joins it with the searched pages row by row (seconds instead of milliseconds).
        connection = transaction.get_connection()
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE cms_searchentry")

    def abort(self, error: BaseException | None = None) -> None:
        """Roll the rebuild back; the entries stay as they were."""
        atomic, self._transaction = self._transaction, None
        if atomic is not None:
            error = error or RuntimeError("rebuild abandoned")
            atomic.__exit__(type(error), error, error.__traceback__)


class PostgresSearchBackend(QueuedWritesMixin, BaseSearchBackend):
    query_compiler_class = PostgresSearchQueryCompiler
    autocomplete_query_compiler_class = PostgresAutocompleteQueryCompiler
    results_class = PostgresSearchResults
    index_class = PostgresIndex
    rebuilder_class = PostgresIndexRebuilder
    # A failed write is a bug or a database outage: let it surface (the task retries).
    catch_indexing_errors = False

    def __init__(self, params: dict[str, Any]) -> None:
        super().__init__(params)
        options = dict(params)
        options.pop("AUTO_UPDATE", None)
        options.pop("BACKEND", None)
        self.write_timeout = float(options.pop("WRITE_TIMEOUT", 30))
        self.write_queue: str | None = options.pop("WRITE_QUEUE", None)
        if options:
            raise ImproperlyConfigured(
                f"Unknown options for the PostgreSQL search backend: {', '.join(sorted(options))}"
            )
        if connections[DEFAULT_DB_ALIAS].vendor != "postgresql":
            raise ImproperlyConfigured(
                "The PostgreSQL search backend needs a PostgreSQL database (DATABASE_URL)."
            )

    @property
    def options(self) -> dict[str, Any]:
        """What a worker needs to build the same backend (without the queue)."""
        return {"BACKEND": "cms.search.postgres", "WRITE_TIMEOUT": self.write_timeout}

    def get_index_for_model(self, model: type[models.Model]) -> PostgresIndex:
        return self.index_class(self, get_model_root(model))


SearchBackend = PostgresSearchBackend
