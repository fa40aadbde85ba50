"""Guessing passwords: every login locks after a few failures; resets are throttled.

The attacks of the penetration test, over HTTP against the real login pages: fifty
wrong passwords in a row for one member (members' page and the Wagtail admin), the
mobile number typed instead of the username for a second set of tries, many addresses
guessing one account, and ten password reset mails in a row.
"""

from __future__ import annotations

import datetime
import json

import pytest
from axes.models import AccessAttempt
from django.contrib.auth import authenticate
from django.core import mail
from django.core.cache import cache
from django.db.models import F
from django.test import RequestFactory
from django.urls import reverse

from learning.models import Member, SubtreeLogEntry
from learning.people import audit
from learning.people.auth import client_ip_address, lockout_response
from tests.factories.people import DEFAULT_PASSWORD, MemberFactory

OFFICE = "10.1.1.1"
LOCKED_MESSAGE = "请在 15 分钟后再试"
WRONG_MESSAGE = "用户名（手机号）或密码不正确"


@pytest.fixture(autouse=True)
def lockout(settings):
    """django-axes as configured for production (the test settings switch it off)."""
    settings.AXES_ENABLED = True
    settings.AXES_FAILURE_LIMIT = 5
    settings.DANGJIAN_LOGIN_ACCOUNT_FAILURE_LIMIT = 20
    settings.AXES_COOLOFF_TIME = datetime.timedelta(minutes=15)
    settings.DANGJIAN_TRUSTED_PROXY_COUNT = 0
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def member(tree):
    return MemberFactory(
        username="lihua", display_name="李华", phone="13912345678", organization=tree.branch_a1
    )


def _log_in(client, login: str, password: str, address: str = OFFICE, url: str | None = None):
    return client.post(
        url or reverse("login"), {"username": login, "password": password}, REMOTE_ADDR=address
    )


def _logged_in(client) -> bool:
    return "_auth_user_id" in client.session


def test_fifty_wrong_passwords_lock_the_member_out_and_the_right_one_no_longer_works(
    client, member
):
    for attempt in range(1, 51):
        response = _log_in(client, "lihua", f"guess-{attempt}")
        if attempt < 5:
            assert response.status_code == 200
            assert WRONG_MESSAGE in response.content.decode()
        else:
            assert response.status_code == 429, attempt
            assert LOCKED_MESSAGE in response.content.decode()
            assert response["Retry-After"]
    response = _log_in(client, "lihua", DEFAULT_PASSWORD)
    assert response.status_code == 429
    assert LOCKED_MESSAGE in response.content.decode()
    assert not _logged_in(client)


def test_typing_the_mobile_number_gives_no_second_set_of_attempts(client, member):
    for _attempt in range(3):
        _log_in(client, "lihua", "wrong")
    assert _log_in(client, "13912345678", "wrong").status_code == 200
    assert _log_in(client, " 13912345678 ", "wrong").status_code == 429
    assert _log_in(client, "13912345678", DEFAULT_PASSWORD).status_code == 429
    assert _log_in(client, "lihua", DEFAULT_PASSWORD).status_code == 429
    assert set(AccessAttempt.objects.values_list("username", flat=True)) == {"lihua"}


def test_colleagues_behind_the_same_office_address_still_log_in(client, member, tree):
    colleague = MemberFactory(username="colleague", organization=tree.branch_a1)
    for _attempt in range(5):
        _log_in(client, "lihua", "wrong")
    assert _log_in(client, "lihua", DEFAULT_PASSWORD).status_code == 429
    response = _log_in(client, colleague.username, DEFAULT_PASSWORD)
    assert response.status_code == 302
    assert _logged_in(client)


def test_the_member_can_still_log_in_from_another_address(client, member):
    for _attempt in range(5):
        _log_in(client, "lihua", "wrong", address="203.0.113.9")
    assert _log_in(client, "lihua", DEFAULT_PASSWORD, address="203.0.113.9").status_code == 429
    assert _log_in(client, "lihua", DEFAULT_PASSWORD, address=OFFICE).status_code == 302


def test_many_addresses_guessing_one_account_lock_it_from_everywhere(client, member):
    for number in range(20):
        response = _log_in(client, "lihua", "wrong", address=f"198.51.100.{number}")
    assert response.status_code == 429
    assert _log_in(client, "lihua", DEFAULT_PASSWORD, address=OFFICE).status_code == 429


def test_a_successful_login_forgets_the_failures_from_that_address(client, member):
    for _attempt in range(4):
        _log_in(client, "lihua", "wrong")
    assert _log_in(client, "lihua", DEFAULT_PASSWORD).status_code == 302
    client.logout()
    for _attempt in range(4):
        assert _log_in(client, "lihua", "wrong").status_code == 200


def test_unknown_names_lock_exactly_like_accounts(client, member):
    for _attempt in range(5):
        response = _log_in(client, "nobody", "wrong")
    assert response.status_code == 429
    assert LOCKED_MESSAGE in response.content.decode()


def test_the_message_says_how_long_is_left_and_the_lockout_ends(client, member):
    for _attempt in range(5):
        _log_in(client, "lihua", "wrong")
    AccessAttempt.objects.update(attempt_time=F("attempt_time") - datetime.timedelta(minutes=11))
    response = _log_in(client, "lihua", DEFAULT_PASSWORD)
    assert response.status_code == 429
    assert "请在 4 分钟后再试" in response.content.decode()
    # Tries during the lockout do not extend it.
    AccessAttempt.objects.update(attempt_time=F("attempt_time") - datetime.timedelta(minutes=5))
    assert _log_in(client, "lihua", DEFAULT_PASSWORD).status_code == 302


def test_the_admin_login_locks_out_too(client, administrator):
    url = reverse("wagtailadmin_login")
    for attempt in range(1, 8):
        response = _log_in(client, administrator.username, "wrong", url=url)
        assert response.status_code == (200 if attempt < 5 else 429)
    response = _log_in(client, administrator.username, DEFAULT_PASSWORD, url=url)
    assert response.status_code == 429
    assert LOCKED_MESSAGE in response.content.decode()
    assert not _logged_in(client)


def test_an_api_login_through_authenticate_is_locked_out_with_json(member):
    # No API login exists yet; one must call authenticate() with its request, as this does.
    factory = RequestFactory()

    def api_request():
        return factory.post("/api/v1/auth/token/", REMOTE_ADDR=OFFICE)

    for _attempt in range(5):
        assert authenticate(api_request(), username="lihua", password="wrong") is None
    request = api_request()
    assert authenticate(request, username="13912345678", password=DEFAULT_PASSWORD) is None
    assert request.axes_locked_out
    response = lockout_response(request, None, {"username": "13912345678"})
    assert response.status_code == 429
    body = json.loads(response.content)
    assert body["code"] == "login_locked_out"
    assert "15" in body["detail"]
    assert 0 < body["retry_after"] <= 15 * 60


def test_failures_lockouts_and_unlocks_are_in_the_audit_log(client, member, administrator):
    for _attempt in range(8):
        _log_in(client, "lihua", "wrong")
    entries = SubtreeLogEntry.objects.filter(object_id=str(member.pk))
    # The tries during the lockout are neither counted nor logged.
    assert entries.filter(action=audit.LOGIN_FAILED).count() == 5
    [locked] = entries.filter(action=audit.LOGIN_LOCKED_OUT)
    assert locked.data == {"ip": OFFICE, "minutes": 15}
    assert "wrong" not in str(list(entries.values("data", "label")))

    client.force_login(administrator)
    response = client.post(reverse("learning_login_lockouts"), {"username": "lihua"})
    assert response.status_code == 302
    [unlocked] = entries.filter(action=audit.LOGIN_UNLOCKED)
    assert unlocked.user == administrator
    content = client.get(reverse("wagtailadmin_reports:site_history")).content.decode()
    assert "登录失败" in content
    assert "登录已锁定" in content


def test_administrator_sees_locked_logins_and_unlocks_one(client, member, administrator):
    for _attempt in range(5):
        _log_in(client, "lihua", "wrong")
    _log_in(client, "stranger", "wrong")
    client.force_login(administrator)
    response = client.get(reverse("learning_login_lockouts"))
    assert response.status_code == 200
    content = response.content.decode()
    assert "李华" in content
    assert "stranger" in content
    assert OFFICE in content
    first = response.context["logins"][0]
    assert first.username == "lihua"
    assert first.locked_until is not None

    response = client.post(reverse("learning_login_lockouts"), {"username": "lihua"}, follow=True)
    assert response.status_code == 200
    assert not AccessAttempt.objects.filter(username="lihua").exists()
    client.logout()
    assert _log_in(client, "13912345678", DEFAULT_PASSWORD).status_code == 302


def test_secretaries_and_members_cannot_list_or_unlock_logins(client, member, secretary_a):
    for _attempt in range(5):
        _log_in(client, "lihua", "wrong")
    for person in (secretary_a, member):
        Member.objects.filter(pk=person.pk).update(must_change_password=False)
        client.force_login(person)
        assert client.get(reverse("learning_login_lockouts")).status_code in (302, 403)
        response = client.post(reverse("learning_login_lockouts"), {"username": "lihua"})
        assert response.status_code in (302, 403)
    assert AccessAttempt.objects.filter(username="lihua").exists()


def test_the_unlock_page_refuses_an_empty_name_without_an_error_page(client, administrator):
    client.force_login(administrator)
    response = client.post(reverse("learning_login_lockouts"), {"username": "  "}, follow=True)
    assert response.status_code == 200
    assert "请选择" in response.content.decode()


def _reset(client, email: str, address: str = OFFICE):
    return client.post(
        reverse("wagtailadmin_password_reset"), {"email": email}, REMOTE_ADDR=address
    )


def test_ten_reset_requests_for_one_account_send_three_mails(client, member):
    Member.objects.filter(pk=member.pk).update(email="lihua@example.org")
    for number in range(10):
        response = _reset(client, "LiHua@example.org", address=f"198.51.100.{number}")
        assert response.status_code == 302
        assert response.url == reverse("wagtailadmin_password_reset_done")
    assert len(mail.outbox) == 3
    entries = SubtreeLogEntry.objects.filter(object_id=str(member.pk))
    assert entries.filter(action=audit.PASSWORD_RESET_SENT).count() == 3
    assert entries.filter(action=audit.PASSWORD_RESET_THROTTLED).count() == 1


def test_too_many_reset_requests_from_one_address_send_nothing_and_say_when_to_retry(client, tree):
    for number in range(11):
        person = MemberFactory(organization=tree.branch_a1)
        Member.objects.filter(pk=person.pk).update(email=f"p{number}@example.org")
        response = _reset(client, f"p{number}@example.org")
        assert response.status_code == 302
    assert len(mail.outbox) == 10
    done = client.get(response.url)
    assert done.status_code == 200
    assert "请在 60 分钟后再试" in done.content.decode()
    # Another address is not affected.
    _reset(client, "p10@example.org", address="192.0.2.7")
    assert len(mail.outbox) == 11


def test_reset_for_an_unknown_address_answers_like_a_known_one(client, member):
    response = _reset(client, "nobody@example.org")
    assert response.status_code == 302
    assert response.url == reverse("wagtailadmin_password_reset_done")
    assert len(mail.outbox) == 0


@pytest.mark.parametrize(
    ("proxies", "forwarded", "expected"),
    [
        (0, "6.6.6.6", "127.0.0.1"),  # no trusted proxy: the header is ignored
        (1, "6.6.6.6, 203.0.113.5", "203.0.113.5"),  # a client-written entry is skipped
        (2, "6.6.6.6, 203.0.113.5, 10.0.0.2", "203.0.113.5"),
        (1, "", "127.0.0.1"),
        (1, "not-an-address", "127.0.0.1"),
        (3, "203.0.113.5", "127.0.0.1"),  # fewer entries than proxies: not trusted
    ],
)
def test_client_address_trusts_only_our_own_proxies(settings, proxies, forwarded, expected):
    settings.DANGJIAN_TRUSTED_PROXY_COUNT = proxies
    request = RequestFactory().get("/", HTTP_X_FORWARDED_FOR=forwarded, REMOTE_ADDR="127.0.0.1")
    assert client_ip_address(request) == expected
