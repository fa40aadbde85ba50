"""Term-at-a-time evaluation (cms.search.evaluate) against Whoosh, and its per-searcher cache.

Whoosh's own scorer, asked about one document at a time with every shortcut off, is the
reference: the evaluator must rank exactly by those scores. The cache must never let a
search miss what the last commit changed.
"""

from __future__ import annotations

import pytest
from modelsearch.query import And, Not, Phrase, PlainText
from wagtail.models import Page
from whoosh import query as wq
from whoosh import sorting

from cms.models import CoursePage, LessonPage
from cms.search.backend import WhooshSearchBackend
from cms.search.evaluate import _PostingsCache, evaluate, facet_counts
from cms.search.storage import cached_searcher, filter_documents
from tests.factories.pages import Content, add_course, add_lesson

LESSONS = {
    "党员教育管理": "加强党员教育管理，党员要学习党章。",
    "党史学习教育": "党史学习教育是全党的大事。学习党史，学习党章。",
    "全面从严治党": "全面从严治党永远在路上。党员干部要廉洁自律。",
    "支部书记述职": "党支部书记述职评议，党员参加组织生活会。",
    "廉政风险防控": "廉政风险防控，干部作风建设。党员教育。",
    "学习贯彻": "学习贯彻党的二十大精神，学习学习再学习。",
    "组织生活会": "召开组织生活会，开展批评和自我批评。",
    "第一课": "本课讲解民主集中制。",
}
QUERIES = [
    PlainText("党员"),
    PlainText("学习"),
    PlainText("党员 教育"),
    PlainText("学习 党章"),
    PlainText("支部书记"),  # a word with pieces (支部, 书记)
    PlainText("组织生活会"),  # segmented into several words
    PlainText("党员 廉政", operator="or"),
    Phrase("党员教育"),
    And([PlainText("党员"), PlainText("学习")]),
    PlainText("没有这个词"),
]


@pytest.fixture
def backend_name() -> str:
    """``cms/search/evaluate.py`` belongs to the Whoosh backend: these tests run on it alone."""
    return "whoosh"


@pytest.fixture
def course(content: Content) -> CoursePage:
    return add_course(title="党员教育专题", summary="学习党章，学习党史。")


def _titles(results: object) -> list[str]:
    return [page.title for page in results]  # type: ignore[attr-defined]


@pytest.mark.parametrize("search_query", QUERIES, ids=repr)
def test_ranking_equals_whoosh_scoring_each_document_alone(
    backend: WhooshSearchBackend, course: CoursePage, search_query: object
) -> None:
    for title, text in LESSONS.items():
        add_lesson(course, title, text)
    results = backend.search(search_query, Page)
    found = results._searcher_and_filter()
    assert found is not None
    searcher, allowed = found
    compiled = results.query_compiler.compile_query()

    evaluation = evaluate(searcher, compiled, allowed, limit=None)

    assert evaluation is not None
    expected = []
    for docnum in sorted(allowed):
        alone = searcher.search(compiled, filter={docnum}, limit=1, optimize=False)
        if alone:
            expected.append((alone[0].score, docnum))
    expected.sort(key=lambda hit: (-hit[0], hit[1]))
    assert [docnum for _, docnum in evaluation.hits] == [docnum for _, docnum in expected]
    assert [score for score, _ in evaluation.hits] == pytest.approx(
        [score for score, _ in expected], rel=1e-9
    )
    assert evaluation.total == len(expected)
    first_three = evaluate(searcher, compiled, allowed, limit=3)
    assert first_three is not None
    assert first_three.hits == evaluation.hits[:3]
    assert results.count() == len(expected)


def test_facet_counts_equal_whoosh_grouping(
    backend: WhooshSearchBackend, course: CoursePage
) -> None:
    for title, text in LESSONS.items():
        add_lesson(course, title, text)
    results = backend.search("学习", Page)
    searcher, allowed = results._searcher_and_filter()  # type: ignore[misc]
    compiled = results.query_compiler.compile_query()
    facet = sorting.FieldFacet("content_type_id_filter", maptype=sorting.Count)
    evaluation = evaluate(searcher, compiled, allowed, limit=0)
    assert evaluation is not None

    ours = facet_counts(searcher, facet, evaluation.matches)

    whoosh = searcher.search(compiled, filter=allowed, groupedby={"f": facet}, limit=1)
    assert ours == whoosh.groups("f")
    assert sum(ours.values()) == evaluation.total > 0


def test_a_page_published_after_a_search_is_found_by_the_next_one(
    backend: WhooshSearchBackend, course: CoursePage
) -> None:
    add_lesson(course, "学习一", "学习党章。")
    assert _titles(backend.search("学习", LessonPage)) == ["学习一"]  # caches postings

    second = add_lesson(course, "学习二", "学习党史，学习党章，学习。")

    assert set(_titles(backend.search("学习", LessonPage))) == {"学习一", "学习二"}
    assert backend.search("学习", LessonPage).count() == 2
    second.title = "第二课"
    second.body = [("rich_text", "<p>民主集中制。</p>")]
    second.save_revision().publish()
    assert _titles(backend.search("学习", LessonPage)) == ["学习一"]
    assert _titles(backend.search("民主集中制", LessonPage)) == ["第二课"]
    second.unpublish()
    assert _titles(Page.objects.live().search("民主集中制")) == []
    second.delete()
    assert backend.search("民主集中制", LessonPage).count() == 0


def test_the_cache_belongs_to_one_searcher_and_a_commit_replaces_it(
    backend: WhooshSearchBackend, course: CoursePage
) -> None:
    add_lesson(course, "学习一", "学习。")
    store = backend.get_index_for_model(LessonPage).store
    before = cached_searcher(store)
    assert before is not None
    assert _titles(backend.search("学习", LessonPage)) == ["学习一"]

    add_lesson(course, "学习二", "学习。")

    after = cached_searcher(store)
    assert after is not None and after is not before
    assert not hasattr(after, "_cms_postings_cache")  # nothing carried over
    assert len(_titles(backend.search("学习", LessonPage))) == 2


def test_queries_it_does_not_evaluate_fall_back_to_whoosh(
    backend: WhooshSearchBackend, course: CoursePage
) -> None:
    add_lesson(course, "党史学习", "学习党史。")
    add_lesson(course, "党章学习", "学习党章。")
    results = backend.search("学习", LessonPage)
    searcher, allowed = results._searcher_and_filter()  # type: ignore[misc]

    assert evaluate(searcher, wq.Not(wq.Term("title", "党史")), allowed, limit=10) is None
    assert evaluate(searcher, wq.Prefix("title", "党"), allowed, limit=10) is None
    excluded = backend.search(And([PlainText("学习"), Not(PlainText("党史"))]), LessonPage)
    assert _titles(excluded) == ["党章学习"]
    assert excluded.count() == 1
    assert set(_titles(backend.autocomplete("党", LessonPage))) == {"党史学习", "党章学习"}


def test_an_empty_filter_or_index_finds_nothing(
    backend: WhooshSearchBackend, course: CoursePage
) -> None:
    add_lesson(course, "学习一", "学习。")
    searcher = cached_searcher(backend.get_index_for_model(LessonPage).store)
    assert searcher is not None
    compiled = backend.search("学习", LessonPage).query_compiler.compile_query()
    nothing = filter_documents(searcher, wq.Term("ix__ct", "no.such_model"))

    evaluation = evaluate(searcher, compiled, nothing, limit=10)

    assert evaluation is not None
    assert evaluation.hits == [] and evaluation.total == 0


def test_postings_cache_evicts_the_least_recently_used_lists() -> None:
    cache = _PostingsCache(limit=10)
    cache.put(("a",), {1: 1.0}, 4)
    cache.put(("b",), {2: 1.0}, 4)
    assert cache.get(("a",)) is not None  # "a" is now the most recently used
    cache.put(("c",), {3: 1.0}, 4)
    assert cache.get(("b",)) is None
    assert cache.get(("a",)) is not None and cache.get(("c",)) is not None
    assert cache.size == 8
    cache.put(("huge",), {}, 11)  # larger than the whole cache: not kept
    assert cache.get(("huge",)) is None
    assert cache.size == 8
