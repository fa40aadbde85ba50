"""/healthz and /readyz: what a load balancer and monitoring rely on, with real outages."""

from __future__ import annotations

import datetime
import os
import shutil
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.db import connection, connections
from django.db.migrations.recorder import MigrationRecorder
from django.test import Client, override_settings
from django.utils import timezone
from wagtail.models import Page
from wagtail.search.backends import get_search_backend

from learning.models import UnsentTask
from ops.heartbeats import COMPONENTS, FRESH_SECONDS, heartbeat_record
from tests.factories.people import MemberFactory
from tests.ops.conftest import readyz
from tests.ops.proxy import reachable

CRITICAL = ["database", "migrations", "cache", "broker", "search_index"]
LIVENESS = ["celery_beat", "celery_worker_default", "celery_worker_search"]
# A probe answers within a check's timeout plus django-health-check's grace second; the
# rest is slack for a loaded test machine.
ANSWER_WITHIN_SECONDS = 6


def _all_alive(at: datetime.datetime | None = None) -> None:
    for component in COMPONENTS:
        heartbeat_record(name=component, at=at or timezone.now())


def _build_page_index() -> Path:
    """A real, non-empty page index, written by the search backend."""
    backend = get_search_backend()
    index = backend.get_index_for_model(Page)
    index.reset()
    index.sync(Page, list(Page.objects.values_list("pk", flat=True)))
    return index.store.directory


# --- /healthz ------------------------------------------------------------------------------


def test_healthz_answers_ok_without_touching_the_database(db, django_assert_num_queries):
    client = Client()
    with django_assert_num_queries(0):
        response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert "no-store" in response["Cache-Control"]


def test_healthz_reads_no_session_even_for_a_logged_in_member(db, django_assert_num_queries):
    member = MemberFactory(must_change_password=True)
    client = Client()
    client.force_login(member)
    with django_assert_num_queries(0):
        response = client.get("/healthz")
    # A member who must change their password is not redirected either: no user was loaded.
    assert response.status_code == 200


def test_healthz_refuses_writes(db):
    assert Client().post("/healthz").status_code == 405


def test_probes_over_plain_http_are_not_redirected_to_https(db, settings):
    settings.SECURE_SSL_REDIRECT = True
    client = Client()
    assert client.get("/healthz").status_code == 200
    assert client.get("/readyz").status_code in (200, 503)
    assert client.get("/accounts/login/").status_code == 301


# --- /readyz on the test settings -------------------------------------------------------


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_readyz_is_ok_when_every_service_answers_and_every_process_is_alive():
    _build_page_index()
    _all_alive()
    status, body, checks = readyz(Client())
    assert status == 200, body
    assert body["status"] == "ok"
    assert [check["name"] for check in body["checks"]] == [*CRITICAL, "unsent_tasks", *LIVENESS]
    assert checks["unsent_tasks"] == {**checks["unsent_tasks"], "status": "ok", "critical": False}
    for name in CRITICAL:
        assert checks[name]["status"] == "ok"
        assert checks[name]["critical"] is True
        assert 0 <= checks[name]["latency_ms"] < ANSWER_WITHIN_SECONDS * 1000
    for name in LIVENESS:
        assert checks[name]["status"] == "fresh"
        assert checks[name]["critical"] is False
        assert 0 <= checks[name]["age_seconds"] <= 5


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_readyz_needs_no_login_and_is_never_cached():
    response = Client().get("/readyz", HTTP_ACCEPT="text/html")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert "no-store" in response["Cache-Control"]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_tasks_waiting_for_the_broker_degrade_readyz_without_pulling_the_server():
    _build_page_index()
    _all_alive()
    UnsentTask.objects.create(task_name="cms.search.sync", error="ConnectionError: refused")
    status, body, checks = readyz(Client())
    assert status == 200
    assert body["status"] == "degraded"
    assert checks["unsent_tasks"]["status"] == "failing"
    assert checks["unsent_tasks"]["error"].startswith("1 background task(s) waiting")
    UnsentTask.objects.all().delete()
    assert readyz(Client())[1]["status"] == "ok"


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_stopped_beat_shows_stale_but_keeps_the_server_in_the_load_balancer():
    long_ago = timezone.now() - datetime.timedelta(seconds=FRESH_SECONDS + 60)
    heartbeat_record(name="beat", at=long_ago)
    heartbeat_record(name="worker:default", at=timezone.now())
    status, body, checks = readyz(Client())
    assert status == 200
    assert body["status"] == "degraded"
    assert checks["celery_beat"]["status"] == "stale"
    assert checks["celery_beat"]["age_seconds"] >= FRESH_SECONDS + 60
    assert checks["celery_worker_default"]["status"] == "fresh"
    # Never seen at all: stale, with no age.
    assert checks["celery_worker_search"]["status"] == "stale"
    assert checks["celery_worker_search"]["age_seconds"] is None


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_an_unapplied_migration_makes_readyz_503_until_it_is_applied():
    recorder = MigrationRecorder(connection)
    recorder.record_unapplied("ops", "0001_initial")
    try:
        status, _body, checks = readyz(Client())
        assert status == 503
        assert checks["migrations"]["status"] == "failing"
        assert "1 migration(s) not applied" in checks["migrations"]["error"]
    finally:
        recorder.record_applied("ops", "0001_initial")
    status, _body, checks = readyz(Client())
    assert status == 200
    assert checks["migrations"]["status"] == "ok"


# --- the search index -------------------------------------------------------------------


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_readyz_503_while_the_index_directory_is_gone_and_200_when_it_is_back(settings):
    _build_page_index()
    client = Client()
    assert readyz(client)[0] == 200

    index_dir = Path(settings.SEARCH_INDEX_DIR)
    moved = index_dir.with_name(index_dir.name + "-moved")
    index_dir.rename(moved)
    try:
        status, body, checks = readyz(client)
        assert status == 503
        assert body["status"] == "failing"
        assert checks["search_index"]["status"] == "failing"
        assert checks["search_index"]["error"].startswith(
            "the search index directory does not exist"
        )
        # Only the index failed.
        assert all(checks[name]["status"] == "ok" for name in CRITICAL if name != "search_index")
    finally:
        moved.rename(index_dir)
    assert readyz(client)[0] == 200


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.skipif(os.geteuid() == 0, reason="root reads every directory, whatever its mode")
def test_readyz_503_while_the_index_is_unreadable(settings):
    page_index = _build_page_index()
    page_index.chmod(0)
    try:
        status, _body, checks = readyz(Client())
        assert status == 503
        assert checks["search_index"]["status"] == "failing"
    finally:
        page_index.chmod(0o755)
    assert readyz(Client())[0] == 200


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_readyz_503_when_the_index_is_damaged():
    page_index = _build_page_index()
    generation = page_index / (page_index / "CURRENT").read_text().strip()
    saved = generation.with_name(generation.name + "-saved")
    shutil.copytree(generation, saved)
    for toc in generation.glob("*.toc"):
        toc.write_bytes(b"not a table of contents")
    try:
        status, _body, checks = readyz(Client())
        assert status == 503
        assert checks["search_index"]["error"].startswith("the search index does not open")
    finally:
        shutil.rmtree(generation)
        saved.rename(generation)
    assert readyz(Client())[0] == 200


def test_an_index_never_built_is_not_an_outage(db, settings):
    # A new installation before its first page: the directory exists, no index in it yet.
    assert list(Path(settings.SEARCH_INDEX_DIR).iterdir()) == []
    _status, _body, checks = readyz(Client())
    assert checks["search_index"]["status"] == "ok"


# --- the embedded filesystem broker ---------------------------------------------------


def test_the_filesystem_broker_is_ready_when_its_folders_are_writable(db, settings, tmp_path):
    folders = {name: tmp_path / name for name in ("queue", "control", "processed")}
    for folder in folders.values():
        folder.mkdir()
    settings.CELERY_BROKER_URL = "filesystem://localhost//"
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(folders["queue"]),
        "data_folder_out": str(folders["queue"]),
        "control_folder": str(folders["control"]),
        "processed_folder": str(folders["processed"]),
    }
    client = Client()
    assert readyz(client)[2]["broker"]["status"] == "ok"

    shutil.rmtree(folders["queue"])
    status, _body, checks = readyz(client)
    assert status == 503
    assert checks["broker"]["error"] == "the broker's data_folder_in is missing or not writable"


# --- PostgreSQL and Redis, cut and restored -----------------------------------------------


def _redis_target() -> tuple[str, int, str]:
    url = urlsplit(os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/10")
    return url.hostname or "127.0.0.1", url.port or 6379, url.path.lstrip("/") or "0"


@pytest.fixture
def redis_through_proxy(proxy_to):
    host, port, database = _redis_target()
    if not reachable(host, port):
        pytest.skip(f"Redis is not reachable at {host}:{port} (set REDIS_URL or start it)")
    proxy = proxy_to(host, port)
    url = f"redis://127.0.0.1:{proxy.port}/{database}"
    # Undone before the proxy closes (the suite's own fixtures clear the cache after).
    with override_settings(
        CACHES={
            "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": url}
        },
        CELERY_BROKER_URL=url,
        CELERY_BROKER_TRANSPORT_OPTIONS={},
    ):
        yield proxy


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_readyz_503_while_redis_is_down_and_200_when_it_is_back(redis_through_proxy):
    proxy = redis_through_proxy
    client = Client()
    status, body, checks = readyz(client)
    assert status == 200, body
    assert checks["cache"]["status"] == checks["broker"]["status"] == "ok"

    proxy.cut()
    status, body, checks = readyz(client)
    assert status == 503
    assert body["status"] == "failing"
    assert checks["cache"]["status"] == checks["broker"]["status"] == "failing"
    assert checks["database"]["status"] == "ok"
    # Said without the service's address.
    text = str(body)
    assert "127.0.0.1" not in text
    assert str(proxy.port) not in text

    proxy.restore()
    status, body, checks = readyz(client)
    assert status == 200, body
    assert checks["cache"]["status"] == checks["broker"]["status"] == "ok"


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_readyz_answers_in_seconds_when_redis_drops_every_packet(redis_through_proxy):
    proxy = redis_through_proxy
    proxy.black_hole()
    started = time.monotonic()
    status, _body, checks = readyz(Client())
    assert time.monotonic() - started < ANSWER_WITHIN_SECONDS
    assert status == 503
    assert checks["cache"]["status"] == checks["broker"]["status"] == "failing"
    proxy.restore()
    assert readyz(Client())[0] == 200


@pytest.fixture
def database_through_proxy(monkeypatch, proxy_to):
    database = connections.settings["default"]
    if not database["ENGINE"].endswith("postgresql"):
        pytest.skip("the database under test is SQLite; runs with DATABASE_URL=postgres://…")
    host, port = database["HOST"] or "127.0.0.1", int(database["PORT"] or 5432)
    if host.startswith("/"):
        pytest.skip("PostgreSQL is reached through a Unix socket, which the proxy cannot cut")
    if not reachable(host, port):
        pytest.skip(f"PostgreSQL is not reachable at {host}:{port}")
    proxy = proxy_to(host, port)
    # The probes open connections of their own from these settings; the test's own
    # connection is opened first, so it stays direct (the flush after the test needs it).
    connection.ensure_connection()
    monkeypatch.setitem(database, "HOST", "127.0.0.1")
    monkeypatch.setitem(database, "PORT", str(proxy.port))
    return proxy


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_readyz_503_while_postgresql_is_down_and_200_when_it_is_back(database_through_proxy):
    proxy = database_through_proxy
    _build_page_index()
    _all_alive()
    client = Client()
    status, body, checks = readyz(client)
    assert status == 200, body
    assert checks["database"]["status"] == "ok"

    proxy.cut()
    status, body, checks = readyz(client)
    assert status == 503
    assert checks["database"]["status"] == "failing"
    assert checks["database"]["error"].startswith("cannot connect or query")
    # The beat's and workers' ages cannot be read either; they do not decide the status.
    assert checks["celery_beat"]["status"] == "unknown"
    assert "127.0.0.1" not in str(body)

    proxy.restore()
    status, body, checks = readyz(client)
    assert status == 200, body
    assert body["status"] == "ok"


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_readyz_answers_in_seconds_when_postgresql_drops_every_packet(database_through_proxy):
    proxy = database_through_proxy
    proxy.black_hole()
    started = time.monotonic()
    status, _body, checks = readyz(Client())
    assert time.monotonic() - started < ANSWER_WITHIN_SECONDS
    assert status == 503
    assert checks["database"]["status"] == "failing"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_readyz_checks_the_postgres_index_table_when_that_backend_is_used(settings):
    settings.WAGTAILSEARCH_BACKENDS = {"default": {"BACKEND": "cms.search.postgres"}}
    # No index directory is needed: the index lives in the database.
    settings.SEARCH_INDEX_DIR = Path(settings.SEARCH_INDEX_DIR) / "never-created"
    client = Client()
    assert readyz(client)[2]["search_index"]["status"] == "ok"
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE cms_searchentry RENAME TO cms_searchentry_away")
    try:
        status, _body, checks = readyz(client)
        assert status == 503
        assert checks["search_index"]["error"].startswith("cannot read the search index")
    finally:
        with connection.cursor() as cursor:
            cursor.execute("ALTER TABLE cms_searchentry_away RENAME TO cms_searchentry")
    assert readyz(client)[2]["search_index"]["status"] == "ok"
