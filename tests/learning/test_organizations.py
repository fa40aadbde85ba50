"""The organisation tree: subtrees, paths, moves and the visibility selector."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from learning.models import Organization
from learning.people import services
from learning.people.selectors import (
    organizations_as_indented_list,
    organizations_visible_to,
)
from tests.factories.people import MemberFactory, OrganizationFactory


def test_subtree_contains_the_node_and_all_descendants_only(tree):
    names = set(tree.general_a.subtree().values_list("name", flat=True))
    assert names == {"第一党总支", "第一党支部", "第二党支部", "第一党小组"}


def test_subtree_of_a_leaf_is_itself(tree):
    assert list(tree.group_a1.subtree()) == [tree.group_a1]


def test_subtree_does_not_leak_into_a_sibling_with_a_longer_path(tree):
    # Paths are fixed-width per level, so a prefix never matches a sibling's subtree.
    for _ in range(40):
        OrganizationFactory(parent=tree.general_b)
    assert tree.branch_a1.subtree().count() == 2


def test_path_display_names_every_ancestor(tree):
    assert tree.group_a1.path_display() == "某党委 › 第一党总支 › 第一党支部 › 第一党小组"


def test_children_are_kept_in_sort_order(tree):
    late = OrganizationFactory(name="后建先排", parent=tree.general_b, sort_order=0)
    tree.general_b.refresh_from_db()
    children = list(tree.general_b.get_children())
    assert children[0] == late


def test_moving_an_organisation_moves_its_subtree(tree):
    services.organization_update(organization=tree.branch_a1, parent=tree.general_b)
    tree.group_a1.refresh_from_db()
    assert tree.group_a1.path_display() == "某党委 › 第二党总支 › 第一党支部 › 第一党小组"
    general_a = Organization.objects.get(pk=tree.general_a.pk)
    assert set(general_a.subtree().values_list("code", flat=True)) == {"ZZB1", "ZB2"}


def test_an_organisation_cannot_move_under_its_own_descendant(tree):
    with pytest.raises(ValidationError):
        services.organization_update(organization=tree.general_a, parent=tree.group_a1)
    tree.general_a.refresh_from_db()
    assert tree.general_a.get_parent() == tree.committee


def test_duplicate_code_is_refused_and_nothing_is_added(tree):
    before = Organization.objects.count()
    with pytest.raises(ValidationError):
        services.organization_create(name="重复", code="ZB1", kind="branch", parent=tree.general_a)
    assert Organization.objects.count() == before


def test_indented_list_follows_tree_order(tree):
    listed = [(org.code, depth) for org, depth in organizations_as_indented_list()]
    assert listed == [
        ("DW", 0),
        ("ZZB1", 1),
        ("ZB1", 2),
        ("XZ1", 3),
        ("ZB2", 2),
        ("ZZB2", 1),
        ("ZB3", 2),
    ]


def test_administrator_sees_every_organisation(tree, administrator):
    assert organizations_visible_to(administrator).count() == Organization.objects.count()


def test_secretary_sees_only_their_subtree(tree, secretary_a):
    visible = set(organizations_visible_to(secretary_a).values_list("code", flat=True))
    assert visible == {"ZZB1", "ZB1", "ZB2", "XZ1"}


def test_secretary_with_two_assignments_sees_both_subtrees(tree, secretary_a):
    services.secretary_assign(member=secretary_a, organization=tree.branch_b1)
    visible = set(organizations_visible_to(secretary_a).values_list("code", flat=True))
    assert visible == {"ZZB1", "ZB1", "ZB2", "XZ1", "ZB3"}


def test_ordinary_member_and_editor_see_no_organisation(tree, editor):
    member = MemberFactory(organization=tree.branch_a1)
    assert not organizations_visible_to(member).exists()
    assert not organizations_visible_to(editor).exists()


def test_deactivated_secretary_sees_nothing(tree, secretary_a):
    secretary_a.is_active = False
    secretary_a.save()
    assert not organizations_visible_to(secretary_a).exists()
