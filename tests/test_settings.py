"""Configuration: embedded defaults, production refusals, migrations in step with models."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command

REPO = Path(__file__).resolve().parent.parent


def _import_settings(module: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean_env = {
        key: value
        for key, value in os.environ.items()
        if key
        not in {
            "SECRET_KEY",
            "ALLOWED_HOSTS",
            "DATABASE_URL",
            "REDIS_URL",
            "DJANGO_SETTINGS_MODULE",
        }
    }
    clean_env.update(env)
    code = (
        f"import importlib, json; s = importlib.import_module({module!r}); "
        "print(json.dumps({'db': s.DATABASES['default']['ENGINE'], "
        "'broker': s.CELERY_BROKER_URL, 'cache': s.CACHES['default']['BACKEND'], "
        "'lang': s.LANGUAGE_CODE, 'tz': s.TIME_ZONE}))"
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


def test_redis_url_switches_broker_and_cache():
    result = _import_settings("config.settings.dev", {"REDIS_URL": "redis://127.0.0.1:6379/3"})
    assert result.returncode == 0, result.stderr
    assert '"broker": "redis://127.0.0.1:6379/3"' in result.stdout
    assert "RedisCache" in result.stdout


def test_database_url_switches_to_postgresql():
    result = _import_settings(
        "config.settings.dev", {"DATABASE_URL": "postgres://u@127.0.0.1:5432/x"}
    )
    assert result.returncode == 0, result.stderr
    assert "postgresql" in result.stdout


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


@pytest.mark.django_db
def test_migrations_are_in_step_with_the_models():
    out = io.StringIO()
    call_command("makemigrations", "--check", "--dry-run", stdout=out)
    assert "No changes detected" in out.getvalue()


@pytest.mark.django_db
def test_roles_exist_with_their_permissions():
    from django.contrib.auth.models import Group

    from learning import roles

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
