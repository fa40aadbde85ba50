"""Term-at-a-time evaluation of the queries :mod:`cms.search.query` builds.

Whoosh evaluates a query one document at a time through a tree of Python matcher objects
(``is_active``/``id``/``skip_to``/``score`` per document and per tree level), and it
decodes every posting block it visits, positions included (a pickled, zlib-compressed
block per 128 postings). A word found in most of 10,000 pages therefore costs tens of
milliseconds per query and field; ``党员 教育 管理`` took 200–400 ms, nearly all of it in
that walk (see docs/search.md for the profile). Its shortcuts for the top 10 (skipping
blocks, dropping sub-queries that seem unable to reach the top) also lose documents:
on the benchmark corpus its top 10 missed better-scoring pages in several queries.

This module computes the exact result differently:

- Each (field, term) posting list is read once per searcher into a ``{docnum: score}``
  dict with the searcher's own weighting (BM25F, same formula and statistics, so the same
  scores). A searcher is a fixed snapshot of the index, so the dicts stay right until the
  index changes and :func:`cms.search.storage.cached_searcher` opens a new searcher, which
  starts with an empty cache. The cache is a bounded LRU per searcher
  (:data:`POSTINGS_CACHE_LIMIT` postings).
- ``And``/``Or`` combine those dicts with set operations and add the scores, as Whoosh's
  intersection/union matchers do; a boost multiplies, as Whoosh's wrapping matcher does.
  A union (a word across the searched columns) is cached like a posting list.
  ``Phrase`` intersects its words and keeps the documents where they stand at consecutive
  positions; it scores like Whoosh (the sum of its words' scores).
- The best ``limit`` come from the documents the filter allows, ties broken like Whoosh's
  top collector; the count of all matches is a by-product.

Anything else (``Not``, ``Prefix``, ``Every``, sorting by a field, custom queries) is not
handled here: :func:`evaluate` returns ``None`` and the caller asks Whoosh.
"""

from __future__ import annotations

import heapq
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from whoosh import query as wq
from whoosh import sorting
from whoosh.codec.whoosh3 import W3LeafMatcher
from whoosh.matching.wrappers import FilterMatcher
from whoosh.scoring import BM25FScorer, bm25
from whoosh.searching import Searcher

#: Postings (documents of all cached term lists together) kept per searcher. A dict entry
#: costs about 100 bytes, so this bounds the cache near 60 MB per searcher.
POSTINGS_CACHE_LIMIT = 600_000

Scores = dict[int, float]


class UnsupportedQueryError(Exception):
    """The query has a part this module does not evaluate; Whoosh must do it."""


@dataclass
class Evaluation:
    """Documents that match and are allowed by the filter, best first, and their number."""

    hits: list[tuple[float, int]]  # (score, docnum), best first, at most the limit
    total: int
    #: Every allowed match with its score (for counting and facets). It may be a dict the
    #: searcher's cache holds: read it, never change it.
    matches: Scores


class _PostingsCache:
    """``{docnum: score}`` (and raw position values) per (field, term), for one searcher."""

    def __init__(self, limit: int = POSTINGS_CACHE_LIMIT) -> None:
        self.limit = limit
        self.size = 0
        self.entries: OrderedDict[tuple[Any, ...], Any] = OrderedDict()

    def get(self, key: tuple[Any, ...]) -> Any:
        found = self.entries.get(key)
        if found is not None:
            self.entries.move_to_end(key)
        return found

    def put(self, key: tuple[Any, ...], value: Any, size: int) -> None:
        if size > self.limit:
            return  # larger than the whole cache: use it once, keep nothing
        self.entries[key] = (value, size)
        self.size += size
        while self.size > self.limit:
            _, (_, evicted) = self.entries.popitem(last=False)
            self.size -= evicted


# Searchers are cached per thread (see storage.cached_searcher) and never shared, so the
# postings cache hangs off the searcher object and dies with it.
_CACHE_ATTRIBUTE = "_cms_postings_cache"


def _cache(searcher: Searcher) -> _PostingsCache:
    cache = getattr(searcher, _CACHE_ATTRIBUTE, None)
    if cache is None:
        cache = _PostingsCache()
        setattr(searcher, _CACHE_ATTRIBUTE, cache)
    return cache


def _term_bytes(searcher: Searcher, fieldname: str, text: Any) -> bytes | None:
    if fieldname not in searcher.schema:
        return None
    try:
        return searcher.schema[fieldname].to_bytes(text)
    except ValueError:
        return None


def term_scores(searcher: Searcher, fieldname: str, text: Any) -> Scores:
    """Every live document holding ``text`` in ``fieldname``, with Whoosh's score for it."""
    btext = _term_bytes(searcher, fieldname, text)
    if btext is None:
        return {}
    cache = _cache(searcher)
    key = ("scores", fieldname, btext)
    cached = cache.get(key)
    if cached is not None:
        return cached[0]
    scores: Scores = {}
    for leaf, offset in searcher.leaf_searchers():
        if (fieldname, btext) in leaf.reader():
            scores.update(_leaf_term_scores(searcher, leaf, offset, fieldname, btext))
    cache.put(key, scores, len(scores) or 1)
    return scores


def _leaf_term_scores(
    searcher: Searcher, leaf: Searcher, offset: int, fieldname: str, btext: bytes
) -> Scores:
    """One segment's postings of a term, scored exactly as Whoosh's Term matcher scores.

    The common case (BM25F, Whoosh's own posting format) reads whole blocks of document
    numbers and term frequencies and computes BM25 in one comprehension with the field
    lengths cached per searcher: about twice as fast as stepping a matcher per posting.
    Anything else steps the matcher and asks its scorer, which is always right.
    """
    reader = leaf.reader()
    scorer = searcher.weighting.scorer(leaf, fieldname, btext)
    matcher = reader.postings(fieldname, btext)
    while isinstance(matcher, FilterMatcher):  # the deleted-documents wrapper
        matcher = matcher.child
    if type(scorer) is BM25FScorer and isinstance(matcher, W3LeafMatcher):
        ids, weights = _block_postings(matcher)
        lengths = _field_lengths(searcher, leaf, offset, fieldname)
        idf, avgfl, b, k1 = scorer.idf, scorer.avgfl, scorer.B, scorer.K1
        scores = {
            offset + docnum: bm25(idf, weight, lengths[docnum], avgfl, b, k1)
            for docnum, weight in zip(ids, weights, strict=True)
        }
        if reader.has_deletions():
            is_deleted = reader.is_deleted
            scores = {docnum: s for docnum, s in scores.items() if not is_deleted(docnum - offset)}
        return scores
    scored = leaf.postings(fieldname, btext, weighting=searcher.weighting)
    scores = {}
    score = scored.score
    while scored.is_active():
        scores[offset + scored.id()] = score()
        scored.next()
    return scores


def _block_postings(matcher: W3LeafMatcher) -> tuple[list[int], list[float]]:
    """All document numbers and weights of a posting list, a decoded block at a time.

    Whoosh has no public per-block API; these are W3LeafMatcher's own block readers
    (Whoosh-Reloaded is pinned and unmaintained, so they will not move). The type check
    in the caller keeps any other posting format on the public, per-posting path.
    """
    ids: list[int] = []
    weights: list[float] = []
    while matcher.is_active():
        matcher._read_ids()
        matcher._read_weights()
        ids.extend(matcher._ids)
        weights.extend(matcher._weights)
        matcher._next_block()
    return ids, weights


def _field_lengths(searcher: Searcher, leaf: Searcher, offset: int, fieldname: str) -> list[int]:
    """Every document's length of ``fieldname`` in one segment, as BM25F reads it."""
    cache = _cache(searcher)
    key = ("lengths", offset, fieldname)
    cached = cache.get(key)
    if cached is not None:
        return cached[0]
    length = leaf.reader().doc_field_length
    lengths = [length(docnum, fieldname, 1) for docnum in range(leaf.doc_count_all())]
    cache.put(key, lengths, len(lengths) // 8 or 1)  # a list of small ints is compact
    return lengths


def term_positions(searcher: Searcher, fieldname: str, btext: bytes) -> dict[int, tuple[int, ...]]:
    """The positions of one term in each live document (read when a phrase asks)."""
    cache = _cache(searcher)
    key = ("positions", fieldname, btext)
    cached = cache.get(key)
    if cached is not None:
        return cached[0]
    positions: dict[int, tuple[int, ...]] = {}
    size = 0
    for leaf, offset in searcher.leaf_searchers():
        if (fieldname, btext) not in leaf.reader():
            continue
        matcher = leaf.postings(fieldname, btext)
        # value_as, not matcher.format: a segment with deleted documents wraps its
        # postings in a FilterMatcher, which has no format but passes value_as on.
        while matcher.is_active():
            found = tuple(matcher.value_as("positions"))
            positions[offset + matcher.id()] = found
            size += 1 + len(found)
            matcher.next()
    cache.put(key, positions, size or 1)
    return positions


def _boosted(scores: Scores, boost: float) -> Scores:
    if boost == 1.0:
        return scores
    return {docnum: score * boost for docnum, score in scores.items()}


def _intersection(parts: list[Scores]) -> Scores:
    if not parts or any(not part for part in parts):
        return {}
    if len(parts) == 1:
        return parts[0]
    parts = sorted(parts, key=len)
    first, second = parts[0], parts[1]
    common = first.keys() & second.keys()
    for part in parts[2:]:
        common &= part.keys()
    combined = {docnum: first[docnum] + second[docnum] for docnum in common}
    for part in parts[2:]:
        combined = {docnum: score + part[docnum] for docnum, score in combined.items()}
    return combined


def _union(parts: list[Scores]) -> Scores:
    parts = [part for part in parts if part]
    if not parts:
        return {}
    if len(parts) == 1:
        return parts[0]
    parts.sort(key=len, reverse=True)
    combined = dict(parts[0])
    for part in parts[1:]:
        get = combined.get
        combined.update({docnum: get(docnum, 0.0) + score for docnum, score in part.items()})
    return combined


def _phrase(searcher: Searcher, phrase: wq.Phrase) -> Scores:
    """Documents where the words stand at consecutive positions, in order."""
    fieldname = phrase.fieldname
    if phrase.slop != 1 or fieldname not in searcher.schema:
        raise UnsupportedQueryError(phrase)
    field = searcher.schema[fieldname]
    if not field.format or not field.format.supports("positions"):
        raise UnsupportedQueryError(phrase)
    words = [_term_bytes(searcher, fieldname, word) for word in phrase.words]
    if any(word is None for word in words):
        return {}
    candidates = _intersection([term_scores(searcher, fieldname, word) for word in words])
    if not candidates or len(words) == 1:
        return _boosted(candidates, phrase.boost)
    # Positions where the phrase could start: those of the first word, narrowed by
    # each following word standing ``index`` positions later.
    positions = [term_positions(searcher, fieldname, word) for word in words]  # type: ignore[arg-type]
    found: Scores = {}
    for docnum, score in candidates.items():
        starts = set(positions[0][docnum])
        for index in range(1, len(words)):
            starts.intersection_update([position - index for position in positions[index][docnum]])
            if not starts:
                break
        if starts:
            found[docnum] = score * phrase.boost
    return found


def _evaluate(searcher: Searcher, node: wq.Query) -> Scores:
    if node is wq.NullQuery:
        return {}
    if type(node) is wq.Term:
        return _boosted(term_scores(searcher, node.fieldname, node.text), node.boost)
    if type(node) is wq.And:
        scores = _intersection([_evaluate(searcher, sub) for sub in node.subqueries])
        return _boosted(scores, node.boost)
    if type(node) is wq.Or and not node.minmatch and node.scale is None:
        return _cached_union(searcher, node)
    if type(node) is wq.Phrase:
        return _phrase(searcher, node)
    raise UnsupportedQueryError(node)


def _cached_union(searcher: Searcher, node: wq.Or) -> Scores:
    """A union, remembered for this searcher.

    A word is an ``Or`` over the searched columns (and its pieces); merging those lists is
    most of a query's work once the postings are cached, and every query with the word
    repeats it. Queries are hashable values, so the union is cached like a posting list.
    """
    cache = _cache(searcher)
    key = ("union", node)
    cached = cache.get(key)
    if cached is not None:
        return cached[0]
    scores = _boosted(_union([_evaluate(searcher, sub) for sub in node.subqueries]), node.boost)
    cache.put(key, scores, len(scores) or 1)
    return scores


def evaluate(
    searcher: Searcher, query: wq.Query, allowed: Iterable[int], limit: int | None
) -> Evaluation | None:
    """The best ``limit`` allowed matches of ``query`` (all with ``None``), or ``None`` when
    the query has a shape only Whoosh evaluates.

    Ties are broken like Whoosh's top collector: the lower document number first.
    """
    try:
        scores = _evaluate(searcher, query)
    except UnsupportedQueryError:
        return None
    allowed_set = allowed if isinstance(allowed, set | frozenset) else set(allowed)
    if scores.keys() <= allowed_set:
        matches = scores  # the usual case: the filter keeps every match
    else:
        matches = {docnum: scores[docnum] for docnum in scores.keys() & allowed_set}
    return Evaluation(hits=_best(matches, limit), total=len(matches), matches=matches)


def _best(matches: Scores, limit: int | None) -> list[tuple[float, int]]:
    """The ``limit`` best (score, docnum), higher score first, then lower docnum.

    ``nlargest`` over bare floats finds the cut-off score cheaply; only the documents at
    or above it are sorted, with Whoosh's tie-break.
    """
    if not matches or limit == 0:
        return []
    candidates: Iterable[int] = matches
    if limit is not None and limit < len(matches):
        cutoff = heapq.nlargest(limit, matches.values())[-1]
        candidates = [docnum for docnum, score in matches.items() if score >= cutoff]
    ordered = sorted(candidates, key=lambda docnum: (-matches[docnum], docnum))
    if limit is not None:
        ordered = ordered[:limit]
    return [(matches[docnum], docnum) for docnum in ordered]


def facet_counts(
    searcher: Searcher, facet: sorting.FacetType, docnums: Iterable[int]
) -> dict[Any, int] | None:
    """How many of ``docnums`` fall in each group of ``facet`` (Whoosh's group names), or
    ``None`` for a facet whose documents may sit in several groups (Whoosh counts those)."""
    categorizer = facet.categorizer(searcher)
    if categorizer.allow_overlap:
        return None
    ordered = sorted(docnums)
    counts: dict[Any, int] = {}
    position = 0
    for leaf, offset in searcher.leaf_searchers():
        end = offset + leaf.doc_count_all()
        categorizer.set_searcher(leaf, offset)
        while position < len(ordered) and ordered[position] < end:
            key = categorizer.key_to_name(categorizer.key_for(None, ordered[position] - offset))
            counts[key] = counts.get(key, 0) + 1
            position += 1
    return counts
