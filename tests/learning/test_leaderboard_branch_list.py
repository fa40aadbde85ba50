"""Branch rankings keep the branch list per process and never show an old one.

The list (names, tree order, members, minimum size) is read again whenever the branch
list version changes; these tests change each thing it is made of, by the services and
behind their back, and check the next ranking shows it. Points are never kept: an award
shows in the very next ranking.
"""

from __future__ import annotations

import datetime
import zoneinfo

import pytest
from django.db import connection, transaction

from learning.common.periods import Period, period_range
from learning.models import LeaderboardSettings, Organization
from learning.models.points import BranchListVersion
from learning.people import services
from learning.points import leaderboards
from learning.points.leaderboards import branch_ranking
from learning.points.ledger import points_award
from tests.factories.people import MemberFactory

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
TODAY = datetime.date(2026, 11, 26)
JOINED = datetime.date(2026, 1, 1)


def rank(tree, kind: str = Period.WEEK) -> dict[str, tuple[int, int, int, bool]]:
    """{branch name: (points, members, active members, below minimum size)}."""
    return {
        row.name: (row.points, row.members, row.active_members, row.below_min_size)
        for row in branch_ranking(
            root=tree.committee, date_range=period_range(kind, TODAY), today=TODAY
        )
    }


def award(member, key: str) -> None:
    points_award(
        member=member,
        rule_code="exam_passed",
        key=key,
        occurred_at=datetime.datetime(2026, 11, 26, 10, tzinfo=SHANGHAI),
    )


@pytest.fixture
def member_a1(tree):
    return MemberFactory(organization=tree.branch_a1, joined_on=JOINED)


def test_a_second_ranking_reads_only_the_totals(tree, member_a1, django_assert_num_queries):
    rank(tree)
    with django_assert_num_queries(1):
        rank(tree)


def test_an_award_shows_in_the_next_ranking(tree, member_a1, django_assert_num_queries):
    assert rank(tree)["第一党支部"][0] == 0
    award(member_a1, "a")
    with django_assert_num_queries(1):  # the list is still good; the points are read
        assert rank(tree)["第一党支部"][:3] == (10, 1, 1)


def test_a_renamed_branch_shows_its_new_name(tree, member_a1):
    rank(tree)
    services.organization_update(
        organization=tree.branch_a1, parent=tree.general_a, name="先锋党支部"
    )
    assert "先锋党支部" in rank(tree)
    assert "第一党支部" not in rank(tree)


def test_a_rename_by_raw_sql_is_seen_too(tree, member_a1):
    rank(tree)
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE learning_organization SET name = %s WHERE id = %s",
            ["改名党支部", tree.branch_b1.pk],
        )
    assert "改名党支部" in rank(tree)


def test_a_new_branch_and_new_members_are_counted(tree, member_a1):
    assert rank(tree)["第一党支部"][1] == 1
    MemberFactory(organization=tree.group_a1, joined_on=JOINED)
    new_branch = services.organization_create(
        name="第四党支部", code="ZB4", kind=Organization.Kind.BRANCH, parent=tree.general_b
    )
    MemberFactory(organization=new_branch, joined_on=JOINED)

    after = rank(tree)
    assert after["第一党支部"][1] == 2
    assert after["第四党支部"][1] == 1


def test_a_transfer_moves_the_member_between_branches(tree, member_a1):
    rank(tree)
    services.member_transfer(member=member_a1, to=tree.branch_b1, on=TODAY)
    after = rank(tree)
    assert (after["第一党支部"][1], after["第三党支部"][1]) == (0, 1)


def test_a_new_minimum_branch_size_marks_small_branches(tree, member_a1):
    assert rank(tree)["第一党支部"][3] is True  # 1 member, default minimum 3
    settings = LeaderboardSettings.load()
    settings.min_branch_size = 1
    settings.save()
    assert rank(tree)["第一党支部"][3] is False


def test_a_list_read_inside_a_rolled_back_change_is_not_used_afterwards(tree, member_a1):
    rank(tree)
    with pytest.raises(RuntimeError), transaction.atomic():
        services.organization_update(
            organization=tree.branch_a1, parent=tree.general_a, name="临时党支部"
        )
        assert "临时党支部" in rank(tree)
        raise RuntimeError("roll back")
    assert "第一党支部" in rank(tree)
    assert "临时党支部" not in rank(tree)


def test_every_change_writes_a_new_version(tree):
    seen = {BranchListVersion.objects.get().version}
    for name in ("甲", "乙", "甲"):
        services.organization_update(organization=tree.branch_a2, parent=tree.general_a, name=name)
        seen.add(BranchListVersion.objects.get().version)
    assert len(seen) == 4


def test_without_a_version_row_every_ranking_reads_the_list(
    tree, member_a1, django_assert_num_queries
):
    BranchListVersion.objects.all().delete()
    rank(tree)
    with django_assert_num_queries(2):  # totals, then the list: nothing to trust
        rank(tree)


def test_the_kept_lists_are_bounded(tree, member_a1):
    for offset in range(leaderboards._BRANCH_LISTS_KEPT + 10):
        day = TODAY - datetime.timedelta(days=offset)
        branch_ranking(root=tree.committee, date_range=period_range(Period.DAY, day), today=day)
    assert len(leaderboards._BRANCH_LISTS) <= leaderboards._BRANCH_LISTS_KEPT


def test_check_ledger_names_a_missing_trigger_and_migrate_puts_it_back(tree, member_a1):
    from django.apps import apps

    from learning.points.db import ledger_guards_after_migrate
    from learning.points.ledger_check import ledger_differences

    assert ledger_differences() == []
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "DROP TRIGGER learning_organization_branch_list ON learning_organization"
            )
        else:
            cursor.execute("DROP TRIGGER learning_organization_branch_list_update")
    assert any("trigger learning_organization_branch_list" in d for d in ledger_differences())

    ledger_guards_after_migrate(apps.get_app_config("learning"), using="default")

    assert ledger_differences() == []
    rank(tree)
    services.organization_update(organization=tree.branch_a1, parent=tree.general_a, name="回来了")
    assert "回来了" in rank(tree)
