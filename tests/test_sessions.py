"""Sessions with Redis (``REDIS_URL``): read from the cache, kept in the database.

Runs in the PostgreSQL + Redis pass (the settings choose the session store at start).
"""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.core.cache import caches
from django.urls import reverse

from tests.factories.people import MemberFactory

pytestmark = [pytest.mark.redis, pytest.mark.django_db]

SESSION_CACHE_PREFIX = "django.contrib.sessions.cached_db"


def signed_in(client: Any) -> bool:
    return client.get(reverse("learning:learn")).status_code == 200


def test_a_session_is_in_the_cache_and_in_the_database(client: Any, tree: Any) -> None:
    assert settings.SESSION_ENGINE == "django.contrib.sessions.backends.cached_db"
    client.force_login(MemberFactory(organization=tree.branch_a1))
    key = client.session.session_key
    assert Session.objects.filter(session_key=key).exists()
    assert caches[settings.SESSION_CACHE_ALIAS].get(f"{SESSION_CACHE_PREFIX}{key}")
    assert signed_in(client)


def test_a_redis_restart_logs_nobody_out(client: Any, tree: Any) -> None:
    client.force_login(MemberFactory(organization=tree.branch_a1))
    caches[settings.SESSION_CACHE_ALIAS].clear()  # what a Redis restart leaves
    assert signed_in(client)


def test_logging_out_ends_the_session_in_both_stores(client: Any, tree: Any) -> None:
    client.force_login(MemberFactory(organization=tree.branch_a1))
    key = client.session.session_key
    client.post(reverse("logout"))
    assert not Session.objects.filter(session_key=key).exists()
    assert caches[settings.SESSION_CACHE_ALIAS].get(f"{SESSION_CACHE_PREFIX}{key}") is None
    assert not signed_in(client)
