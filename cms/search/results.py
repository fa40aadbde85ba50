"""Searching the Whoosh index: Django filters and the query compiled to Whoosh queries, and the
results (hits in score or field order, counts, facets) that the Wagtail search API returns."""

from __future__ import annotations

from collections import OrderedDict
from typing import TYPE_CHECKING, Any

from django.db import DEFAULT_DB_ALIAS, models
from django.db.models import Subquery
from django.db.models.sql import Query
from django.db.models.sql.constants import MULTI, SINGLE
from modelsearch.backends.base import (
    BaseSearchQueryCompiler,
    BaseSearchResults,
    FilterFieldError,
    get_model_root,
)
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
from whoosh.searching import Searcher

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
    cached_searcher,
    filter_documents,
)

if TYPE_CHECKING:
    from cms.search.backend import WhooshIndex


def facet_field(query_compiler: Any, field_name: str) -> Any:
    """The FilterField a facet counts by; a clear error when the model has none of that name."""
    field = query_compiler._get_filterable_field(field_name)
    if field is None:
        raise FilterFieldError(
            f'Cannot facet search results with field "{field_name}". Please add '
            f'index.FilterField("{field_name}") to '
            f"{query_compiler.queryset.model.__name__}.search_fields.",
            field_name=field_name,
        )
    return field


def sliced_count(total: int, start: int, stop: int | None) -> int:
    """How many of ``total`` matches fall in the results' slice ``[start:stop]``."""
    total -= start
    if stop is not None:
        total = min(total, stop - start)
    return max(total, 0)


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
        return sliced_count(self._matching_count(), self.start, self.stop)

    def facet(self, field_name: str) -> OrderedDict[Any, int]:
        """Counts per value of a FilterField over all matches, most frequent first."""
        field = facet_field(self.query_compiler, field_name)
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
