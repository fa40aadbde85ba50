"""The members' search page, ``/search/?q=…&kind=…&recency=…&page=…``.

Reads the parameters, asks :mod:`cms.site_search` for results and renders them. Any input
gives a page: an empty or unusable query shows a hint, a query that finds nothing shows
what to try instead.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.functional import cached_property

from cms.site_search import (
    MAX_QUERY_CHARS,
    Kind,
    Recency,
    kind_counts,
    member_query_parse,
    member_visible_pages,
    recency_start,
    search_hits,
    site_search,
    word_suggestions,
)

RESULTS_PER_PAGE = 10


class CountedPaginator(Paginator):
    """A paginator told its count, which the counts per kind already give.

    Counting search results is another pass over every match in the index; the counts
    per kind (one pass, needed for the filter anyway) hold the same number.
    """

    def __init__(self, object_list: Any, per_page: int, *, count: int) -> None:
        super().__init__(object_list, per_page)
        self._known_count = count

    @cached_property
    def count(self) -> int:
        return self._known_count


def _choice(value: str, choices: type[Kind] | type[Recency]) -> str:
    return value if value in choices.values else ""


@login_required
def search_page(request: HttpRequest) -> HttpResponse:
    """Search courses, lessons and policy documents; filter by kind and recency."""
    query = member_query_parse(request.GET.get("q", ""))
    kind = _choice(request.GET.get("kind", ""), Kind)
    recency = _choice(request.GET.get("recency", ""), Recency)
    since = recency_start(recency, timezone.localdate())

    visible = member_visible_pages()
    counts = kind_counts(query=query, since=since, pages=visible)
    results = site_search(query=query, kind=kind, since=since, pages=visible)
    paginator = CountedPaginator(results, RESULTS_PER_PAGE, count=counts[kind])
    page = paginator.get_page(request.GET.get("page"))

    hits = search_hits(page.object_list, query)

    def link(**changes: str) -> str:
        params = {"q": query.text, "kind": kind, "recency": recency, **changes}
        return "?" + urlencode({key: value for key, value in params.items() if value})

    context = {
        "query": query,
        "typed": bool(request.GET.get("q", "").strip()),
        "max_query_chars": MAX_QUERY_CHARS,
        "kind": kind,
        "recency": recency,
        "page": page,
        "hits": hits,
        # Kinds without results are left out (unless chosen): fewer, clearer choices.
        "kinds": [
            {"value": value, "label": label, "count": counts[value], "url": link(kind=value)}
            for value, label in Kind.choices
            if counts[value] or value in (Kind.ALL, kind)
        ],
        "recencies": [
            {"value": value, "label": label, "url": link(recency=value)}
            for value, label in Recency.choices
        ],
        "filtered": bool(kind or recency),
        "unfiltered_url": link(kind="", recency=""),
        "suggestions": [
            {"word": word, "count": count, "url": "?" + urlencode({"q": word})}
            for word, count in (word_suggestions(query, pages=visible) if not hits else [])
        ],
    }
    return render(request, "cms/search.html", context)
