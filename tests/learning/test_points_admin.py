"""Points in the admin: rules keep a history, the ledger is read-only, reversals need a reason."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from learning.models import PointsEntry, PointsRule, Screen
from learning.people import roles
from learning.points.ledger import points_award
from tests.factories.people import MemberFactory


@pytest.fixture
def entry(tree):
    member = MemberFactory(organization=tree.branch_a1, display_name="李学习")
    return points_award(member=member, rule_code="exam_passed", key="exam:1").entry


@pytest.fixture
def outside_entry(tree):
    member = MemberFactory(organization=tree.branch_b1, display_name="赵外支")
    return points_award(member=member, rule_code="exam_passed", key="exam:2").entry


def test_administrator_edits_a_rule_and_the_change_is_kept(client, administrator):
    client.force_login(administrator)
    rule = PointsRule.objects.get(code="lesson_completed")
    url = reverse("wagtailsnippets_learning_pointsrule:edit", args=[rule.pk])
    data = {
        "name": "完成课时",
        "points": 2,
        "max_points_per_award": "",
        "daily_cap": 8,
        "is_active": "on",
        "description": rule.description,
        "sort_order": rule.sort_order,
    }
    response = client.post(url, data)
    assert response.status_code == 302
    rule.refresh_from_db()
    assert (rule.points, rule.daily_cap, rule.code) == (2, 8, "lesson_completed")
    assert rule.revisions.count() == 1
    history = client.get(reverse("wagtailsnippets_learning_pointsrule:history", args=[rule.pk]))
    assert history.status_code == 200


def test_rules_cannot_be_added_or_deleted_in_the_admin(client, administrator):
    client.force_login(administrator)
    rule = PointsRule.objects.get(code="lesson_completed")
    assert client.get(reverse("wagtailsnippets_learning_pointsrule:add")).status_code == 302
    client.post(reverse("wagtailsnippets_learning_pointsrule:delete", args=[rule.pk]))
    assert PointsRule.objects.filter(pk=rule.pk).exists()


def test_an_ordinary_member_cannot_open_the_rules(client, tree):
    member = MemberFactory(organization=tree.branch_a1)
    client.force_login(member)
    response = client.get(reverse("wagtailsnippets_learning_pointsrule:list"))
    assert response.status_code == 302


def test_ledger_lists_and_filters_entries(
    client, administrator, entry, django_assert_max_num_queries
):
    client.force_login(administrator)
    with django_assert_max_num_queries(40):
        response = client.get(reverse("ledger:index"))
    assert response.status_code == 200 and "李学习" in response.content.decode()
    filtered = client.get(reverse("ledger:index"), {"member": "nobody"})
    assert "李学习" not in filtered.content.decode()


def test_nobody_edits_or_deletes_ledger_entries_in_the_admin(client, tree, entry):
    superuser = MemberFactory(organization=tree.committee, role_names=[roles.ADMINISTRATOR])
    superuser.is_superuser = True
    superuser.save()
    client.force_login(superuser)
    for name in ("edit", "delete"):
        client.post(reverse(f"ledger:{name}", args=[entry.pk]), {"note": "changed"})
    client.post(reverse("ledger:add"), {"note": "new"})
    assert list(PointsEntry.objects.values_list("pk", "points", "note")) == [(entry.pk, 10, "")]


def test_reversal_needs_a_reason_and_happens_once(client, administrator, entry):
    client.force_login(administrator)
    url = reverse("ledger:reverse", args=[entry.pk])
    response = client.post(url, {"reason": "  "})
    assert response.status_code == 200 and PointsEntry.objects.count() == 1
    response = client.post(url, {"reason": "考试作弊，成绩作废"})
    assert response.status_code == 302
    reversal = PointsEntry.objects.get(reverses=entry)
    assert (reversal.points, reversal.note, reversal.created_by) == (
        -10,
        "考试作弊，成绩作废",
        administrator,
    )
    again = client.post(url, {"reason": "again"})
    assert again.status_code == 200 and PointsEntry.objects.count() == 2


def test_secretary_sees_only_their_subtree_and_cannot_reverse(
    client, secretary_a, entry, outside_entry
):
    client.force_login(secretary_a)
    page = client.get(reverse("ledger:index")).content.decode()
    assert "李学习" in page and "赵外支" not in page
    inspect = client.get(reverse("ledger:inspect", args=[outside_entry.pk]))
    assert inspect.status_code in (302, 403, 404)
    client.post(reverse("ledger:reverse", args=[entry.pk]), {"reason": "no"})
    assert not PointsEntry.objects.filter(reverses=entry).exists()


def test_screen_edit_page_offers_copy_link_and_rotation(client, administrator, tree):
    screen = Screen.objects.create(name="大厅", organization=tree.committee)
    client.force_login(administrator)
    page = client.get(reverse("screens:edit", args=[screen.pk])).content.decode()
    assert f"/screens/{screen.token}/" in page and "w-clipboard" in page
    old = screen.token
    response = client.post(reverse("screens:rotate", args=[screen.pk]))
    assert response.status_code == 302
    screen.refresh_from_db()
    assert screen.token != old and len(screen.token) >= 40
    assert client.get(f"/screens/{old}/snapshot.json").status_code == 404


def test_secretary_cannot_manage_screens(client, secretary_a, tree):
    screen = Screen.objects.create(name="大厅", organization=tree.committee)
    client.force_login(secretary_a)
    client.post(reverse("screens:rotate", args=[screen.pk]))
    old = screen.token
    screen.refresh_from_db()
    assert screen.token == old


def test_organisation_can_hide_member_names(client, administrator, tree):
    client.force_login(administrator)
    url = reverse("organizations:edit", args=[tree.branch_b1.pk])
    data = {
        "name": tree.branch_b1.name,
        "code": tree.branch_b1.code,
        "kind": tree.branch_b1.kind,
        "parent": tree.general_b.pk,
        "sort_order": tree.branch_b1.sort_order,
        "is_active": "on",
        "hide_member_names": "on",
    }
    assert client.post(url, data).status_code == 302
    tree.branch_b1.refresh_from_db()
    assert tree.branch_b1.hide_member_names


def test_a_member_with_points_cannot_be_deleted_but_one_without_can(
    client, administrator, tree, entry
):
    from learning.models import Member
    from learning.points.leaderboards import organization_headcount

    client.force_login(administrator)
    client.post(reverse("wagtailusers_users:delete", args=[entry.member_id]))
    assert Member.objects.filter(pk=entry.member_id).exists()
    newcomer = MemberFactory(organization=tree.branch_a1)
    before = organization_headcount(tree.branch_a1, timezone.localdate())
    client.post(reverse("wagtailusers_users:delete", args=[newcomer.pk]))
    assert not Member.objects.filter(pk=newcomer.pk).exists()
    assert organization_headcount(tree.branch_a1, timezone.localdate()) == before - 1
    from learning.points.ledger_check import ledger_differences

    assert ledger_differences() == []
