"""A password chosen by anyone but the member is temporary, and the audit log says who set it.

The attack: a secretary sets a member's password in the admin and logs in as the member.
Now the member's account demands a new password first (web and API), the member
notices their own password no longer works, and the audit log names the secretary.
"""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from learning.models import Member, SubtreeLogEntry
from learning.people import audit
from tests.factories.people import DEFAULT_PASSWORD, MemberFactory
from tests.factories.sheets import members_xlsx

CHOSEN = "Daiti-mima-2026-x"


@pytest.fixture
def insider(tree):
    return MemberFactory(username="insider", display_name="李内", organization=tree.branch_a2)


def _edit_data(member: Member, **extra: str) -> dict[str, str]:
    return {
        "username": member.username,
        "display_name": member.display_name,
        "organization": str(member.organization_id),
        "is_active": "on",
        **extra,
    }


def _password_entries(member: Member):
    return SubtreeLogEntry.objects.filter(
        object_id=str(member.pk), action=audit.PASSWORD_SET_BY_OTHER
    )


def test_secretary_setting_a_password_cannot_take_over_the_account(client, secretary_a, insider):
    client.force_login(secretary_a)
    response = client.post(
        reverse("wagtailusers_users:edit", args=[insider.pk]),
        _edit_data(insider, password1=CHOSEN, password2=CHOSEN),
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    insider.refresh_from_db()
    assert insider.check_password(CHOSEN)
    assert insider.must_change_password is True

    # The secretary logs in as the member: every page and the API demand a new password.
    client.logout()
    response = client.post(reverse("login"), {"username": "insider", "password": CHOSEN})
    assert response.status_code == 302
    response = client.get(reverse("learning:account"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("password_change"))
    response = client.get(reverse("quizzes_api:quizzes"))
    assert response.status_code == 403
    assert response.json()["code"] == "password_change_required"


def test_the_audit_log_names_who_set_whose_password_and_never_the_password(
    client, secretary_a, insider, administrator
):
    client.force_login(secretary_a)
    client.post(
        reverse("wagtailusers_users:edit", args=[insider.pk]),
        _edit_data(insider, password1=CHOSEN, password2=CHOSEN),
    )
    [entry] = _password_entries(insider)
    assert entry.user == secretary_a
    assert entry.timestamp is not None
    assert CHOSEN not in str(entry.data)
    assert CHOSEN not in entry.label
    # Administrators read it on the member's history page and in the site history.
    client.force_login(administrator)
    history = client.get(reverse("wagtailusers_users:history", args=[insider.pk]))
    assert history.status_code == 200
    assert "王书记" in history.content.decode()
    site_history = client.get(reverse("wagtailadmin_reports:site_history"))
    assert "李内" in site_history.content.decode()


def test_administrator_setting_a_password_forces_a_change_too(client, administrator, insider):
    client.force_login(administrator)
    response = client.post(
        reverse("wagtailusers_users:edit", args=[insider.pk]),
        _edit_data(insider, password1=CHOSEN, password2=CHOSEN),
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    insider.refresh_from_db()
    assert insider.must_change_password is True
    assert _password_entries(insider).get().user == administrator


def test_editing_a_member_without_a_password_changes_neither_password_nor_flag(
    client, secretary_a, insider
):
    client.force_login(secretary_a)
    response = client.post(
        reverse("wagtailusers_users:edit", args=[insider.pk]),
        _edit_data(insider, display_name="李内新"),
    )
    assert response.status_code == 302
    insider.refresh_from_db()
    assert insider.display_name == "李内新"
    assert insider.check_password(DEFAULT_PASSWORD)
    assert insider.must_change_password is False
    assert not _password_entries(insider).exists()


def test_an_administrator_choosing_their_own_password_is_not_forced_to_change_it(
    client, administrator
):
    client.force_login(administrator)
    data = _edit_data(administrator, password1=CHOSEN, password2=CHOSEN)
    data["groups"] = [str(pk) for pk in administrator.groups.values_list("pk", flat=True)]
    response = client.post(reverse("wagtailusers_users:edit", args=[administrator.pk]), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    administrator.refresh_from_db()
    assert administrator.check_password(CHOSEN)
    assert administrator.must_change_password is False
    # Still logged in: the session survived the own password change.
    assert client.get(reverse("wagtailusers_users:index")).status_code == 200


def test_a_member_created_by_a_secretary_must_choose_a_password_first(client, secretary_a, tree):
    client.force_login(secretary_a)
    response = client.post(
        reverse("wagtailusers_users:add"),
        {
            "username": "newbie",
            "display_name": "新党员",
            "password1": CHOSEN,
            "password2": CHOSEN,
            "organization": tree.branch_a2.pk,
            "is_active": "on",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    newbie = Member.objects.get(username="newbie")
    assert newbie.must_change_password is True
    assert _password_entries(newbie).get().user == secretary_a
    client.logout()
    client.post(reverse("login"), {"username": "newbie", "password": CHOSEN})
    response = client.get("/")
    assert response.status_code == 302
    assert response.url.startswith(reverse("password_change"))


def test_imported_members_must_change_their_initial_password_and_the_import_is_logged(
    client, secretary_a, tree
):
    client.force_login(secretary_a)
    upload = SimpleUploadedFile(
        "m.xlsx", members_xlsx([["x1", "甲", "", "ZB1"], ["x2", "乙", "", "ZB2"]])
    )
    response = client.post(reverse("learning_member_import"), {"file": upload})
    assert response.context["result"].created == 2
    for member in Member.objects.filter(username__in=["x1", "x2"]):
        assert member.must_change_password is True
        assert _password_entries(member).get().user == secretary_a


def test_the_forced_change_refuses_to_keep_the_temporary_password(client, tree):
    member = MemberFactory(organization=tree.branch_a1, must_change_password=True)
    client.force_login(member)
    response = client.post(
        reverse("password_change"),
        {
            "old_password": DEFAULT_PASSWORD,
            "new_password1": DEFAULT_PASSWORD,
            "new_password2": DEFAULT_PASSWORD,
        },
    )
    assert response.status_code == 200
    assert "不同" in response.content.decode()
    member.refresh_from_db()
    assert member.must_change_password is True
