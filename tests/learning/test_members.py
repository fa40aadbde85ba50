"""Members: creation, transfers with history, login by phone, forced password change."""

from __future__ import annotations

import datetime

import pytest
from django.contrib.auth import authenticate
from django.core.exceptions import ValidationError
from django.urls import reverse

from learning.models import Member, Membership
from learning.people import roles, services
from learning.people.selectors import member_organization_on, organization_member_count_on
from tests.factories.people import DEFAULT_PASSWORD, MemberFactory

D = datetime.date


def test_new_member_gets_a_membership_and_the_member_role(tree):
    member = MemberFactory(organization=tree.branch_a1, joined_on=D(2024, 3, 1))
    membership = Membership.objects.get(member=member)
    assert membership.organization == tree.branch_a1
    assert membership.start_date == D(2024, 3, 1)
    assert membership.end_date is None
    assert list(member.groups.values_list("name", flat=True)) == [roles.MEMBER]


def test_transfer_keeps_history_and_answers_where_on_a_date(tree):
    member = MemberFactory(organization=tree.branch_a1, joined_on=D(2024, 1, 1))
    services.member_transfer(member=member, to=tree.branch_b1, on=D(2025, 6, 1))
    member.refresh_from_db()
    assert member.organization == tree.branch_b1
    assert member_organization_on(member=member, day=D(2023, 12, 31)) is None
    assert member_organization_on(member=member, day=D(2024, 1, 1)) == tree.branch_a1
    assert member_organization_on(member=member, day=D(2025, 5, 31)) == tree.branch_a1
    assert member_organization_on(member=member, day=D(2025, 6, 1)) == tree.branch_b1
    periods = list(
        Membership.objects.filter(member=member).values_list(
            "organization__code", "start_date", "end_date"
        )
    )
    assert periods == [("ZB1", D(2024, 1, 1), D(2025, 6, 1)), ("ZB3", D(2025, 6, 1), None)]


def test_member_counts_follow_the_date(tree):
    member = MemberFactory(organization=tree.branch_a1, joined_on=D(2024, 1, 1))
    services.member_transfer(member=member, to=tree.branch_b1, on=D(2025, 6, 1))
    assert organization_member_count_on(organization=tree.general_a, day=D(2025, 1, 1)) == 1
    assert organization_member_count_on(organization=tree.general_a, day=D(2025, 7, 1)) == 0
    assert organization_member_count_on(organization=tree.committee, day=D(2025, 7, 1)) == 1


def test_transfer_dated_before_the_current_membership_is_refused(tree):
    member = MemberFactory(organization=tree.branch_a1, joined_on=D(2025, 1, 1))
    with pytest.raises(ValidationError):
        services.member_transfer(member=member, to=tree.branch_b1, on=D(2024, 12, 31))
    member.refresh_from_db()
    assert member.organization == tree.branch_a1
    assert Membership.objects.filter(member=member).count() == 1


def test_transfer_to_the_same_organisation_is_refused(tree):
    member = MemberFactory(organization=tree.branch_a1)
    with pytest.raises(ValidationError):
        services.member_transfer(member=member, to=tree.branch_a1)


def test_transfer_on_the_start_day_corrects_instead_of_splitting(tree):
    member = MemberFactory(organization=tree.branch_a1, joined_on=D(2025, 1, 1))
    services.member_transfer(member=member, to=tree.branch_b1, on=D(2025, 1, 1))
    assert list(
        Membership.objects.filter(member=member).values_list("organization__code", flat=True)
    ) == ["ZB3"]


def test_transfer_to_an_inactive_organisation_is_refused(tree):
    tree.branch_b1.is_active = False
    tree.branch_b1.save()
    member = MemberFactory(organization=tree.branch_a1, joined_on=D(2025, 1, 1))
    with pytest.raises(ValidationError):
        services.member_transfer(member=member, to=tree.branch_b1, on=D(2025, 2, 1))


def test_phone_must_be_a_mainland_mobile_number(tree):
    with pytest.raises(ValidationError):
        MemberFactory(organization=tree.branch_a1, phone="12345")
    assert not Member.objects.filter(phone="12345").exists()


def test_two_members_cannot_share_a_phone(tree):
    MemberFactory(organization=tree.branch_a1, phone="13800138000")
    with pytest.raises(ValidationError):
        MemberFactory(organization=tree.branch_a1, phone="13800138000")


def test_members_without_phone_do_not_collide(tree):
    MemberFactory(organization=tree.branch_a1, phone="")
    MemberFactory(organization=tree.branch_a1, phone=None)
    assert Member.objects.filter(phone__isnull=True).count() == 2


def test_login_with_username_or_phone(tree):
    member = MemberFactory(organization=tree.branch_a1, username="lihua", phone="13912345678")
    assert authenticate(username="lihua", password=DEFAULT_PASSWORD) == member
    assert authenticate(username="13912345678", password=DEFAULT_PASSWORD) == member
    assert authenticate(username="13912345678", password="wrong") is None
    assert authenticate(username="nobody", password=DEFAULT_PASSWORD) is None


def test_inactive_member_cannot_log_in(tree):
    member = MemberFactory(organization=tree.branch_a1, username="gone")
    member.is_active = False
    member.save()
    assert authenticate(username="gone", password=DEFAULT_PASSWORD) is None


def test_login_page_logs_in_by_phone_and_rejects_a_wrong_password(client, tree):
    MemberFactory(organization=tree.branch_a1, phone="13912345678")
    response = client.post(
        reverse("login"), {"username": "13912345678", "password": "wrong"}, follow=True
    )
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session
    response = client.post(
        reverse("login"), {"username": "13912345678", "password": DEFAULT_PASSWORD}
    )
    assert response.status_code == 302
    assert "_auth_user_id" in client.session


def test_member_with_a_temporary_password_must_change_it_first(client, tree):
    member = MemberFactory(organization=tree.branch_a1, must_change_password=True)
    client.force_login(member)
    response = client.get(reverse("learning:account"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("password_change"))
    response = client.post(
        reverse("password_change"),
        {
            "old_password": DEFAULT_PASSWORD,
            "new_password1": "Hongqi-piaopiao-88",
            "new_password2": "Hongqi-piaopiao-88",
        },
    )
    assert response.status_code == 302
    member.refresh_from_db()
    assert member.must_change_password is False
    assert member.check_password("Hongqi-piaopiao-88")
    assert client.get(reverse("learning:account")).status_code == 200


def test_wrong_old_password_changes_nothing(client, tree):
    member = MemberFactory(organization=tree.branch_a1)
    client.force_login(member)
    response = client.post(
        reverse("password_change"),
        {"old_password": "nope", "new_password1": "Hongqi-88-x", "new_password2": "Hongqi-88-x"},
    )
    assert response.status_code == 200
    member.refresh_from_db()
    assert member.check_password(DEFAULT_PASSWORD)


def test_account_page_shows_name_organisation_path_and_role(client, tree):
    member = MemberFactory(organization=tree.group_a1, display_name="赵红")
    client.force_login(member)
    response = client.get(reverse("learning:account"))
    content = response.content.decode()
    assert "赵红" in content
    assert "某党委 › 第一党总支 › 第一党支部 › 第一党小组" in content


@pytest.mark.parametrize(
    "name", ["learning:learn", "learning:points", "learning:account", "quizzes:index"]
)
def test_member_pages_need_login(client, name):
    response = client.get(reverse(name))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_home_page_renders_for_visitors_and_members(client, tree, django_assert_max_num_queries):
    assert client.get("/").status_code == 200
    client.force_login(MemberFactory(organization=tree.branch_a1))
    with django_assert_max_num_queries(20):
        assert client.get("/").status_code == 200
