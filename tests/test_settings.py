"""Configuration: embedded defaults, production refusals, migrations in step with models."""

from __future__ import annotations

import io
import json
import os
import secrets
import string
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command

REPO = Path(__file__).resolve().parent.parent
# Variables a test sets itself; one left over in the caller's environment would leak in.
SETTINGS_VARIABLES = {
    "SECRET_KEY",
    "ALLOWED_HOSTS",
    "DATABASE_URL",
    "REDIS_URL",
    "DJANGO_SETTINGS_MODULE",
    "SECURE_SSL_REDIRECT",
    "SECURE_HSTS_SECONDS",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS",
    "SECURE_HSTS_PRELOAD",
    "SECURE_PROXY_SSL_HEADER",
    "SECURE_COOKIES",
    "SCREEN_FRAME_ANCESTORS",
    "VIDEO_EMBED_ORIGINS",
    "SEARCH_BACKEND",
}
PRODUCTION = {
    # 50 random characters, as `check --deploy` wants of a real key.
    "SECRET_KEY": "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(50)),
    "ALLOWED_HOSTS": "dangjian.example.org",
}


# Set by the browser tests' fixture while Chromium runs (tests/browser/conftest.py); never
# part of a real deployment, whose checks would otherwise warn about it.
TEST_ONLY_VARIABLES = {"DJANGO_ALLOW_ASYNC_UNSAFE"}


def _environment(env: dict[str, str]) -> dict[str, str]:
    clean_env = {
        key: value
        for key, value in os.environ.items()
        if key not in SETTINGS_VARIABLES and key not in TEST_ONLY_VARIABLES
    }
    clean_env.update(env)
    return clean_env


def _import_settings(module: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean_env = _environment(env)
    code = (
        f"import importlib, json; s = importlib.import_module({module!r}); "
        "print(json.dumps({'db': s.DATABASES['default']['ENGINE'], "
        "'broker': s.CELERY_BROKER_URL, 'cache': s.CACHES['default']['BACKEND'], "
        "'lang': s.LANGUAGE_CODE, 'tz': s.TIME_ZONE, 'sessions': s.SESSION_ENGINE}))"
    )
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO,
        env=clean_env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_embedded_defaults_need_no_services():
    result = _import_settings("config.settings.dev", {})
    assert result.returncode == 0, result.stderr
    assert '"db": "django.db.backends.sqlite3"' in result.stdout
    assert '"broker": "filesystem://localhost//"' in result.stdout
    assert "LocMemCache" in result.stdout
    assert '"lang": "zh-hans"' in result.stdout
    assert '"tz": "Asia/Shanghai"' in result.stdout
    assert '"sessions": "django.contrib.sessions.backends.db"' in result.stdout


def test_redis_url_switches_broker_and_cache():
    result = _import_settings("config.settings.dev", {"REDIS_URL": "redis://127.0.0.1:6379/3"})
    assert result.returncode == 0, result.stderr
    assert '"broker": "redis://127.0.0.1:6379/3"' in result.stdout
    assert "RedisCache" in result.stdout
    # Sessions read from Redis, written through to the database.
    assert '"sessions": "django.contrib.sessions.backends.cached_db"' in result.stdout


def test_database_url_switches_to_postgresql():
    result = _import_settings(
        "config.settings.dev", {"DATABASE_URL": "postgres://u@127.0.0.1:5432/x"}
    )
    assert result.returncode == 0, result.stderr
    assert "postgresql" in result.stdout


def _search_backend(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    code = "import config.settings.dev as s; print(s.WAGTAILSEARCH_BACKENDS['default']['BACKEND'])"
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO,
        env=_environment(env),
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_search_backend_is_whoosh_by_default_and_postgres_when_asked():
    assert _search_backend({}).stdout.strip() == "cms.search.backend"
    postgres = {"DATABASE_URL": "postgres://u@127.0.0.1:5432/x", "SEARCH_BACKEND": "postgres"}
    result = _search_backend(postgres)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "cms.search.postgres"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"SEARCH_BACKEND": "postgres"}, "SEARCH_BACKEND=postgres needs DATABASE_URL"),
        ({"SEARCH_BACKEND": "elasticsearch"}, "SEARCH_BACKEND must be one of whoosh, postgres"),
    ],
)
def test_a_search_backend_that_cannot_work_stops_the_start(env, message):
    result = _search_backend(env)
    assert result.returncode != 0
    assert message in result.stderr


@pytest.mark.parametrize(
    "env",
    [
        {},
        {"ALLOWED_HOSTS": "dangjian.example.org"},
        {"SECRET_KEY": "short", "ALLOWED_HOSTS": "dangjian.example.org"},
        {"SECRET_KEY": "x" * 50},
    ],
)
def test_production_refuses_to_start_without_secret_key_and_hosts(env):
    result = _import_settings("config.settings.production", env)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr


def test_production_starts_with_real_configuration():
    result = _import_settings(
        "config.settings.production",
        {"SECRET_KEY": "k" * 50, "ALLOWED_HOSTS": "dangjian.example.org"},
    )
    assert result.returncode == 0, result.stderr


def _python(code: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO,
        env=_environment(env),
        capture_output=True,
        text=True,
        timeout=120,
    )


SECURITY_SETTINGS = [
    "SECURE_SSL_REDIRECT",
    "SECURE_HSTS_SECONDS",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS",
    "SECURE_HSTS_PRELOAD",
    "SECURE_PROXY_SSL_HEADER",
    "SESSION_COOKIE_SECURE",
    "CSRF_COOKIE_SECURE",
    "X_FRAME_OPTIONS",
    "DANGJIAN_SCREEN_FRAME_ANCESTORS",
    "CONTENT_SECURITY_POLICY",
]


def _security_settings(module: str, env: dict[str, str]) -> dict[str, Any]:
    code = (
        f"import importlib, json; s = importlib.import_module({module!r}); "
        f"print(json.dumps({{name: getattr(s, name) for name in {SECURITY_SETTINGS!r}}}))"
    )
    result = _python(code, env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_deploy_check_with_production_settings_prints_no_warning():
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=REPO,
        env=_environment({**PRODUCTION, "DJANGO_SETTINGS_MODULE": "config.settings.production"}),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout
    assert "WARNING" not in result.stderr


def test_production_is_https_only_and_unframeable_by_default():
    values = _security_settings("config.settings.production", PRODUCTION)
    assert values["SECURE_SSL_REDIRECT"] is True
    assert values["SECURE_HSTS_SECONDS"] == 31_536_000
    assert values["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is True
    assert values["SECURE_HSTS_PRELOAD"] is True
    # No request header is believed about HTTPS unless the operator names one.
    assert values["SECURE_PROXY_SSL_HEADER"] is None
    assert values["SESSION_COOKIE_SECURE"] is values["CSRF_COOKIE_SECURE"] is True
    assert values["X_FRAME_OPTIONS"] == "DENY"
    assert values["DANGJIAN_SCREEN_FRAME_ANCESTORS"] == []
    directives = values["CONTENT_SECURITY_POLICY"]["DIRECTIVES"]
    assert directives["script-src"] == ["'self'"]
    assert directives["frame-ancestors"] == ["'none'"]


def test_an_operator_behind_a_tls_proxy_configures_https_by_environment():
    values = _security_settings(
        "config.settings.production",
        {
            **PRODUCTION,
            "SECURE_SSL_REDIRECT": "false",
            "SECURE_HSTS_SECONDS": "0",
            "SECURE_HSTS_PRELOAD": "no",
            "SECURE_PROXY_SSL_HEADER": "X-Forwarded-Proto",
            "SCREEN_FRAME_ANCESTORS": "https://signage.example.org/, 'self'",
            "VIDEO_EMBED_ORIGINS": "https://player.bilibili.com",
        },
    )
    assert values["SECURE_SSL_REDIRECT"] is False
    assert values["SECURE_HSTS_SECONDS"] == 0
    assert values["SECURE_HSTS_PRELOAD"] is False
    assert values["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    assert values["DANGJIAN_SCREEN_FRAME_ANCESTORS"] == ["https://signage.example.org", "'self'"]
    assert values["CONTENT_SECURITY_POLICY"]["DIRECTIVES"]["frame-src"] == [
        "https://player.bilibili.com"
    ]
    no_players = _security_settings(
        "config.settings.production", {**PRODUCTION, "VIDEO_EMBED_ORIGINS": "none"}
    )
    assert no_players["CONTENT_SECURITY_POLICY"]["DIRECTIVES"]["frame-src"] == ["'none'"]
    other = _security_settings(
        "config.settings.production",
        {**PRODUCTION, "SECURE_PROXY_SSL_HEADER": "X-Forwarded-Ssl: on"},
    )
    assert other["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_SSL", "on"]


@pytest.mark.parametrize(
    "env",
    [
        {"SECURE_HSTS_SECONDS": "one year"},
        {"SECURE_HSTS_SECONDS": "-1"},
        {"SECURE_PROXY_SSL_HEADER": "X-Forwarded-Proto https; evil"},
        # A value that would smuggle another directive into the policy.
        {"SCREEN_FRAME_ANCESTORS": "https://signage.example.org; script-src *"},
        {"SCREEN_FRAME_ANCESTORS": "*"},
        {"VIDEO_EMBED_ORIGINS": "'unsafe-inline'"},
    ],
)
def test_a_malformed_security_variable_stops_the_start(env):
    result = _import_settings("config.settings.production", {**PRODUCTION, **env})
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert next(iter(env)) in result.stderr


def test_development_serves_plain_http():
    values = _security_settings("config.settings.dev", {})
    assert values["SECURE_SSL_REDIRECT"] is False
    assert values["SECURE_HSTS_SECONDS"] == 0
    assert values["SESSION_COOKIE_SECURE"] is False
    # Framing and the CSP are the same everywhere.
    assert values["X_FRAME_OPTIONS"] == "DENY"
    assert values["CONTENT_SECURITY_POLICY"]["DIRECTIVES"]["script-src"] == ["'self'"]


def test_a_forged_forwarded_proto_gets_no_https_treatment_in_production():
    """The attack: over plain HTTP, claim HTTPS in X-Forwarded-Proto. Production settings
    must still redirect (and so never treat the request as secure)."""
    code = (
        "import django; django.setup(); from django.test import Client; "
        "r = Client().get('/accounts/login/', headers={'X-Forwarded-Proto': 'https'}, "
        "HTTP_HOST='dangjian.example.org'); "
        "print(r.status_code, r.headers.get('Location'), "
        "r.headers.get('Strict-Transport-Security'))"
    )
    result = _python(code, {**PRODUCTION, "DJANGO_SETTINGS_MODULE": "config.settings.production"})
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["301", "https://dangjian.example.org/accounts/login/", "None"]


@pytest.mark.django_db
def test_migrations_are_in_step_with_the_models():
    out = io.StringIO()
    call_command("makemigrations", "--check", "--dry-run", stdout=out)
    assert "No changes detected" in out.getvalue()


@pytest.mark.django_db
def test_roles_exist_with_their_permissions():
    from django.contrib.auth.models import Group

    from learning.people import roles

    groups = {group.name: group for group in Group.objects.all()}
    for role in roles.ALL_ROLES:
        assert role in groups
    secretary_perms = set(groups[roles.SECRETARY].permissions.values_list("codename", flat=True))
    assert {"access_admin", "manage_org_members", "view_organization"} <= secretary_perms
    editor_perms = set(groups[roles.EDITOR].permissions.values_list("codename", flat=True))
    assert "access_admin" in editor_perms
    assert "manage_org_members" not in editor_perms
    assert not groups[roles.MEMBER].permissions.exists()
    # Wagtail's own Editors/Moderators were adopted, not duplicated.
    assert "Editors" not in groups
    assert "Moderators" not in groups


@pytest.mark.django_db
def test_home_page_is_the_site_root():
    from wagtail.models import Site

    from cms.models import HomePage

    site = Site.objects.get(is_default_site=True)
    assert isinstance(site.root_page.specific, HomePage)


@pytest.mark.redis
def test_redis_serves_as_cache_and_celery_broker():
    from django.core.cache.backends.redis import RedisCache
    from kombu import Connection

    url = os.environ["REDIS_URL"]
    cache = RedisCache(url, {"KEY_PREFIX": "dangjian-test"})
    cache.set("probe", {"points": 3}, 30)
    assert cache.get("probe") == {"points": 3}
    cache.delete("probe")

    with Connection(url) as connection:
        queue = connection.SimpleQueue("dangjian-test-probe")
        queue.put({"task": "probe"})
        message = queue.get(timeout=5)
        assert message.payload == {"task": "probe"}
        message.ack()
        queue.close()
