"""The members' search page: finding, filtering, paging, highlighting, refusing nothing.

Content is created inside ``django_capture_on_commit_callbacks(execute=True)``, so index
writes take the production path: queued after commit, then (Celery being eager in tests)
read back from the database by the sync task. Every test that uses the database runs on
the Whoosh backend and, where the database is PostgreSQL, on the PostgreSQL backend too.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.urls import reverse
from django.utils import timezone
from modelsearch.query import And, Phrase, PlainText
from wagtail.documents.models import Document
from wagtail.images.models import Image
from wagtail.images.tests.utils import get_test_image_file
from wagtail.models import PageViewRestriction

from cms.models import CoursePage, LessonPage, PolicyDocumentPage
from cms.search.highlight import hit_spans
from cms.site_search import (
    MAX_QUERY_CHARS,
    member_query_parse,
    recency_start,
    stream_text,
    suggested_words,
)
from learning.people import roles
from tests.cms.conftest import BACKEND_PARAMS, BACKENDS
from tests.factories.pages import Content, add_course, add_lesson, add_policy
from tests.factories.people import MemberFactory

SEARCH_URL = "/search/"

Capture = Callable[..., AbstractContextManager[Any]]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """The page's tests that search an index run once per backend."""
    if "db" in metafunc.fixturenames:
        metafunc.parametrize("search_backend_name", BACKEND_PARAMS)


@pytest.fixture
def search_backend_name() -> str:
    return "whoosh"


@pytest.fixture(autouse=True)
def _search_backend(search_backend_name: str, settings: Any) -> None:
    """The backend under test, with writes queued after commit as in production."""
    settings.WAGTAILSEARCH_BACKENDS = {
        "default": {**BACKENDS[search_backend_name], "WRITE_QUEUE": "search"}
    }


@pytest.fixture
def indexed(django_capture_on_commit_callbacks: Capture) -> Callable[[], Any]:
    """``with indexed():`` runs the on-commit index writes of what is created inside."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture
def member_client(client: Any, tree: Any) -> Iterator[Any]:
    member = MemberFactory(
        username="zhanghong", organization=tree.branch_a1, role_names=[roles.MEMBER]
    )
    client.force_login(member)
    # English, so these tests read the msgids whether or not the catalogue is compiled.
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    yield client


def _days_ago(days: int) -> datetime.datetime:
    return timezone.now() - datetime.timedelta(days=days)


def _lesson(course: CoursePage, title: str, text: str, **fields: object) -> LessonPage:
    fields.setdefault("first_published_at", _days_ago(1))
    return add_lesson(course, title, text, **fields)


def _policy(title: str, text: str, **fields: object) -> PolicyDocumentPage:
    fields.setdefault("issue_date", timezone.localdate())
    fields.setdefault("issuing_body", "青禾新区机关党委办公室")
    fields.setdefault("first_published_at", _days_ago(1))
    return add_policy(title, text, **fields)


def _search(client: Any, **params: str) -> str:
    response = client.get(SEARCH_URL, params)
    assert response.status_code == 200
    return response.content.decode()


def _result_titles(client: Any, **params: str) -> list[str]:
    response = client.get(SEARCH_URL, params)
    assert response.status_code == 200
    return [hit.page.title for hit in response.context["hits"]]


@pytest.fixture
def course(content: Content, indexed: Callable[[], Any]) -> CoursePage:
    with indexed():
        return add_course(
            title="党史学习",
            summary="学习党的百年奋斗历程。",
            first_published_at=_days_ago(1),
        )


# --- finding ---------------------------------------------------------------------------


def test_a_lesson_is_found_by_a_chinese_word_inside_its_body(
    member_client: Any, course: CoursePage, indexed: Callable[[], Any]
) -> None:
    with indexed():
        _lesson(course, "第三课 组织原则", "党的根本组织原则是民主集中制，全党必须遵守。")
        _lesson(course, "第四课 党的纪律", "严明党的纪律和规矩。")
    response = member_client.get(SEARCH_URL, {"q": "民主集中制"})
    assert response.status_code == 200
    hits = response.context["hits"]
    assert [hit.page.title for hit in hits] == ["第三课 组织原则"]
    hit = hits[0]
    assert hit.kind_label == "Lesson"
    assert hit.context == "党史学习"  # the lesson's course
    assert "<mark>民主集中制</mark>" in hit.snippet
    page = response.content.decode()
    assert "<mark>民主集中制</mark>" in page
    assert f'href="{hits[0].page.url}"' in page
    assert "1 result" in page


def test_a_quoted_phrase_finds_only_the_words_side_by_side(
    member_client: Any, course: CoursePage, indexed: Callable[[], Any]
) -> None:
    with indexed():
        _lesson(course, "第一课", "要加强党员教育管理。")
        _lesson(course, "第二课", "用理想信念教育引导党员。")
    assert sorted(_result_titles(member_client, q="党员教育")) == ["第一课", "第二课"]
    assert _result_titles(member_client, q='"党员教育"') == ["第一课"]
    assert _result_titles(member_client, q='管理 "党员教育"') == ["第一课"]
    # Quotes as a Chinese keyboard types them.
    assert _result_titles(member_client, q="“党员教育”") == ["第一课"]
    assert _result_titles(member_client, q="「党员教育」") == ["第一课"]


@pytest.mark.parametrize(
    ("query", "found"),
    [
        ("三会一课", ["第一课 三会一课"]),
        ("组织生活", ["第一课 三会一课", "第二课 组织生活"]),
        ("组织生活 三会一课", ["第一课 三会一课"]),
        ('"不走过场"', ["第二课 组织生活"]),
        ('"三会一课"', ["第一课 三会一课"]),
        ("“三会一课”", ["第一课 三会一课"]),
        ("「三会一课」", ["第一课 三会一课"]),
        ('制度 "三会一课"', ["第一课 三会一课"]),
    ],
)
def test_every_query_shape_works_on_an_index_updated_after_it_was_built(
    member_client: Any,
    course: CoursePage,
    indexed: Callable[[], Any],
    query: str,
    found: list[str],
) -> None:
    """Issue 12: once a segment holds deleted documents, Whoosh wraps its postings in a
    FilterMatcher, and phrases answered 500 ("no attribute 'format'")."""
    with indexed():
        first = _lesson(course, "第一课 三会一课", "坚持三会一课制度，严格组织生活。")
    with indexed():
        _lesson(
            course, "第二课 组织生活", "开好支部党员大会和支委会，按时上好党课，组织生活不走过场。"
        )
    # Each publish replaces the page's document: the old one stays behind as deleted.
    with indexed():
        first.save_revision().publish()
    titles = sorted(_result_titles(member_client, q=query))
    assert titles == sorted(found)


def test_the_kind_filter_narrows_results_and_shows_counts(
    member_client: Any, content: Content, course: CoursePage, indexed: Callable[[], Any]
) -> None:
    with indexed():
        _lesson(course, "党史第一课", "学习党史。")
        _lesson(course, "党史第二课", "学习党史。")
        _policy("关于开展党史学习教育的通知", "各支部要组织党史学习。")
    assert len(_result_titles(member_client, q="党史")) == 4  # course, two lessons, document
    assert _result_titles(member_client, q="党史", kind="policy") == ["关于开展党史学习教育的通知"]
    assert _result_titles(member_client, q="党史", kind="course") == ["党史学习"]
    assert len(_result_titles(member_client, q="党史", kind="lesson")) == 2
    # An unknown kind is ignored, not an error.
    assert len(_result_titles(member_client, q="党史", kind="nonsense")) == 4
    response = member_client.get(SEARCH_URL, {"q": "党史", "kind": "lesson"})
    counts = {item["value"]: item["count"] for item in response.context["kinds"]}
    assert counts == {"": 4, "course": 1, "lesson": 2, "policy": 1}


def test_the_date_filter_uses_the_date_members_see(
    member_client: Any, content: Content, course: CoursePage, indexed: Callable[[], Any]
) -> None:
    today = timezone.localdate()
    with indexed():
        _lesson(course, "新课时", "巡视整改", first_published_at=_days_ago(3))
        _lesson(course, "旧课时", "巡视整改", first_published_at=_days_ago(400))
        # Documents count by their issue date, whenever they were put on the site.
        _policy(
            "新文件",
            "巡视整改",
            issue_date=today - datetime.timedelta(days=3),
            first_published_at=_days_ago(3),
        )
        _policy(
            "旧文件",
            "巡视整改",
            issue_date=today - datetime.timedelta(days=900),
            first_published_at=_days_ago(2),
        )
    everything = {"新课时", "旧课时", "新文件", "旧文件"}
    assert set(_result_titles(member_client, q="巡视整改")) == everything
    assert set(_result_titles(member_client, q="巡视整改", recency="month")) == {
        "新课时",
        "新文件",
    }
    assert set(_result_titles(member_client, q="巡视整改", recency="year")) == {"新课时", "新文件"}
    assert _result_titles(member_client, q="巡视整改", recency="month", kind="policy") == ["新文件"]
    assert set(_result_titles(member_client, q="巡视整改", recency="bogus")) == everything


def test_results_are_paginated_and_bad_page_numbers_are_harmless(
    member_client: Any, course: CoursePage, indexed: Callable[[], Any]
) -> None:
    with indexed():
        for number in range(23):
            _lesson(course, f"课时{number:02d}", "学习贯彻新时代党的建设总要求。")
    first = member_client.get(SEARCH_URL, {"q": "总要求"})
    assert len(first.context["hits"]) == 10
    assert first.context["page"].paginator.count == 23
    assert "Page 1 of 3" in first.content.decode()
    last = member_client.get(SEARCH_URL, {"q": "总要求", "page": "3"})
    assert len(last.context["hits"]) == 3
    seen = set()
    for number in ("1", "2", "3"):
        response = member_client.get(SEARCH_URL, {"q": "总要求", "page": number})
        seen |= {hit.page.pk for hit in response.context["hits"]}
    assert len(seen) == 23
    for number in ("abc", "999", "-1", "0"):
        assert member_client.get(SEARCH_URL, {"q": "总要求", "page": number}).status_code == 200
    # The pager keeps the query and the filters.
    assert "q=%E6%80%BB%E8%A6%81%E6%B1%82&amp;page=2" in first.content.decode()


def test_titles_and_snippets_are_escaped_around_the_marks(
    member_client: Any, course: CoursePage, indexed: Callable[[], Any]
) -> None:
    with indexed():
        _lesson(
            course,
            "<script>alert('x')</script>党史",
            "&lt;img src=x onerror=alert(1)&gt; 学习党史",
        )
    page = _search(member_client, q="党史")
    assert "<script>alert" not in page
    assert "<img src=x" not in page
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;<mark>党史</mark>" in page
    assert "&lt;img src=x onerror=alert(1)&gt; 学习<mark>党史</mark>" in page
    # A query that looks like markup is shown as text, too.
    page = _search(member_client, q="<b>党史</b>")
    assert "<b>党史</b>" not in page


def test_drafts_unpublished_and_private_pages_are_never_found(
    member_client: Any, content: Content, course: CoursePage, indexed: Callable[[], Any]
) -> None:
    with indexed():
        _lesson(course, "已发布课时", "廉洁自律准则。")
        never_published = _lesson(course, "草稿课时", "廉洁自律准则。", live=False)
        withdrawn = _lesson(course, "撤回课时", "廉洁自律准则。")
        withdrawn.unpublish()
        edited = _lesson(course, "修改中的课时", "公开的内容。")
        edited.title = "修改中的课时（草稿）"
        edited.body = [("rich_text", "<p>尚未审核的廉洁自律准则。</p>")]
        edited.save_revision()  # a draft awaiting approval: not live
        private_course = add_course(title="内部课程", summary="内部。")
        _lesson(private_course, "内部课时", "廉洁自律准则。")
        PageViewRestriction.objects.create(
            page=private_course, restriction_type=PageViewRestriction.LOGIN
        )
    assert never_published.live is False
    assert _result_titles(member_client, q="廉洁自律") == ["已发布课时"]
    assert _result_titles(member_client, q="尚未审核") == []
    assert _result_titles(member_client, q="公开") == ["修改中的课时"]


# --- odd input -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("", "Search courses, lessons and policy documents"),
        ("   ", "Search courses, lessons and policy documents"),
        ("，。！？……", "There are no words to search for"),
        ('"', "There are no words to search for"),
        ('""""', "There are no words to search for"),
        ("AND OR (", "Nothing found for"),
        ("title: *?~^", "Nothing found for"),
        ("治党" * 5000, "Nothing found for"),
        ("\u2029🎉\x0b", "There are no words to search for"),
    ],
)
def test_absurd_queries_get_a_friendly_page(
    member_client: Any, course: CoursePage, query: str, message: str
) -> None:
    response = member_client.get(SEARCH_URL, {"q": query})
    assert response.status_code == 200
    page = response.content.decode()
    assert 'class="empty-state"' in page
    assert message in page
    assert 'name="q"' in page  # the search box is always there to try again


def test_a_very_long_query_is_cut_and_the_member_told(
    member_client: Any, course: CoursePage, indexed: Callable[[], Any]
) -> None:
    with indexed():
        _lesson(course, "从严治党", "全面从严治党。")
    response = member_client.get(SEARCH_URL, {"q": "从严治党 " + "。" * 10_000})
    assert response.status_code == 200
    assert response.context["query"].truncated
    assert len(response.context["query"].text) <= MAX_QUERY_CHARS
    assert [hit.page.title for hit in response.context["hits"]] == ["从严治党"]
    assert f"Only the first {MAX_QUERY_CHARS} characters" in response.content.decode()


def test_nothing_found_suggests_searching_fewer_words(
    member_client: Any, course: CoursePage, indexed: Callable[[], Any]
) -> None:
    with indexed():
        _lesson(course, "从严治党", "全面从严治党。")
    page = _search(member_client, q="从严治党 火星探测")
    assert "Nothing found for" in page
    assert 'href="?q=%E4%BB%8E%E4%B8%A5%E6%B2%BB%E5%85%9A"' in page  # 从严治党 on its own
    filtered = _search(member_client, q="从严治党", kind="policy")
    assert "Search everything" in filtered


# --- who may search, and what it costs ----------------------------------------------


def test_anonymous_visitors_are_sent_to_log_in(client: Any, db: None) -> None:
    response = client.get(SEARCH_URL, {"q": "党史"})
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login") + "?next=/search/")


def test_members_see_a_search_link_in_the_top_bar(member_client: Any, db: None) -> None:
    page = member_client.get(reverse("learning:account")).content.decode()
    assert 'data-testid="topbar-search"' in page
    assert f'href="{SEARCH_URL}"' in page


# Session, member, view restrictions, the date filter's document subquery (evaluated for
# the kind counts and for the page), page types, one query per kind on the page (at most
# three), the lessons' courses, the site: eleven, however many results.
QUERY_BOUND = 11


def _mixed_content(course: CoursePage, count: int) -> None:
    """Lessons with an image and an attachment (which must not cost a query each), documents."""
    image = Image.objects.create(title="合影", file=get_test_image_file())
    document = Document.objects.create(title="附件", file=ContentFile(b"x", name="a.txt"))
    for number in range(count):
        body = [
            ("heading", {"text": f"第{number}部分", "level": "h2"}),
            ("rich_text", "<p>坚持和加强党的全面领导。</p>"),
            ("image", {"image": image, "caption": "全面领导", "alt": ""}),
            ("attachment", {"document": document, "description": "全面领导"}),
        ]
        if number % 3 == 0:
            _policy(f"文件{number}", "坚持和加强党的全面领导。")
        else:
            add_lesson(course, f"课时{number}", body=body, first_published_at=_days_ago(2))


def test_the_number_of_queries_does_not_grow_with_the_results(
    member_client: Any,
    content: Content,
    course: CoursePage,
    indexed: Callable[[], Any],
    django_assert_max_num_queries: Callable[[int], AbstractContextManager[Any]],
) -> None:
    with indexed():
        _mixed_content(course, 3)
    with django_assert_max_num_queries(QUERY_BOUND):
        few = member_client.get(SEARCH_URL, {"q": "全面领导"})
    assert len(few.context["hits"]) == 3
    with indexed():
        _mixed_content(course, 30)
    kinds = set()
    for number in ("1", "2", "3", "4"):
        with django_assert_max_num_queries(QUERY_BOUND):
            many = member_client.get(
                SEARCH_URL, {"q": "全面领导", "recency": "month", "page": number}
            )
        assert many.context["page"].paginator.count == 33
        kinds |= {hit.kind for hit in many.context["hits"]}
    assert kinds == {"lesson", "policy"}


# --- reading the query (no database) ---------------------------------------------------


def _plain(query: object) -> tuple[str, str]:
    assert isinstance(query, PlainText)
    return query.query_string, query.operator


def test_plain_words_and_quoted_phrases_become_one_query() -> None:
    assert _plain(member_query_parse("从严治党").search_query) == ("从严治党", "and")
    combined = member_query_parse('管理 "党员教育"')
    assert isinstance(combined.search_query, And)
    assert combined.has_phrase
    assert combined.words == ("管理", "党员", "教育")
    # An unpaired quote is a space; a quoted single word is just the word.
    assert _plain(member_query_parse('"从严治党').search_query) == (" 从严治党", "and")
    assert _plain(member_query_parse('"党史"').search_query) == ("党史", "and")
    assert isinstance(member_query_parse('"党员教育"').search_query, Phrase)
    assert member_query_parse('  "  " ，').is_empty


def test_a_long_query_is_cut_to_the_limit() -> None:
    query = member_query_parse("党" * 10_000)
    assert query.truncated and len(query.text) == MAX_QUERY_CHARS
    assert not member_query_parse("党史").truncated


def test_fewer_words_are_suggested_only_for_several_words() -> None:
    assert suggested_words(member_query_parse("从严治党")) == []
    assert suggested_words(member_query_parse("从严治党 廉政 纪律")) == ["从严治党", "廉政", "纪律"]


@pytest.mark.parametrize(
    ("recency", "today", "start"),
    [
        ("", "2026-03-31", None),
        ("week", "2026-03-31", "2026-03-24"),
        ("month", "2026-03-31", "2026-02-28"),
        ("month", "2026-01-15", "2025-12-15"),
        ("year", "2024-02-29", "2023-02-28"),
        ("nonsense", "2026-03-31", None),
    ],
)
def test_recency_starts_a_calendar_period_back(recency: str, today: str, start: str | None) -> None:
    expected = datetime.date.fromisoformat(start) if start else None
    assert recency_start(recency, datetime.date.fromisoformat(today)) == expected


def test_stream_text_reads_every_text_block_without_loading_images() -> None:
    raw = [
        {"type": "heading", "value": {"text": "一、总则", "level": "h2"}},
        {"type": "rich_text", "value": "<p>坚持<b>党的</b>领导&amp;团结</p><p>第二段</p>"},
        {"type": "quote", "value": {"text": "为人民服务", "source": "毛泽东"}},
        {
            "type": "key_points",
            "value": {"title": "要点", "points": [{"type": "item", "value": "一", "id": "x"}]},
        },
        {"type": "image", "value": {"image": 1, "caption": "合影", "alt": ""}},
        {"type": "video", "value": {"file": None, "embed": "https://example.com", "caption": ""}},
        "garbage",
    ]
    assert stream_text(raw) == "一、总则 坚持党的领导&团结 第二段 为人民服务 毛泽东 要点 一 合影"


# --- snippets of long texts -------------------------------------------------------------


def _long_text() -> str:
    from demo import content_data

    lesson = content_data.COURSES[0].lessons[0]
    text = stream_text(
        [
            {"type": "rich_text", "value": f"<p>{block.text}</p>"}
            for block in lesson.body
            if hasattr(block, "text")
        ]
    )
    return (text * 3)[:6000] + "ＰＡＲＴＹ（全角）"


@pytest.mark.parametrize("query", ["中国共产党", "党员", "人民 历史", "party", "不存在的词", "，"])
def test_snippets_of_long_texts_match_a_full_analysis(
    query: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cms.search import highlight as highlighting

    text = _long_text()
    fast = highlighting.highlight(text, query, max_chars=90)
    monkeypatch.setattr(
        highlighting, "snippet_spans", lambda text, query, max_chars: hit_spans(text, query)
    )
    assert fast == highlighting.highlight(text, query, max_chars=90)
