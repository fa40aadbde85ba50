"""Concurrent writes on a real PostgreSQL: transfers never leave two open memberships."""

from __future__ import annotations

import datetime
import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from learning.models import Membership
from learning.people import services
from tests.factories.people import MemberFactory


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_simultaneous_transfers_of_one_member_keep_one_current_membership(tree):
    member = MemberFactory(organization=tree.branch_a1, joined_on=datetime.date(2024, 1, 1))
    targets = [tree.branch_a2, tree.branch_b1, tree.group_a1, tree.committee]
    barrier = threading.Barrier(len(targets))
    errors: list[Exception] = []

    def transfer(target):
        try:
            barrier.wait()
            services.member_transfer(member=member, to=target, on=datetime.date(2025, 3, 1))
        except ValidationError as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=transfer, args=(target,)) for target in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    current = Membership.objects.filter(member=member, end_date__isnull=True)
    assert current.count() == 1
    member.refresh_from_db()
    assert member.organization == current.get().organization
