"""Search result snippets with the matched words wrapped in ``<mark>``.

The index stores no text, so the /search/ page passes the text it shows (a lesson's body as
plain text, a policy's summary) together with the user's query. Matching uses the same
analysis as the index, so what is marked is what was found: ``治党`` marks those two
characters inside ``全面从严治党``, and ``支部书记`` marks ``支部书记`` inside ``党支部书记``.
"""

from __future__ import annotations

import bisect
import unicodedata

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from cms.search.analysis import index_terms, query_words

#: Characters of context kept before the first marked word of a snippet.
LEADING_CONTEXT = 16


def query_terms(query: str) -> set[str]:
    """Every index term that a hit for ``query`` can consist of (words and their pieces)."""
    terms: set[str] = set()
    for word in query_words(query.replace('"', " ")):
        terms.add(word.text)
        terms.update(word.pieces)
    return terms


def hit_spans(text: str, query: str) -> list[tuple[int, int]]:
    """Sorted, merged ``[start, end)`` spans of ``text`` that match words of ``query``."""
    terms = query_terms(query)
    if not terms:
        return []
    spans = sorted((start, end) for term, start, end in index_terms(text) if term in terms)
    merged: list[tuple[int, int]] = []
    for start, end in spans:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def _window(length: int, spans: list[tuple[int, int]], max_chars: int) -> tuple[int, int]:
    """The ``max_chars`` stretch of the text that contains the most hits."""
    if length <= max_chars:
        return 0, length
    if not spans:
        return 0, max_chars
    starts = [start for start, _ in spans]
    best_start, best_count = starts[0], 0
    for index, start in enumerate(starts):
        count = bisect.bisect_left(starts, start + max_chars - LEADING_CONTEXT) - index
        if count > best_count:
            best_start, best_count = start, count
    begin = max(0, min(best_start - LEADING_CONTEXT, length - max_chars))
    return begin, begin + max_chars


def _literal_starts(text: str, terms: set[str]) -> list[int]:
    """Where the terms occur in ``text`` as written (ignoring case), sorted."""
    lowered = text.lower()
    starts: list[int] = []
    for term in terms:
        position = lowered.find(term)
        while position != -1:
            starts.append(position)
            position = lowered.find(term, position + 1)
    return sorted(starts)


def snippet_spans(text: str, query: str, max_chars: int) -> list[tuple[int, int]]:
    """:func:`hit_spans` for a snippet of ``max_chars``, without analysing all of a long text.

    Segmenting a 2,000-character lesson with offsets costs milliseconds, and a results
    page shows ten of them. A term can only be a hit where it occurs in the NFKC,
    lower-cased text, so: no occurrence, no hits; occurrences in the text as written
    mark where the densest stretch is, and only that stretch (with a margin so the
    segmenter sees each word's context) is analysed. Only when the terms occur after
    normalisation but not as written (full-width letters …) is the whole text analysed.
    """
    if len(text) <= 3 * max_chars:
        return hit_spans(text, query)
    terms = query_terms(query)
    if not terms:
        return []
    normalized = unicodedata.normalize("NFKC", text).lower()
    if not any(term in normalized for term in terms):
        return []
    starts = _literal_starts(text, terms)
    if not starts:
        return hit_spans(text, query)
    begin, _ = _window(len(text), [(start, start + 1) for start in starts], max_chars)
    region_start = max(0, begin - max_chars)
    region_end = min(len(text), begin + 3 * max_chars)
    return [
        (region_start + start, region_start + end)
        for start, end in hit_spans(text[region_start:region_end], query)
    ]


def highlight(text: str, query: str, *, max_chars: int = 160, ellipsis: str = "…") -> SafeString:
    """An HTML-escaped snippet of ``text`` around the hits for ``query``, hits in ``<mark>``.

    At most ``max_chars`` characters of ``text`` are shown, chosen where the hits are
    densest; ``ellipsis`` marks a cut at either end. Safe to put in a template as is.
    """
    spans = snippet_spans(text, query, max_chars)
    begin, end = _window(len(text), spans, max_chars)
    ellipsis = escape(ellipsis)
    parts: list[str] = [ellipsis] if begin > 0 else []
    cursor = begin
    for start, stop in spans:
        if stop <= begin or start >= end:
            continue
        start, stop = max(start, begin), min(stop, end)
        parts.append(escape(text[cursor:start]))
        parts.append(f"<mark>{escape(text[start:stop])}</mark>")
        cursor = stop
    parts.append(escape(text[cursor:end]))
    if end < len(text):
        parts.append(ellipsis)
    return mark_safe("".join(parts))  # noqa: S308 - every piece of text above is escaped
