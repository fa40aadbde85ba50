"""Member management in the Wagtail admin: a secretary is confined to their subtree."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from learning.models import Member, Membership
from learning.people import roles
from tests.factories.people import MemberFactory


@pytest.fixture
def people(tree):
    return {
        "inside": MemberFactory(
            username="inside", display_name="李内", organization=tree.branch_a2
        ),
        "in_group": MemberFactory(
            username="ingroup", display_name="陈组", organization=tree.group_a1
        ),
        "outside": MemberFactory(
            username="outside", display_name="周外", organization=tree.branch_b1
        ),
    }


def _listed(response) -> set[str]:
    return {member.username for member in response.context["object_list"]}


def test_secretary_lists_only_members_of_their_subtree(
    client, secretary_a, people, django_assert_max_num_queries
):
    client.force_login(secretary_a)
    with django_assert_max_num_queries(40):
        response = client.get(reverse("wagtailusers_users:index"))
    assert response.status_code == 200
    content = response.content.decode()
    assert "李内" in content
    assert "陈组" in content
    assert "周外" not in content


def test_secretary_search_does_not_reveal_outsiders(client, secretary_a, people):
    client.force_login(secretary_a)
    response = client.get(reverse("wagtailusers_users:index"), {"q": "周外"})
    assert response.status_code == 200
    assert _listed(response) == set()
    response = client.get(reverse("wagtailusers_users:index"), {"q": "李内"})
    assert _listed(response) == {"inside"}


def test_secretary_cannot_open_or_edit_a_member_outside_their_subtree(client, secretary_a, people):
    client.force_login(secretary_a)
    outsider = people["outside"]
    url = reverse("wagtailusers_users:edit", args=[outsider.pk])
    assert client.get(url).status_code == 404
    response = client.post(url, {"username": "hacked", "display_name": "改名", "is_active": ""})
    assert response.status_code == 404
    outsider.refresh_from_db()
    assert outsider.username == "outside"
    assert outsider.display_name == "周外"
    assert outsider.is_active


def test_secretary_can_edit_a_member_inside_their_subtree(client, secretary_a, people, tree):
    client.force_login(secretary_a)
    insider = people["inside"]
    url = reverse("wagtailusers_users:edit", args=[insider.pk])
    assert client.get(url).status_code == 200
    response = client.post(
        url,
        {
            "username": "inside",
            "display_name": "李内新",
            "phone": "13700000001",
            "organization": tree.branch_a2.pk,
            "is_active": "on",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    insider.refresh_from_db()
    assert insider.display_name == "李内新"
    assert insider.phone == "13700000001"


def test_secretary_moving_a_member_records_a_transfer(client, secretary_a, people, tree):
    client.force_login(secretary_a)
    insider = people["inside"]
    Membership.objects.filter(member=insider).update(start_date="2024-01-01")
    response = client.post(
        reverse("wagtailusers_users:edit", args=[insider.pk]),
        {
            "username": "inside",
            "display_name": "李内",
            "organization": tree.group_a1.pk,
            "is_active": "on",
        },
    )
    assert response.status_code == 302
    insider.refresh_from_db()
    assert insider.organization == tree.group_a1
    codes = list(
        Membership.objects.filter(member=insider).values_list("organization__code", flat=True)
    )
    assert codes == ["ZB2", "XZ1"]


def test_secretary_cannot_move_a_member_out_of_their_subtree(client, secretary_a, people, tree):
    client.force_login(secretary_a)
    insider = people["inside"]
    response = client.post(
        reverse("wagtailusers_users:edit", args=[insider.pk]),
        {
            "username": "inside",
            "display_name": "李内",
            "organization": tree.branch_b1.pk,
            "is_active": "on",
        },
    )
    assert response.status_code == 200  # the form comes back with an error
    insider.refresh_from_db()
    assert insider.organization == tree.branch_a2


def test_secretary_cannot_grant_roles_or_superuser(client, secretary_a, people, tree):
    from django.contrib.auth.models import Group

    client.force_login(secretary_a)
    insider = people["inside"]
    admin_group = Group.objects.get(name=roles.ADMINISTRATOR)
    client.post(
        reverse("wagtailusers_users:edit", args=[insider.pk]),
        {
            "username": "inside",
            "display_name": "李内",
            "organization": tree.branch_a2.pk,
            "is_active": "on",
            "is_superuser": "on",
            "groups": [admin_group.pk],
        },
    )
    insider.refresh_from_db()
    assert not insider.is_superuser
    assert not insider.groups.filter(name=roles.ADMINISTRATOR).exists()


def test_secretary_cannot_edit_a_staff_account_in_their_subtree(client, secretary_a, tree):
    editor_inside = MemberFactory(
        username="editor_in", organization=tree.branch_a1, role_names=[roles.EDITOR]
    )
    client.force_login(secretary_a)
    assert (
        client.get(reverse("wagtailusers_users:edit", args=[editor_inside.pk])).status_code == 404
    )


def test_secretary_cannot_delete_members(client, secretary_a, people):
    client.force_login(secretary_a)
    insider = people["inside"]
    response = client.post(reverse("wagtailusers_users:delete", args=[insider.pk]))
    assert response.status_code in (302, 403, 404)
    assert Member.objects.filter(pk=insider.pk).exists()


def test_secretary_adds_a_member_only_inside_their_subtree(client, secretary_a, tree):
    client.force_login(secretary_a)
    url = reverse("wagtailusers_users:add")
    data = {
        "username": "newbie",
        "display_name": "新党员",
        "password1": "Hongqi-piaopiao-88",
        "password2": "Hongqi-piaopiao-88",
        "is_active": "on",
    }
    response = client.post(url, {**data, "organization": tree.branch_b1.pk})
    assert response.status_code == 200
    assert not Member.objects.filter(username="newbie").exists()
    response = client.post(url, {**data, "organization": tree.branch_a2.pk})
    assert response.status_code == 302, response.content.decode()[:3000]
    newbie = Member.objects.get(username="newbie")
    assert newbie.organization == tree.branch_a2
    assert list(newbie.groups.values_list("name", flat=True)) == [roles.MEMBER]
    assert Membership.objects.filter(
        member=newbie, organization=tree.branch_a2, end_date=None
    ).exists()


def test_ordinary_member_and_editor_cannot_open_the_member_admin(client, tree, editor):
    member = MemberFactory(organization=tree.branch_a1)
    for person in (member, editor):
        client.force_login(person)
        response = client.get(reverse("wagtailusers_users:index"))
        assert response.status_code in (302, 403)


def test_administrator_sees_everyone_and_can_assign_roles(client, administrator, people, tree):
    from django.contrib.auth.models import Group

    client.force_login(administrator)
    content = client.get(reverse("wagtailusers_users:index")).content.decode()
    assert "李内" in content
    assert "周外" in content
    editor_group = Group.objects.get(name=roles.EDITOR)
    outsider = people["outside"]
    response = client.post(
        reverse("wagtailusers_users:edit", args=[outsider.pk]),
        {
            "username": "outside",
            "display_name": "周外",
            "organization": tree.branch_b1.pk,
            "is_active": "on",
            "groups": [editor_group.pk],
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    assert outsider.groups.filter(name=roles.EDITOR).exists()


def test_filter_by_organisation_includes_the_subtree(client, administrator, people, tree):
    client.force_login(administrator)
    response = client.get(reverse("wagtailusers_users:index"), {"organization": tree.general_a.pk})
    content = response.content.decode()
    assert "李内" in content
    assert "陈组" in content
    assert "周外" not in content


def test_secretary_sees_only_their_subtree_in_the_organisation_list(client, secretary_a, tree):
    client.force_login(secretary_a)
    response = client.get(reverse("organizations:index"))
    assert response.status_code == 200
    content = response.content.decode()
    assert "第一党总支" in content
    assert "第三党支部" not in content


def test_organisation_list_reads_as_a_tree_with_codes_kinds_and_member_counts(
    client, administrator, tree, django_assert_max_num_queries
):
    MemberFactory.create_batch(3, organization=tree.branch_a1)
    leaver = MemberFactory(organization=tree.branch_a1)
    Member.objects.filter(pk=leaver.pk).update(is_active=False)
    client.force_login(administrator)
    with django_assert_max_num_queries(14):  # not one per organisation
        response = client.get(reverse("organizations:index"))
    # Collapse ASCII whitespace only: the indentation is made of ideographic spaces.
    rows = [
        re.sub(r"[ \t\n]+", " ", re.sub(r"<[^>]+>", " ", row))
        for row in re.findall(r"<tr>(.*?)</tr>", response.content.decode(), re.S)
    ]
    branch_row = next(row for row in rows if f" {tree.branch_a1.code} " in row)
    # Indented by depth under its general branch, with its kind and active members.
    assert "\u3000\u3000└ " + tree.branch_a1.name in branch_row
    assert tree.branch_a1.get_kind_display() in branch_row
    assert " 3 " in f" {branch_row} "


def test_secretary_cannot_change_organisations(client, secretary_a, tree):
    client.force_login(secretary_a)
    response = client.post(
        reverse("organizations:edit", args=[tree.branch_a1.pk]),
        {
            "name": "改名",
            "code": "ZB1",
            "kind": "branch",
            "parent": tree.general_a.pk,
            "sort_order": 0,
        },
    )
    assert response.status_code in (302, 403)
    tree.branch_a1.refresh_from_db()
    assert tree.branch_a1.name == "第一党支部"


def test_administrator_creates_an_organisation_under_a_parent(client, administrator, tree):
    client.force_login(administrator)
    response = client.post(
        reverse("organizations:add"),
        {
            "name": "新党支部",
            "code": "ZB9",
            "kind": "branch",
            "parent": tree.general_b.pk,
            "sort_order": 5,
            "is_active": "on",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    from learning.models import Organization

    created = Organization.objects.get(code="ZB9")
    assert created.get_parent() == tree.general_b
