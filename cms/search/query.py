"""Translate modelsearch queries and queryset filters into Whoosh queries.

User text is never handed to Whoosh's query parser: it is segmented by
:func:`cms.search.analysis.query_words` and the compiler builds ``Term``/``Phrase`` objects
itself, so Lucene-looking input (``AND OR (``, ``title:``) is just text and cannot raise.

For every query word ``w`` with pieces ``p1 … pn`` (see :class:`~cms.search.analysis.QueryWord`)
a field matches ``w OR (p1 AND … AND pn)``, the second half with half the weight. Several
words combine with the requested operator (AND by default, like Wagtail's database
backends: a Chinese query without spaces is usually one idea that the segmenter cut into
words).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from whoosh import query as wq
from whoosh.matching import ListMatcher, NullMatcher
from whoosh.searching import Searcher

from cms.search.analysis import QueryWord, query_words

#: A word found only through its pieces counts this much of a whole-word match.
PIECES_WEIGHT = 0.5
#: ``in`` lookups with more values than this scan a column instead of OR-ing terms.
LARGE_IN_THRESHOLD = 64


def word_query(column: str, word: QueryWord, boost: float, *, prefix: bool = False) -> wq.Query:
    """One word in one column: the word itself, or all of its pieces."""
    if prefix:
        return wq.Prefix(column, word.text, boost=boost)
    whole = wq.Term(column, word.text, boost=boost)
    if not word.pieces:
        return whole
    pieces = wq.And([wq.Term(column, piece) for piece in word.pieces], boost=boost * PIECES_WEIGHT)
    return wq.Or([whole, pieces])


def phrase_query(column: str, words: list[QueryWord], boost: float) -> wq.Query:
    """The words at consecutive positions in ``column`` (a single word needs no positions)."""
    texts = [word.text for word in words]
    if len(texts) == 1:
        return wq.Term(column, texts[0], boost=boost)
    return wq.Phrase(column, texts, boost=boost)


def across_columns(columns: dict[str, float], build: Callable[[str, float], wq.Query]) -> wq.Query:
    """``build(column, boost)`` for each column, ORed: a match in any field counts."""
    if not columns:
        return wq.NullQuery
    parts = [build(column, boost) for column, boost in columns.items()]
    return parts[0] if len(parts) == 1 else wq.Or(parts)


def plain_text_query(
    text: str,
    columns: dict[str, float],
    *,
    operator: str,
    boost: float = 1.0,
    prefix: bool = False,
) -> wq.Query:
    """The words of ``text`` in any of ``columns``, combined with ``operator``."""
    words = query_words(text)
    if not words or not columns:
        return wq.NullQuery
    per_word = [
        across_columns(
            columns,
            lambda column, weight, word=word: word_query(
                column, word, weight * boost, prefix=prefix
            ),
        )
        for word in words
    ]
    if len(per_word) == 1:
        return per_word[0]
    if operator == "or":
        return wq.Or(per_word)
    return wq.And(per_word)


def phrase_text_query(text: str, columns: dict[str, float]) -> wq.Query:
    """The words of ``text`` next to each other, in that order, in one of ``columns``."""
    words = query_words(text, distinct=False)
    if not words or not columns:
        return wq.NullQuery
    return across_columns(columns, lambda column, weight: phrase_query(column, words, weight))


class ColumnInQuery(wq.Query):
    """Documents whose single-valued column holds one of many values.

    Wagtail's admin filters page searches with ``pk__in=<every page the user may see>``:
    thousands of values. OR-ing thousands of ``Term`` queries builds thousands of
    matchers; scanning the column once per segment is a few milliseconds for 10,000 pages.
    """

    def __init__(self, fieldname: str, values: Iterable[Any]) -> None:
        self.fieldname = fieldname
        self.values = frozenset(values)
        self.boost = 1.0

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, ColumnInQuery)
            and other.fieldname == self.fieldname
            and other.values == self.values
        )

    def __hash__(self) -> int:
        return hash((ColumnInQuery, self.fieldname, self.values))

    def __repr__(self) -> str:
        return f"ColumnInQuery({self.fieldname!r}, <{len(self.values)} values>)"

    def estimate_size(self, ixreader: Any) -> int:
        return min(len(self.values), ixreader.doc_count_all())

    def matcher(self, searcher: Searcher, context: Any = None) -> Any:
        reader = searcher.reader()
        if not reader.has_column(self.fieldname):
            return NullMatcher()
        column = reader.column_reader(self.fieldname)
        values = self.values
        has_deletions = reader.has_deletions()
        ids = [
            docnum
            for docnum, value in enumerate(column)
            if value in values and not (has_deletions and reader.is_deleted(docnum))
        ]
        if not ids:
            return NullMatcher()
        return ListMatcher(ids, all_weights=1.0)
