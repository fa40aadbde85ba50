"""The nightly housekeeping keeps personal data no longer than docs/privacy.md says."""

from __future__ import annotations

import datetime

import pytest
from axes.models import AccessFailureLog, AccessLog
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.utils import timezone

from ops.tasks import housekeeping

pytestmark = pytest.mark.django_db


def _session(*, expires_in: datetime.timedelta) -> str:
    store = SessionStore()
    store["member"] = 1
    store.create()
    Session.objects.filter(pk=store.session_key).update(expire_date=timezone.now() + expires_in)
    return store.session_key


def _login_records(*, days_ago: int, username: str) -> None:
    at = timezone.now() - datetime.timedelta(days=days_ago)
    log = AccessLog.objects.create(username=username, ip_address="203.0.113.9", user_agent="x")
    AccessLog.objects.filter(pk=log.pk).update(attempt_time=at)
    failure = AccessFailureLog.objects.create(
        username=username, ip_address="203.0.113.9", user_agent="x", locked_out=False
    )
    AccessFailureLog.objects.filter(pk=failure.pk).update(attempt_time=at)


def test_expired_sessions_and_old_login_records_go_and_recent_ones_stay(settings) -> None:
    settings.DANGJIAN_LOGIN_RECORDS_DAYS = 90
    expired = _session(expires_in=-datetime.timedelta(minutes=1))
    current = _session(expires_in=datetime.timedelta(days=3))
    _login_records(days_ago=120, username="old")
    _login_records(days_ago=10, username="recent")

    housekeeping()

    assert list(Session.objects.values_list("pk", flat=True)) == [current]
    assert expired != current
    assert set(AccessLog.objects.values_list("username", flat=True)) == {"recent"}
    assert set(AccessFailureLog.objects.values_list("username", flat=True)) == {"recent"}


def test_housekeeping_twice_is_harmless() -> None:
    _login_records(days_ago=120, username="old")
    housekeeping()
    housekeeping()
    assert not AccessLog.objects.exists()
