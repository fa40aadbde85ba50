"""The members' search over published courses, lessons and policy documents (``/search/``).

Pure helpers (reading what a member typed, the start of a date filter, a page's text for
its snippet) and the selectors the search page calls. The index and the Chinese analysis
live in :mod:`cms.search`; this module only decides *what* a member's search means:

- Words are all required; text in double quotes is a phrase (those words, side by side).
  An unbalanced quote is ignored rather than refused.
- At most :data:`MAX_QUERY_CHARS` characters are used, so a pasted essay stays a search.
- A member filters by kind (course, lesson, policy document) and by how recent the
  content is. "Recent" means the date a member sees next to each result: the day a course
  or lesson was first published, the issue date of a policy document.
"""

from __future__ import annotations

import calendar
import datetime
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from html import unescape
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.html import escape, strip_tags
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext_lazy as _
from modelsearch.backends.base import BaseSearchResults
from modelsearch.query import And, Phrase, PlainText, SearchQuery
from wagtail.models import Page

from cms.models import CoursePage, LessonPage, PolicyDocumentPage
from cms.search.analysis import query_words
from cms.search.highlight import highlight, snippet_spans

# Chinese keyboards type “…”, 「…」 or a full-width ＂; all of them quote a phrase.
_QUOTES = str.maketrans(dict.fromkeys("“”„「」『』＂", '"'))

#: Characters of a query that are searched; the rest is dropped (and the member told).
MAX_QUERY_CHARS = 100
#: Words offered as "search for just this word" when nothing matched all of them.
MAX_SUGGESTED_WORDS = 3
#: Characters of text kept for a snippet; enough for the highlighter to find a window.
SNIPPET_SOURCE_CHARS = 20_000
#: Characters a snippet shows: about four lines of Chinese on a 360px phone.
SNIPPET_CHARS = 90


class Kind(models.TextChoices):
    """What a member can narrow a search to; the empty value means everything."""

    ALL = "", _("All")
    COURSE = "course", _("Courses")
    LESSON = "lesson", _("Lessons")
    POLICY = "policy", _("Policy documents")


class Recency(models.TextChoices):
    """How recent results must be; the empty value means any time."""

    ANY = "", _("Any time")
    WEEK = "week", _("Past week")
    MONTH = "month", _("Past month")
    YEAR = "year", _("Past year")


KIND_MODELS: dict[str, type[Page]] = {
    Kind.COURSE: CoursePage,
    Kind.LESSON: LessonPage,
    Kind.POLICY: PolicyDocumentPage,
}

# --- Reading the query (pure) -------------------------------------------------------


@dataclass(frozen=True)
class MemberQuery:
    """A member's search text, cleaned, and what to look for in the index."""

    text: str
    #: The input was longer than :data:`MAX_QUERY_CHARS` and was cut.
    truncated: bool = False
    #: The distinct words searched for, in order (quotes ignored).
    words: tuple[str, ...] = ()
    #: Whether the text held a phrase in double quotes.
    has_phrase: bool = False
    #: What the search backend receives; ``None`` when there is nothing to search for.
    search_query: SearchQuery | None = field(default=None, compare=False)

    @property
    def is_empty(self) -> bool:
        return self.search_query is None


def member_query_parse(raw: str) -> MemberQuery:
    """Turn what a member typed into a search query; never raises.

    Text outside quotes is plain words (all required); text inside a pair of quotes
    (ASCII ``"``, or “…” and 「…」 as Chinese keyboards type them) is a phrase. A final
    quote without its partner is treated as a space, so ``"从严治党`` searches for
    ``从严治党``. Input with no words at all (spaces, punctuation, a lone quote) gives an
    empty query.
    """
    text = " ".join(raw.split())
    truncated = len(text) > MAX_QUERY_CHARS
    if truncated:
        text = text[:MAX_QUERY_CHARS].rstrip()
    quoted = text.translate(_QUOTES)
    parts = quoted.split('"')
    if len(parts) % 2 == 0:  # an odd number of quotes: the last one has no partner
        parts[-2:] = [parts[-2] + " " + parts[-1]]
    subqueries: list[SearchQuery] = []
    has_phrase = False
    for position, part in enumerate(parts):
        is_phrase = position % 2 == 1
        words = query_words(part, distinct=not is_phrase)
        if not words:
            continue
        if is_phrase and len(words) > 1:
            subqueries.append(Phrase(part))
            has_phrase = True
        else:
            subqueries.append(PlainText(part, operator="and"))
    search_query: SearchQuery | None = None
    if len(subqueries) == 1:
        search_query = subqueries[0]
    elif subqueries:
        search_query = And(subqueries)
    words = tuple(word.text for word in query_words(quoted.replace('"', " ")))
    return MemberQuery(
        text=text,
        truncated=truncated,
        words=words,
        has_phrase=has_phrase,
        search_query=search_query,
    )


def suggested_words(query: MemberQuery) -> list[str]:
    """Single words to try when nothing matched every word of ``query``.

    Searching fewer words is the usual way out of an empty result in an AND search; a
    phrase that found nothing may still be found as separate words.
    """
    if len(query.words) < 2:
        return []
    return list(query.words[:MAX_SUGGESTED_WORDS])


def recency_start(recency: str, today: datetime.date) -> datetime.date | None:
    """The first day that counts for ``recency`` (a :class:`Recency` value), or ``None``.

    "Past month" from 31 March starts on the last day of February: a month back, clamped
    to the length of that month, like a member would count on a calendar.
    """
    if recency == Recency.WEEK:
        return today - datetime.timedelta(days=7)
    if recency == Recency.MONTH:
        return _months_back(today, 1)
    if recency == Recency.YEAR:
        return _months_back(today, 12)
    return None


def _months_back(day: datetime.date, months: int) -> datetime.date:
    month_index = day.year * 12 + day.month - 1 - months
    year, month = divmod(month_index, 12)
    last_day = calendar.monthrange(year, month + 1)[1]
    return datetime.date(year, month + 1, min(day.day, last_day))


# --- Text of a page, for its snippet (pure) -------------------------------------------

# The text-bearing parts of each block of ``cms.blocks.LessonStreamBlock``, by block name.
_BLOCK_TEXT_KEYS: dict[str, tuple[str, ...]] = {
    "heading": ("text",),
    "quote": ("text", "source"),
    "key_points": ("title", "points"),
    "callout": ("text",),
    "image": ("caption",),
    "video": ("caption",),
    "attachment": ("description",),
}


# Ends of paragraphs, list items, headings and line breaks in rich text.
_BLOCK_END = re.compile(r"<(?:/p|/li|/h[1-6]|/blockquote|br)\b[^>]*>", re.IGNORECASE)


def stream_text(raw_blocks: Iterable[Any]) -> str:
    """The readable text of a StreamField's raw JSON data, paragraphs joined by spaces.

    Works on the raw data on purpose: turning a stream into block values loads every
    image and document it mentions, one query per page of results.
    """
    pieces: list[str] = []
    for block in raw_blocks:
        if not isinstance(block, dict):
            continue
        name, value = block.get("type"), block.get("value")
        if name == "rich_text":
            pieces.append(_html_text(value))
            continue
        if not isinstance(value, dict):
            continue
        for key in _BLOCK_TEXT_KEYS.get(str(name), ()):
            pieces.extend(_html_text(item) for item in _list_items(value.get(key)))
    return " ".join(piece for piece in pieces if piece)


def _list_items(value: Any) -> list[Any]:
    """Items of a raw ListBlock value (new ``{"type": "item", "value": …}`` or old plain)."""
    if not isinstance(value, list):
        return [value]
    return [item.get("value") if isinstance(item, dict) else item for item in value]


def _html_text(value: Any) -> str:
    """Plain text of rich text: block ends become spaces, inline tags vanish (坚持<b>党</b>)."""
    if not isinstance(value, str):
        return ""
    return " ".join(unescape(strip_tags(_BLOCK_END.sub(" ", value))).split())


def page_text(page: Page) -> str:
    """What a result's snippet is cut from: a lesson's or document's text, a course summary."""
    if isinstance(page, CoursePage):
        return page.summary
    if isinstance(page, LessonPage | PolicyDocumentPage):
        text = stream_text(page.body.raw_data)
        if isinstance(page, PolicyDocumentPage) and not text:
            text = " ".join(filter(None, [page.document_number, page.issuing_body]))
        return text[:SNIPPET_SOURCE_CHARS]
    return ""


# --- Selectors ------------------------------------------------------------------------


def member_visible_pages() -> models.QuerySet[Page]:
    """Live pages outside private sections (one query reads the view restrictions)."""
    return Page.objects.live().public()


def searchable_pages(
    *, kind: str = Kind.ALL, pages: models.QuerySet[Page] | None = None
) -> models.QuerySet[Page]:
    """Courses, lessons and documents among ``pages``, of one kind or all three, as
    specific pages. ``pages`` defaults to :func:`member_visible_pages`."""
    model = KIND_MODELS.get(kind)
    types = (model,) if model else tuple(KIND_MODELS.values())
    pages = member_visible_pages() if pages is None else pages
    return pages.type(*types).specific()


def recency_q(start: datetime.date) -> Q:
    """Pages whose member-visible date is ``start`` or later (see the module docstring).

    Page queries on the index know only ``Page``'s own filter fields, so the policy
    documents issued since ``start`` are named by primary key (a subquery the backend
    evaluates in the database).
    """
    start_moment = timezone.make_aware(datetime.datetime.combine(start, datetime.time.min))
    published = Q(first_published_at__gte=start_moment) & Page.objects.type_q(
        CoursePage, LessonPage
    )
    issued = PolicyDocumentPage.objects.filter(issue_date__gte=start).values("pk")
    return published | Q(pk__in=issued)


def site_search(
    *,
    query: MemberQuery,
    kind: str = Kind.ALL,
    since: datetime.date | None = None,
    pages: models.QuerySet[Page] | None = None,
) -> BaseSearchResults:
    """Search results (specific pages, best first), ready to count, slice and paginate.

    ``pages`` (default: :func:`member_visible_pages`) lets a caller that searches twice
    read the view restrictions once.
    """
    candidates = searchable_pages(kind=kind, pages=pages)
    if since is not None:
        candidates = candidates.filter(recency_q(since))
    # An empty string is modelsearch's way of asking for no results at all.
    return candidates.search(query.search_query if query.search_query is not None else "")


def kind_counts(
    *,
    query: MemberQuery,
    since: datetime.date | None = None,
    pages: models.QuerySet[Page] | None = None,
) -> dict[str, int]:
    """How many results each kind has (and all of them, under ``""``), from the index only."""
    counts = dict.fromkeys(Kind.values, 0)
    if query.search_query is None:
        return counts
    results = site_search(query=query, since=since, pages=pages)
    by_content_type = results.facet("content_type_id")
    content_types = ContentType.objects.get_for_models(*KIND_MODELS.values())
    for kind, model in KIND_MODELS.items():
        counts[kind] = int(by_content_type.get(content_types[model].pk, 0))
    counts[Kind.ALL] = sum(counts[kind] for kind in KIND_MODELS)
    return counts


def word_suggestions(
    query: MemberQuery, *, pages: models.QuerySet[Page] | None = None
) -> list[tuple[str, int]]:
    """The words of ``query`` that find something on their own, with how much (index only)."""
    found = []
    for word in suggested_words(query):
        count = site_search(query=member_query_parse(word), pages=pages).count()
        if count:
            found.append((word, count))
    return found


@dataclass(frozen=True)
class SearchHit:
    """One result as the search page shows it."""

    page: Page
    kind: str
    kind_label: str
    title: str  # HTML: escaped, hits in <mark>
    snippet: str  # HTML: escaped, hits in <mark>
    date: datetime.date | None
    context: str  # the course of a lesson, the number (or issuer) of a document


def search_hits(pages: Iterable[Page], query: MemberQuery) -> list[SearchHit]:
    """Titles and snippets with the query's words marked, plus each result's context.

    One query finds the courses of all the lessons on the page, whatever their number.
    """
    pages = list(pages)
    steplen = Page.steplen
    parent_paths = {page.path[:-steplen] for page in pages if isinstance(page, LessonPage)}
    course_titles = dict(
        Page.objects.filter(path__in=parent_paths).values_list("path", "title")
        if parent_paths
        else []
    )
    hits = []
    for page in pages:
        kind, label, date, context = _describe(page, course_titles)
        hits.append(
            SearchHit(
                page=page,
                kind=kind,
                kind_label=label,
                title=highlight(page.title, query.text, max_chars=len(page.title) + 1),
                snippet=_snippet(page, query),
                date=date,
                context=context,
            )
        )
    return hits


def _snippet(page: Page, query: MemberQuery) -> SafeString:
    """The page's own text around the hits; when only an attached file matched, that
    file's text, so the member sees why the page was found (one query per such page)."""
    text = page_text(page)
    if snippet_spans(text, query.text, SNIPPET_CHARS) or not hasattr(page, "attachment_text"):
        return highlight(text, query.text, max_chars=SNIPPET_CHARS)
    for attached in page.attachment_text():
        attached = attached[:SNIPPET_SOURCE_CHARS]
        if snippet_spans(attached, query.text, SNIPPET_CHARS):
            label = escape(_("In the attached file: "))
            return mark_safe(  # noqa: S308 - the label is escaped, highlight() escapes the text
                label + highlight(attached, query.text, max_chars=SNIPPET_CHARS)
            )
    return highlight(text, query.text, max_chars=SNIPPET_CHARS)


def _describe(
    page: Page, course_titles: dict[str, str]
) -> tuple[str, str, datetime.date | None, str]:
    published = timezone.localdate(page.first_published_at) if page.first_published_at else None
    if isinstance(page, PolicyDocumentPage):
        # The number names the issuer too (青机党发〔2026〕12号) and fits a phone's line.
        context = page.document_number or page.issuing_body
        return Kind.POLICY, str(_("Policy document")), page.issue_date, context
    if isinstance(page, LessonPage):
        course = course_titles.get(page.path[: -Page.steplen], "")
        return Kind.LESSON, str(_("Lesson")), published, course
    return Kind.COURSE, str(_("Course")), published, ""
