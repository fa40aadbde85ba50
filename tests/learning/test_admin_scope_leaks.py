"""A secretary learns nothing about people or organisations outside their subtree.

Every member and organisation URL of the Wagtail admin is tried as an attacker would:
by enumerating primary keys. Out of scope is a 404 (never a page that names someone),
exactly like edit and delete.
"""

from __future__ import annotations

import pytest
from django.urls import reverse
from wagtail.log_actions import log

from learning.models import Member
from learning.people import roles
from tests.factories.people import MemberFactory


@pytest.fixture
def people(tree, administrator):
    # Not "管理员": that is also the name of a role, which the pages rightly list.
    Member.objects.filter(pk=administrator.pk).update(display_name="赵管")
    administrator.refresh_from_db()
    return {
        "inside": MemberFactory(
            username="inside", display_name="李内", organization=tree.branch_a2
        ),
        "outside": MemberFactory(
            username="outside", display_name="周外", organization=tree.branch_b1
        ),
        "admin": administrator,
        "unassigned": MemberFactory(username="floating", display_name="吴无", organization=None),
    }


OUTSIDE_NAMES = ("周外", "赵管", "吴无")


def _assert_names_absent(response, names=OUTSIDE_NAMES) -> None:
    content = response.content.decode()
    for name in names:
        assert name not in content, name


@pytest.mark.parametrize("who", ["outside", "admin", "unassigned"])
def test_usage_page_of_a_member_outside_the_subtree_is_not_found(client, secretary_a, people, who):
    client.force_login(secretary_a)
    response = client.get(reverse("wagtailusers_users:usage", args=[people[who].pk]))
    assert response.status_code == 404
    _assert_names_absent(response)


def test_usage_page_of_a_member_inside_the_subtree_opens(client, secretary_a, people):
    client.force_login(secretary_a)
    response = client.get(reverse("wagtailusers_users:usage", args=[people["inside"].pk]))
    assert response.status_code == 200
    assert "李内" in response.content.decode()


@pytest.mark.parametrize("view", ["history", "history_results"])
def test_history_of_a_member_outside_the_subtree_is_not_found(client, secretary_a, people, view):
    client.force_login(secretary_a)
    for who in ("outside", "admin", "unassigned"):
        response = client.get(reverse(f"wagtailusers_users:{view}", args=[people[who].pk]))
        assert response.status_code == 404, who
        _assert_names_absent(response)


def test_history_of_a_member_inside_the_subtree_opens(client, secretary_a, people):
    client.force_login(secretary_a)
    response = client.get(reverse("wagtailusers_users:history", args=[people["inside"].pk]))
    assert response.status_code == 200


def _bulk_url(action: str, *members: Member) -> str:
    url = reverse("wagtail_bulk_action", args=["learning", "member", action])
    ids = "&".join(f"id={member.pk}" for member in members)
    return f"{url}?{ids}&next=/admin/users/"


BULK_ACTIONS = ["set_active_state", "assign_role", "delete"]


@pytest.mark.parametrize("action", BULK_ACTIONS)
def test_bulk_action_on_members_outside_the_subtree_is_not_found(
    client, secretary_a, people, action
):
    client.force_login(secretary_a)
    response = client.get(
        _bulk_url(action, people["outside"], people["admin"], people["unassigned"])
    )
    assert response.status_code == 404
    _assert_names_absent(response)


@pytest.mark.parametrize("action", BULK_ACTIONS)
def test_bulk_confirmation_never_names_members_outside_the_subtree(
    client, secretary_a, people, action
):
    client.force_login(secretary_a)
    response = client.get(
        _bulk_url(
            action, people["inside"], people["outside"], people["admin"], people["unassigned"]
        )
    )
    assert response.status_code == 200
    assert "李内" in response.content.decode()
    _assert_names_absent(response)


@pytest.mark.parametrize("action", BULK_ACTIONS)
def test_bulk_action_over_all_members_lists_only_the_subtree(client, secretary_a, people, action):
    client.force_login(secretary_a)
    url = reverse("wagtail_bulk_action", args=["learning", "member", action])
    response = client.get(f"{url}?id=all&next=/admin/users/")
    assert response.status_code == 200
    _assert_names_absent(response)


def test_bulk_deactivation_changes_only_members_inside_the_subtree(client, secretary_a, people):
    client.force_login(secretary_a)
    response = client.post(
        _bulk_url("set_active_state", people["inside"], people["outside"], people["admin"]),
        {"mark_as_active": "False"},
    )
    assert response.status_code == 302
    states = dict(Member.objects.values_list("username", "is_active"))
    assert states["inside"] is False
    assert states["outside"] is True
    assert states["admin_user"] is True


def test_secretary_cannot_bulk_assign_roles_or_delete(client, secretary_a, people):
    from django.contrib.auth.models import Group

    client.force_login(secretary_a)
    admin_group = Group.objects.get(name=roles.ADMINISTRATOR)
    client.post(_bulk_url("assign_role", people["inside"]), {"role": admin_group.pk})
    assert not people["inside"].groups.filter(name=roles.ADMINISTRATOR).exists()
    client.post(_bulk_url("delete", people["inside"]))
    assert Member.objects.filter(pk=people["inside"].pk).exists()


def test_administrator_bulk_delete_keeps_members_with_points(client, administrator, people):
    from django.utils import timezone

    from learning.points.ledger import points_award

    outsider = people["outside"]
    points_award(
        member=outsider, rule_code="lesson_completed", key="bulk", occurred_at=timezone.now()
    )
    client.force_login(administrator)
    response = client.post(_bulk_url("delete", people["inside"], outsider))
    assert response.status_code == 302
    assert Member.objects.filter(pk=outsider.pk).exists()
    assert not Member.objects.filter(pk=people["inside"].pk).exists()


def test_member_list_filters_offer_only_organisations_in_the_subtree(
    client, secretary_a, people, tree
):
    client.force_login(secretary_a)
    response = client.get(reverse("wagtailusers_users:index"))
    assert response.status_code == 200
    content = response.content.decode()
    assert tree.branch_a2.name in content
    for organization in (tree.branch_b1, tree.general_b):
        assert organization.name not in content
    _assert_names_absent(response)


def test_member_forms_offer_only_organisations_in_the_subtree(client, secretary_a, people, tree):
    client.force_login(secretary_a)
    for url in (
        reverse("wagtailusers_users:add"),
        reverse("wagtailusers_users:edit", args=[people["inside"].pk]),
    ):
        response = client.get(url)
        assert response.status_code == 200
        content = response.content.decode()
        assert tree.branch_a2.name in content
        assert tree.branch_b1.name not in content
        assert tree.general_b.name not in content


@pytest.mark.parametrize("url_name", ["secretaries:index", "secretaries:add"])
def test_secretary_assignments_and_their_member_chooser_are_closed_to_secretaries(
    client, secretary_a, people, url_name
):
    client.force_login(secretary_a)
    response = client.get(reverse(url_name))
    assert response.status_code in (302, 403)
    _assert_names_absent(response)


@pytest.mark.parametrize("view", ["inspect", "delete", "history", "usage"])
def test_organisation_pages_outside_the_subtree_are_not_found(client, secretary_a, tree, view):
    client.force_login(secretary_a)
    for organization in (tree.branch_b1, tree.general_b, tree.committee):
        response = client.get(reverse(f"organizations:{view}", args=[organization.pk]))
        assert response.status_code == 404, (view, organization.name)
        assert organization.name not in response.content.decode()


def test_organisation_edit_answers_alike_inside_and_outside_the_subtree(client, secretary_a, tree):
    # A secretary may edit no organisation at all: the same refusal for every one.
    client.force_login(secretary_a)
    answers = set()
    for organization in (tree.branch_a1, tree.branch_b1, tree.committee):
        response = client.get(reverse("organizations:edit", args=[organization.pk]))
        answers.add((response.status_code, response.get("Location")))
        assert organization.name not in response.content.decode()
    assert len(answers) == 1
    assert answers.pop()[0] in (302, 403, 404)


def test_organisation_inspect_inside_the_subtree_opens(client, secretary_a, tree):
    client.force_login(secretary_a)
    response = client.get(reverse("organizations:inspect", args=[tree.branch_a1.pk]))
    assert response.status_code == 200
    assert tree.branch_a1.name in response.content.decode()


@pytest.mark.parametrize("export", ["csv", "xlsx"])
def test_organisation_export_lists_only_the_subtree(client, secretary_a, tree, export):
    client.force_login(secretary_a)
    response = client.get(reverse("organizations:index"), {"export": export})
    assert response.status_code == 200
    if export == "csv":
        content = b"".join(response.streaming_content).decode()
        assert tree.branch_a1.name in content
        assert tree.branch_b1.name not in content


def test_site_history_does_not_name_members_outside_the_subtree(
    client, secretary_a, people, administrator
):
    for member in people.values():
        log(member, "wagtail.edit")
    client.force_login(secretary_a)
    response = client.get(reverse("wagtailadmin_reports:site_history"))
    assert response.status_code in (200, 302, 403)
    _assert_names_absent(response)
