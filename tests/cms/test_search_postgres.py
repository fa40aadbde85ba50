"""The PostgreSQL search backend: what it writes, what it asks, and what only it must do.

The behaviour it shares with the Whoosh backend (words, phrases, filters, counts, facets,
publish and delete) is tested on both by ``tests/cms/test_search_backend.py`` and
``tests/cms/test_search_page.py``. Here: the tsvector and tsquery texts (pure, on any
database), and on PostgreSQL the atomic rebuild under concurrent searches and writes,
``update_index``, and the same matches as Whoosh on a corpus of demo prose.
"""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.db import connection
from modelsearch.backends import get_search_backend
from modelsearch.query import Phrase
from wagtail.models import Page
from whoosh import query as wq

from cms.models import LessonPage, PolicyDocumentPage, SearchEntry
from cms.search.postgres import (
    MATCH_ALL,
    PostgresSearchBackend,
    document_vector,
    quote_lexeme,
    tsquery_of,
)
from cms.search.query import phrase_text_query, plain_text_query
from cms.search.storage import forget_searchers
from tests.benchmarks.search_bench import QUERIES, synthetic_documents
from tests.cms.conftest import BACKENDS
from tests.factories.pages import Content, add_course, add_lesson, add_policy

COLUMNS = {"title": 2.0, "body": 1.0}

# --- the texts PostgreSQL receives (no database) ---------------------------------------


def _positions(vector: str) -> dict[str, str]:
    """``{lexeme: "positions and labels"}`` of a tsvector literal made of simple lexemes."""
    found = {}
    for item in vector.split(" "):
        lexeme, _, positions = item.rpartition(":")
        found[lexeme.strip("'")] = positions
    return found


def test_every_word_becomes_a_column_lexeme_at_its_word_position() -> None:
    vector = _positions(
        document_vector({"title": "坚持全面从严治党", "body": "加强党员教育"}, COLUMNS)
    )
    assert vector["title:坚持"] == "1A"
    assert vector["title:从严治党"] == "3A"
    # Sub-words stand at their parent word's position, so phrases continue through them.
    assert vector["title:治党"] == vector["title:从严"] == "3A"
    assert vector["body:党员"] == "2C"
    assert "body:坚持" not in vector


def test_columns_without_text_role_and_repeated_words_are_handled() -> None:
    vector = _positions(
        document_vector({"ix__key": "7", "live_filter": 1, "body": "学习 学习 Party"}, COLUMNS)
    )
    assert vector == {"body:学习": "1C,2C", "body:party": "3C"}


def test_quotes_and_backslashes_are_escaped_in_lexemes() -> None:
    assert quote_lexeme("body:it's") == "'body:it''s'"
    assert quote_lexeme("body:a\\b") == "'body:a\\\\b'"


@pytest.mark.postgres
@pytest.mark.django_db
def test_postgres_reads_escaped_lexemes_back_unchanged() -> None:
    lexeme = "body:it's a\\b:*"
    vector, query = quote_lexeme(lexeme) + ":1C", quote_lexeme(lexeme)
    with connection.cursor() as cursor:
        cursor.execute("SELECT lexeme FROM unnest(CAST(%s AS tsvector))", [vector])
        assert cursor.fetchone() == (lexeme,)
        cursor.execute("SELECT CAST(%s AS tsvector) @@ CAST(%s AS tsquery)", [vector, query])
        assert cursor.fetchone() == (True,)


def test_the_compiled_query_becomes_the_same_tsquery() -> None:
    words = plain_text_query("支部书记 党", COLUMNS, operator="and")
    assert tsquery_of(words) == (
        "((('title:支部书记' | ('title:支部' & 'title:书记')) | ('body:支部书记' | "
        "('body:支部' & 'body:书记'))) & ('title:党' | 'body:党'))"
    )
    phrase = phrase_text_query("党员教育", COLUMNS)
    assert tsquery_of(phrase) == (
        "(('title:党员' <-> 'title:教育') | ('body:党员' <-> 'body:教育'))"
    )
    prefix = plain_text_query("从严治", {"title": 1.0}, operator="and", prefix=True)
    assert tsquery_of(prefix) == "('title:从严':* & 'title:治':*)"


def test_queries_without_words_match_nothing_and_negations_invert() -> None:
    assert tsquery_of(plain_text_query("，。", COLUMNS, operator="and")) is None
    assert tsquery_of(wq.Every()) is MATCH_ALL
    assert tsquery_of(wq.Not(wq.NullQuery)) is MATCH_ALL
    assert tsquery_of(wq.And([wq.Term("body", "党"), wq.NullQuery])) is None
    assert tsquery_of(wq.Or([wq.Term("body", "党"), wq.NullQuery])) == "('body:党')"
    assert tsquery_of(wq.Not(wq.Term("body", "党"))) == "!'body:党'"


@pytest.mark.django_db
def test_the_backend_refuses_other_databases_and_unknown_options() -> None:
    if connection.vendor != "postgresql":
        with pytest.raises(ImproperlyConfigured, match="PostgreSQL database"):
            PostgresSearchBackend({})
        return
    with pytest.raises(ImproperlyConfigured, match="WRITE_QUEU"):
        PostgresSearchBackend({"WRITE_QUEU": "search"})


# --- on PostgreSQL ---------------------------------------------------------------------


@pytest.fixture
def postgres(settings: Any, tmp_path: Any) -> PostgresSearchBackend:
    settings.WAGTAILSEARCH_BACKENDS = {"default": BACKENDS["postgres"]}
    search_backend = get_search_backend()
    assert isinstance(search_backend, PostgresSearchBackend)
    return search_backend


def _titles(results: Any) -> set[str]:
    return {page.title for page in results}


@pytest.mark.postgres
def test_apostrophes_and_backslashes_are_searchable(
    postgres: PostgresSearchBackend, content: Content
) -> None:
    course = add_course(title="课程")
    add_lesson(course, "it's 学习 a\\b")
    assert _titles(postgres.search("it's", LessonPage)) == {"it's 学习 a\\b"}
    assert _titles(postgres.search("a\\b", LessonPage)) == {"it's 学习 a\\b"}
    assert _titles(postgres.search(Phrase("it's 学习"), LessonPage)) == {"it's 学习 a\\b"}
    assert list(postgres.search("'&|!:*", LessonPage)) == []


@pytest.mark.postgres
def test_update_index_rebuilds_lost_entries(
    postgres: PostgresSearchBackend, content: Content
) -> None:
    course = add_course(title="课程")
    lesson = add_lesson(course, "全面从严治党")
    SearchEntry.objects.all().delete()  # as if the index were lost
    assert postgres.search("治党", LessonPage).count() == 0
    call_command("update_index", verbosity=0)
    assert _titles(postgres.search("治党", LessonPage)) == {"全面从严治党"}
    call_command("update_index", verbosity=0)
    assert SearchEntry.objects.filter(object_id=str(lesson.pk)).count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_rebuild_is_atomic_and_a_write_during_it_lands_after(settings: Any) -> None:
    from tests.factories.pages import site_content

    settings.WAGTAILSEARCH_BACKENDS = {"default": {**BACKENDS["postgres"], "WRITE_TIMEOUT": 20}}
    site_content()
    backend = get_search_backend()
    course = add_course(title="课程")
    lessons = [add_lesson(course, f"重建第{number}课") for number in range(5)]
    seen_during: list[int] = []
    errors: list[BaseException] = []

    def in_another_connection(work: Any) -> threading.Thread:
        def run() -> None:
            try:
                work()
            except BaseException as error:  # collected for the assertions below
                errors.append(error)
            finally:
                connection.close()

        thread = threading.Thread(target=run)
        thread.start()
        return thread

    def search_now() -> None:
        seen_during.append(get_search_backend().search("重建", LessonPage).count())

    def publish_an_edit() -> None:
        edited = LessonPage.objects.get(pk=lessons[4].pk)
        edited.title = "民主评议"
        edited.save_revision().publish()

    index = backend.get_index_for_model(LessonPage)
    rebuilder = backend.rebuilder_class(index)
    building = rebuilder.start()
    building.add_items(LessonPage, LessonPage.objects.filter(pk__in=[p.pk for p in lessons]))
    in_another_connection(search_now).join()
    # The edit commits its page, then waits for the entry the rebuild holds.
    writer = in_another_connection(publish_an_edit)
    writer.join(timeout=1.0)
    assert writer.is_alive()
    rebuilder.finish()
    writer.join(timeout=20)
    assert not errors
    assert seen_during == [5]  # the old, complete index while the rebuild ran
    assert backend.search("重建", LessonPage).count() == 4
    assert _titles(backend.search("民主评议", LessonPage)) == {"民主评议"}


@pytest.mark.postgres
def test_a_rebuild_that_fails_leaves_the_old_entries(
    postgres: PostgresSearchBackend, content: Content
) -> None:
    course = add_course(title="课程")
    add_lesson(course, "全面从严治党")
    rebuilder = postgres.rebuilder_class(postgres.get_index_for_model(LessonPage))
    rebuilder.start()
    assert postgres.search("治党", LessonPage).count() == 0  # inside the rebuild: empty
    rebuilder.abort()
    assert _titles(postgres.search("治党", LessonPage)) == {"全面从严治党"}


@pytest.mark.postgres
def test_both_backends_find_the_same_pages_in_demo_prose(
    settings: Any, tmp_path: Any, content: Content
) -> None:
    settings.SEARCH_INDEX_DIR = tmp_path / "index"
    settings.WAGTAILSEARCH_BACKENDS = {
        "default": {**BACKENDS["whoosh"], "AUTO_UPDATE": False},
        "postgres": {**BACKENDS["postgres"], "AUTO_UPDATE": False},
    }
    forget_searchers()
    course = add_course(title="专题课程")
    documents = synthetic_documents(count=60, seed=7)
    for number, document in enumerate(documents):
        if document.kind == "lesson":
            add_lesson(course, document.title, body=document.body())
        else:
            add_policy(
                document.title,
                "",
                body=document.body(),
                slug=f"policy-{number}",
                document_number=document.document_number,
                issuing_body=document.issuing_body,
            )
    for name in ("default", "postgres"):
        call_command("rebuild_modelsearch_index", backend_name=name, verbosity=0)
    searched = Page.objects.live().type(LessonPage, PolicyDocumentPage).specific()
    compared = 0
    for query in [query for group in QUERIES.values() for query in group]:
        whoosh = {page.pk for page in searched.search(query, backend="default")}
        postgres = {page.pk for page in searched.search(query, backend="postgres")}
        assert postgres == whoosh, query
        assert searched.search(query, backend="postgres").count() == len(whoosh), query
        compared += bool(whoosh)
    assert compared >= 20  # most queries find something in this corpus
    forget_searchers()
