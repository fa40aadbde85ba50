"""The Chinese Whoosh search backend: analysis, queries, filters, writes and rebuilds.

Pages are real Wagtail pages under the fixture home page; saving one goes through
modelsearch's signal handlers into the backend, exactly as publishing does.
"""

from __future__ import annotations

import multiprocessing
import threading
import time
import unicodedata
from pathlib import Path

import pytest
from django.core.management import call_command
from hypothesis import given, settings
from hypothesis import strategies as st
from modelsearch.backends import get_search_backend
from modelsearch.backends.base import BaseSearchBackend
from modelsearch.query import Phrase, PlainText
from wagtail.models import Page
from wagtail.search.utils import parse_query_string

from cms.models import CoursePage, LessonPage
from cms.search.analysis import (
    VALUE_SEPARATOR,
    chinese_analyzer,
    index_terms,
    query_words,
)
from cms.search.backend import WhooshSearchBackend
from cms.search.highlight import highlight
from cms.search.storage import CURRENT, IndexBusyError, IndexStore
from tests.cms.conftest import BACKENDS
from tests.factories.documents import upload
from tests.factories.pages import Content, add_course, add_lesson

# --- analysis (no database) -----------------------------------------------------------


def _tokens(text: str, mode: str = "index") -> list[tuple[str, int]]:
    return [
        (token.text, token.pos) for token in chinese_analyzer()(text, positions=True, mode=mode)
    ]


def test_consecutive_words_get_consecutive_positions() -> None:
    assert _tokens("加强党员教育管理", mode="query") == [
        ("加强", 0),
        ("党员", 1),
        ("教育", 2),
        ("管理", 3),
    ]


def test_subwords_share_their_parent_words_position() -> None:
    tokens = _tokens("坚持全面从严治党")
    assert ("从严治党", 2) in tokens
    assert {("从严", 2), ("严治", 2), ("治党", 2)} <= set(tokens)
    assert max(position for _, position in tokens) == 2


def test_function_words_are_indexed_not_dropped() -> None:
    assert [text for text, _ in _tokens("我们的党了解群众和人民", mode="query")] == [
        "我们",
        "的",
        "党",
        "了解",
        "群众",
        "和",
        "人民",
    ]


def test_latin_words_are_lowercased_not_stemmed() -> None:
    assert _tokens("Party Members", mode="query") == [("party", 0), ("members", 1)]


def test_latin_compounds_also_index_their_parts() -> None:
    tokens = dict(_tokens("COVID-19疫情"))
    assert tokens["covid-19"] == tokens["covid"] == tokens["19"] == 0
    assert tokens["疫情"] == 1


def test_full_width_characters_match_half_width() -> None:
    assert _tokens("ＷＡＧＴＡＩＬ２０２４", mode="query") == _tokens("wagtail2024", mode="query")


def test_values_of_one_field_do_not_form_phrases_across_the_boundary() -> None:
    tokens = _tokens(f"学习{VALUE_SEPARATOR}教育", mode="query")
    assert tokens[1][1] - tokens[0][1] > 1


def test_query_words_carry_pieces_that_tile_the_word() -> None:
    words = {word.text: word.pieces for word in query_words("支部书记 人民共和国 党")}
    assert words == {"支部书记": ("支部", "书记"), "人民共和国": ("人民", "共和国"), "党": ()}


def test_query_words_are_bounded() -> None:
    text = " ".join(f"word{number}" for number in range(1000))
    assert len(query_words(text)) == 32


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=80))
def test_any_text_analyses_with_ordered_positions_and_true_offsets(text: str) -> None:
    parent_positions = [token.pos for token in chinese_analyzer()(text, positions=True)]
    assert parent_positions == sorted(set(parent_positions))
    for term, start, end in index_terms(text):
        assert 0 <= start < end <= len(text)
        assert term in unicodedata.normalize("NFKC", text[start:end]).lower()
    query_words(text)


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=60), st.text(max_size=20))
def test_highlight_escapes_everything_but_its_marks(text: str, query: str) -> None:
    snippet = highlight(text, query, max_chars=40)
    without_marks = snippet.replace("<mark>", "").replace("</mark>", "")
    assert "<" not in without_marks and ">" not in without_marks


def test_highlight_marks_the_matched_word_inside_a_longer_word() -> None:
    assert highlight("坚持全面从严治党，<b>严</b>", "治党") == (
        "坚持全面从严<mark>治党</mark>，&lt;b&gt;严&lt;/b&gt;"
    )
    assert highlight("党支部书记带头学习", "支部书记") == "党<mark>支部书记</mark>带头学习"


def test_highlight_cuts_a_window_around_the_hits() -> None:
    text = "前言。" * 100 + "全面从严治党" + "。结语" * 100
    snippet = highlight(text, '"从严治党"', max_chars=40)
    assert snippet.startswith("…") and snippet.endswith("…")
    assert "<mark>从严治党</mark>" in snippet
    assert len(snippet.replace("<mark>", "").replace("</mark>", "")) == 42


# --- backend fixtures ---------------------------------------------------------------


@pytest.fixture
def course(content: Content) -> CoursePage:
    return add_course(title="党风廉政建设专题", summary="学习纪律处分条例。")


def _lesson(course: CoursePage, title: str, text: str = "学习内容。") -> LessonPage:
    return add_lesson(course, title, text)


def _titles(results: object) -> set[str]:
    return {page.title for page in results}  # type: ignore[attr-defined]


# --- finding Chinese words ----------------------------------------------------------


def test_chinese_words_in_titles_are_found_by_the_word_and_by_its_parts(
    backend: BaseSearchBackend, course: CoursePage
) -> None:
    _lesson(course, "全面从严治党")
    _lesson(course, "党史学习教育")
    for query in ("全面从严治党", "从严治党", "治党", "从严", "全面"):
        assert _titles(backend.search(query, LessonPage)) == {"全面从严治党"}, query
    # Not a word, and not a dictionary sub-word of one: not found (word search, not substring).
    assert _titles(backend.search("严治党", LessonPage)) == set()


def test_a_word_is_found_when_the_document_segments_it_differently(
    backend: BaseSearchBackend, course: CoursePage
) -> None:
    _lesson(course, "党支部书记述职")
    _lesson(course, "中华人民共和国宪法")
    assert _titles(backend.search("支部书记", LessonPage)) == {"党支部书记述职"}
    assert _titles(backend.search("人民共和国", LessonPage)) == {"中华人民共和国宪法"}


def test_body_text_is_searched_and_title_hits_rank_first(
    backend: BaseSearchBackend, course: CoursePage
) -> None:
    _lesson(course, "第一课", text="本课讲解民主集中制的基本内容。")
    _lesson(course, "民主集中制", text="概述。")
    results = list(backend.search("民主集中制", LessonPage))
    assert [page.title for page in results] == ["民主集中制", "第一课"]


def test_related_tags_are_searchable_once_the_transaction_commits(
    backend_name: str,
    index_dir: Path,
    settings,
    content: Content,
    django_capture_on_commit_callbacks,
) -> None:
    # A ClusterableModel saves its tags *after* post_save fires, so only a write that reads
    # the database after commit (the queued mode used in production) sees them.
    settings.WAGTAILSEARCH_BACKENDS = {
        "default": {**BACKENDS[backend_name], "WRITE_QUEUE": "search"}
    }
    with django_capture_on_commit_callbacks(execute=True):
        course = add_course(title="第一课程")
        course.tags.add("巡视整改")
        course.save()
    assert _titles(get_search_backend().search("巡视整改", CoursePage)) == {"第一课程"}


def test_documents_are_found_by_title_and_tags_within_a_collection(
    backend: BaseSearchBackend, db: None
) -> None:
    from wagtail.documents.models import Document
    from wagtail.models import Collection

    root = Collection.get_first_root_node()
    branch = root.add_child(name="支部材料")
    rules = upload("党费收缴使用管理规定", "rules.txt", b"x", collection=branch)
    rules.tags.add("组织生活")
    backend.add(Document.objects.get(pk=rules.pk))  # tags are saved after post_save
    upload("会议纪要", "notes.txt", b"x", collection=root)

    assert {doc.title for doc in backend.search("党费", Document)} == {"党费收缴使用管理规定"}
    assert {doc.title for doc in backend.search("组织生活", Document)} == {"党费收缴使用管理规定"}
    in_root = Document.objects.filter(collection=root)
    assert list(backend.search("党费", in_root)) == []
    assert {doc.title for doc in backend.autocomplete("党费收", Document)} == {
        "党费收缴使用管理规定"
    }


def test_all_words_are_required_by_default_and_any_with_or(
    backend: BaseSearchBackend, course: CoursePage
) -> None:
    _lesson(course, "从严治党与廉政教育")
    _lesson(course, "从严治党的历史")
    assert _titles(backend.search("从严治党 廉政", LessonPage)) == {"从严治党与廉政教育"}
    assert _titles(backend.search("从严治党 廉政", LessonPage, operator="or")) == {
        "从严治党与廉政教育",
        "从严治党的历史",
    }


def test_a_quoted_phrase_matches_only_adjacent_words_in_order(
    backend: BaseSearchBackend, course: CoursePage
) -> None:
    _lesson(course, "加强党员教育管理")
    _lesson(course, "教育引导党员")  # both words, but not "党员" followed by "教育"
    _, quoted = parse_query_string('"党员教育"')
    assert isinstance(quoted, Phrase)
    assert _titles(backend.search(quoted, LessonPage)) == {"加强党员教育管理"}
    assert _titles(backend.search(PlainText("党员教育"), LessonPage)) == {
        "加强党员教育管理",
        "教育引导党员",
    }
    # A dictionary sub-word stands at its parent's position, so it continues a phrase.
    _lesson(course, "全面从严治党")
    assert _titles(backend.search(Phrase("全面从严"), LessonPage)) == {"全面从严治党"}
    assert _titles(backend.search(Phrase("从严全面"), LessonPage)) == set()
    # Repeated words stay in the phrase.
    _lesson(course, "我们的党的建设")
    assert _titles(backend.search(Phrase("我们的党的建设"), LessonPage)) == {"我们的党的建设"}


def test_english_words_match_case_insensitively_without_stemming(
    backend: BaseSearchBackend, course: CoursePage
) -> None:
    _lesson(course, "Party History 党史")
    assert _titles(backend.search("party", LessonPage)) == {"Party History 党史"}
    assert _titles(backend.search("HISTORY", LessonPage)) == {"Party History 党史"}
    assert _titles(backend.search("parties", LessonPage)) == set()


def test_full_width_query_finds_half_width_text(
    backend: BaseSearchBackend, course: CoursePage
) -> None:
    _lesson(course, "Wagtail 2024 使用指南")
    assert _titles(backend.search("ＷＡＧＴＡＩＬ", LessonPage)) == {"Wagtail 2024 使用指南"}


@pytest.mark.parametrize(
    "query",
    [
        " ",
        "，。！？",
        "AND OR (",
        "title:",
        '"',
        '"""',
        "* ? ~ ^ [ ] { }",
        "\x00\u2029",
        "🎉🎉",
        "治党" * 5000,
    ],
)
def test_odd_queries_never_raise(
    backend: BaseSearchBackend, course: CoursePage, query: str
) -> None:
    _lesson(course, "全面从严治党")
    for search in (backend.search, backend.autocomplete):
        results = search(query, Page)
        assert results.count() >= 0
        list(results[:10])
    _, parsed = parse_query_string(query, operator="and")
    list(backend.search(parsed, Page))


def test_empty_query_finds_nothing(backend: BaseSearchBackend, course: CoursePage) -> None:
    _lesson(course, "全面从严治党")
    assert backend.search("", Page).count() == 0
    assert backend.search("，", Page).count() == 0


# --- filters, ordering, counting ----------------------------------------------------


def test_filters_used_by_wagtail_page_queries(backend: BaseSearchBackend, content: Content) -> None:
    first = add_course(title="学习课程一")
    second = add_course(title="学习课程二")
    in_first = _lesson(first, "学习第一课")
    in_first.save_revision().publish()  # sets first_published_at
    _lesson(second, "学习第二课")
    _lesson(first, "学习草稿").unpublish()

    querysets = {
        "descendant_of": Page.objects.descendant_of(first),
        "live": Page.objects.live().descendant_of(first),
        "child_of": Page.objects.child_of(content.courses),
        "type": Page.objects.type(CoursePage),
        "not_type": Page.objects.live().not_type(CoursePage),
        "depth__gt": Page.objects.filter(depth__gt=first.depth),
        "title": Page.objects.filter(title="学习第一课"),
        "pk__in": Page.objects.filter(pk__in=[in_first.pk, second.pk]),
        "isnull": Page.objects.filter(first_published_at__isnull=False),
        "exclude": Page.objects.exclude(first_published_at__isnull=False),
        "lte and bool": Page.objects.live().filter(locked=False, pk__lte=second.pk),
        "date range": Page.objects.filter(
            first_published_at__gte=Page.objects.get(pk=in_first.pk).first_published_at
        ),
        "locale": Page.objects.filter(locale=in_first.locale).live(),
    }
    for name, queryset in querysets.items():
        expected = {title for title in queryset.values_list("title", flat=True) if "学习" in title}
        assert expected, name
        assert _titles(queryset.search("学习")) == expected, name


def test_large_in_filters_and_subqueries_work(
    backend: BaseSearchBackend, course: CoursePage
) -> None:
    lessons = [_lesson(course, f"学习第{number}课") for number in range(3)]
    many = [lessons[0].pk, *range(100_000, 100_200)]
    assert _titles(Page.objects.filter(pk__in=many).search("学习")) == {"学习第0课"}
    visible = Page.objects.filter(pk__in=[lessons[1].pk]).values_list("pk", flat=True)
    assert _titles(Page.objects.filter(pk__in=visible).search("学习")) == {"学习第1课"}


def test_ordering_counting_slicing_and_scores(
    backend: BaseSearchBackend, course: CoursePage
) -> None:
    for title in ("学习丙", "学习甲", "学习乙", "学习丁"):
        _lesson(course, title)
    ordered = LessonPage.objects.order_by("title").search("学习", order_by_relevance=False)
    assert [page.title for page in ordered] == sorted(["学习丙", "学习甲", "学习乙", "学习丁"])
    newest_first = Page.objects.type(LessonPage).order_by("-id")
    results = newest_first.search("学习", order_by_relevance=False)
    assert [page.title for page in results] == ["学习丁", "学习乙", "学习甲", "学习丙"]
    assert results.count() == 4
    assert results[1:3].count() == 2
    assert [page.title for page in results[1:3]] == ["学习乙", "学习甲"]
    scored = list(backend.search("学习", LessonPage).annotate_score("score"))
    assert all(page.score > 0 for page in scored)


def test_facets_count_content_types(backend: BaseSearchBackend, course: CoursePage) -> None:
    _lesson(course, "学习一")
    _lesson(course, "学习二")
    from django.contrib.contenttypes.models import ContentType

    lesson_type = ContentType.objects.get_for_model(LessonPage).pk
    course_type = ContentType.objects.get_for_model(CoursePage).pk
    facets = backend.search("学习", Page).facet("content_type_id")
    assert facets == {lesson_type: 2, course_type: 1}


def test_admin_page_search_uses_the_index(
    backend: BaseSearchBackend, course: CoursePage, client, tree
) -> None:
    from tests.factories.people import MemberFactory

    _lesson(course, "全面从严治党")
    _lesson(course, "党史学习教育")
    superuser = MemberFactory(organization=tree.committee)
    superuser.is_superuser = True
    superuser.save()
    client.force_login(superuser)
    response = client.get("/admin/pages/search/", {"q": "治党"})
    assert response.status_code == 200
    page = response.content.decode()
    assert "全面从严治党" in page
    assert "党史学习教育" not in page


# --- keeping the index in sync -------------------------------------------------------


def test_update_replaces_and_delete_removes(backend: BaseSearchBackend, course: CoursePage) -> None:
    lesson = _lesson(course, "党风廉政建设")
    lesson.title = "民主集中制"
    lesson.save_revision().publish()
    assert _titles(backend.search("廉政", LessonPage)) == set()
    assert _titles(backend.search("民主集中制", LessonPage)) == {"民主集中制"}
    lesson.delete()
    assert backend.search("民主集中制", Page).count() == 0


def test_unpublish_and_move_update_filter_values(
    backend: BaseSearchBackend, content: Content
) -> None:
    first = add_course(title="课程一")
    second = add_course(title="课程二")
    lesson = _lesson(first, "党章学习")
    lesson.unpublish()
    assert _titles(Page.objects.live().search("党章")) == set()
    assert _titles(Page.objects.search("党章")) == {"党章学习"}
    first.move(second, pos="last-child")  # the lesson moves along with its course
    assert _titles(Page.objects.descendant_of(second).search("党章")) == {"党章学习"}
    assert _titles(Page.objects.child_of(content.courses).search("课程")) == {"课程二"}


def test_queued_writes_happen_after_commit(
    backend_name: str,
    index_dir: Path,
    settings,
    course: CoursePage,
    django_capture_on_commit_callbacks,
) -> None:
    settings.WAGTAILSEARCH_BACKENDS = {
        "default": {**BACKENDS[backend_name], "WRITE_QUEUE": "search"}
    }
    search_backend = get_search_backend()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        lesson = _lesson(course, "从严治党")
    assert search_backend.search("从严治党", LessonPage).count() == 0
    for callback in callbacks:
        callback()  # Celery runs eagerly in tests: this is the worker's job
    assert _titles(search_backend.search("从严治党", LessonPage)) == {"从严治党"}
    with django_capture_on_commit_callbacks(execute=True):
        lesson.delete()
    assert search_backend.search("从严治党", LessonPage).count() == 0


def test_concurrent_writers_wait_for_each_other_and_lose_nothing(
    whoosh_backend: WhooshSearchBackend, course: CoursePage
) -> None:
    lessons = [_lesson(course, f"并发第{number}课") for number in range(24)]
    index = whoosh_backend.get_index_for_model(LessonPage)
    errors: list[BaseException] = []

    def write(batch: list[LessonPage]) -> None:
        try:
            for lesson in batch:
                lesson.title = f"{lesson.title} 修订版"
                WhooshSearchBackend({}).add(lesson)
        except BaseException as error:  # collected for the assertion below
            errors.append(error)

    holder_ready = threading.Event()

    def hold_the_lock() -> None:
        with index.live_writer([]):
            holder_ready.set()
            time.sleep(0.5)

    holder = threading.Thread(target=hold_the_lock)
    holder.start()
    holder_ready.wait()
    writers = [threading.Thread(target=write, args=(lessons[start::4],)) for start in range(4)]
    for thread in writers:
        thread.start()
    for thread in [holder, *writers]:
        thread.join()
    assert errors == []
    assert whoosh_backend.search("修订版", LessonPage).count() == 24


def _write_in_child(directory: str, generation: str, worker: int) -> None:
    store = IndexStore(Path(directory), write_timeout=30)
    for number in range(15):
        writer = store.locked_writer(generation)
        writer.add_document(ix__key=f"{worker}-{number}", title="并发写入")
        time.sleep(0.002)  # keep the lock long enough for the other process to queue
        writer.commit()


def test_two_processes_writing_at_once_both_succeed(tmp_path: Path) -> None:
    from whoosh.fields import ID, Schema

    from cms.search.mapping import text_field

    store = IndexStore(tmp_path / "index")
    generation = store.ensure(Schema(ix__key=ID(stored=True, unique=True), title=text_field()))
    context = multiprocessing.get_context("fork")
    children = [
        context.Process(target=_write_in_child, args=(str(store.directory), generation, worker))
        for worker in range(2)
    ]
    for child in children:
        child.start()
    for child in children:
        child.join(timeout=120)
    assert [child.exitcode for child in children] == [0, 0]
    with store.open(generation).searcher() as searcher:
        assert searcher.doc_count() == 30


def test_opening_survives_a_commit_that_replaces_the_toc_it_just_listed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The race two web workers ran into: the listed TOC is deleted before it is read."""
    from whoosh.fields import ID, Schema
    from whoosh.filedb.filestore import FileStorage

    from cms.search.mapping import text_field

    store = IndexStore(tmp_path / "index")
    generation = store.ensure(Schema(ix__key=ID(stored=True, unique=True), title=text_field()))
    real_open_file = FileStorage.open_file
    raced: list[str] = []

    def open_file(storage: FileStorage, name: str, *args: object, **kwargs: object) -> object:
        if name.endswith(".toc") and not raced:
            raced.append(name)
            writer = store.open(generation).writer()  # another worker's commit
            writer.add_document(ix__key="other", title="另一进程")
            writer.commit()
        return real_open_file(storage, name, *args, **kwargs)

    monkeypatch.setattr(FileStorage, "open_file", open_file)
    writer = store.locked_writer(generation)
    writer.add_document(ix__key="mine", title="本进程")
    writer.commit()
    assert raced and not (store.generation_path(generation) / raced[0]).exists()
    with store.open(generation).searcher() as searcher:
        assert {fields["ix__key"] for fields in searcher.all_stored_fields()} == {"mine", "other"}


def test_opening_a_removed_generation_fails_at_once(tmp_path: Path) -> None:
    from whoosh.index import EmptyIndexError

    store = IndexStore(tmp_path / "index")
    started = time.monotonic()
    with pytest.raises((FileNotFoundError, EmptyIndexError)):
        store.open("g-gone")
    assert time.monotonic() - started < 0.5


def test_a_writer_that_waits_too_long_gets_a_clear_error(
    whoosh_backend: WhooshSearchBackend, course: CoursePage
) -> None:
    lesson = _lesson(course, "等待")
    impatient = WhooshSearchBackend({"WRITE_TIMEOUT": 0.2})
    holder = whoosh_backend.get_index_for_model(LessonPage)
    with holder.live_writer([]), pytest.raises(IndexBusyError, match="stayed locked"):
        impatient.add(lesson)


def test_rebuild_is_atomic_and_keeps_updates_made_while_it_runs(
    whoosh_backend: WhooshSearchBackend, course: CoursePage, index_dir: Path
) -> None:
    lessons = [_lesson(course, f"重建第{number}课") for number in range(5)]
    index = whoosh_backend.get_index_for_model(Page)
    rebuilder = whoosh_backend.rebuilder_class(index)
    building = rebuilder.start()
    building.add_items(LessonPage, lessons[:2])
    # Half-way through: searches still see the old, complete index …
    assert whoosh_backend.search("重建", LessonPage).count() == 5
    # … and an edit made now is not lost when the new generation replaces it.
    lessons[4].title = "民主评议"
    lessons[4].save_revision().publish()
    building.add_items(LessonPage, [LessonPage.objects.get(pk=page.pk) for page in lessons[2:4]])
    old_generation = (index_dir / "wagtailcore_page" / CURRENT).read_text().strip()
    rebuilder.finish()
    new_generation = (index_dir / "wagtailcore_page" / CURRENT).read_text().strip()
    assert new_generation != old_generation
    assert whoosh_backend.search("重建", LessonPage).count() == 4
    assert _titles(whoosh_backend.search("民主评议", LessonPage)) == {"民主评议"}


def test_update_index_command_rebuilds_every_index(
    whoosh_backend: WhooshSearchBackend, course: CoursePage, index_dir: Path
) -> None:
    _lesson(course, "全面从严治党")
    (index_dir / "wagtailcore_page" / CURRENT).unlink()  # as if the index were lost
    assert whoosh_backend.search("治党", LessonPage).count() == 0
    call_command("update_index", verbosity=0)
    assert _titles(whoosh_backend.search("治党", LessonPage)) == {"全面从严治党"}
    call_command("update_index", verbosity=0)
    generations = [path for path in (index_dir / "wagtailcore_page").iterdir() if path.is_dir()]
    assert len(generations) <= 2  # the live one and the one it just replaced


def test_unknown_backend_options_are_refused(index_dir: Path) -> None:
    from django.core.exceptions import ImproperlyConfigured

    with pytest.raises(ImproperlyConfigured, match="WRITE_QUEU"):
        WhooshSearchBackend({"WRITE_QUEU": "search"})
