"""Fixtures for the security regression suite: people to attack with, signed-in clients.

Every test in ``tests/security`` performs an attack over HTTP, as someone holding a
member's, a secretary's or an editor's password would, and then checks the database to
prove nothing changed. The attacks are those a penetration test found held (issue 11);
these tests keep them held.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from rest_framework.test import APIClient

from learning.models import Member
from tests.conftest import Tree
from tests.factories.people import MemberFactory


def signed_in(member: Member, *, api: bool = False, **options: Any) -> Client:
    """A client with the member's session, as after logging in with their password.

    ``force_login``: how the attacker logged in is not what these tests are about (the
    login itself, its lockout and its redirects are tested in test_csrf_and_sessions).
    """
    client = APIClient(**options) if api else Client(**options)
    client.force_login(member)
    return client


@pytest.fixture
def victim(tree: Tree) -> Member:
    """The member whose data is attacked."""
    return MemberFactory(username="victim", display_name="受害者甲", organization=tree.branch_a1)


@pytest.fixture
def attacker(tree: Tree) -> Member:
    """Another member of the same branch: the likeliest person to try."""
    return MemberFactory(username="attacker", display_name="攻击者乙", organization=tree.branch_a1)


@pytest.fixture
def outsider(tree: Tree) -> Member:
    """A member of 第二党总支, outside the reach of ``secretary_a``."""
    return MemberFactory(username="outsider", display_name="外支丙", organization=tree.branch_b1)
