"""Leaderboards: fair metrics, ties, member counts at the period's end, hidden names."""

from __future__ import annotations

import datetime

import pytest

from learning.common.periods import Period, custom_range, period_range
from learning.people import services
from learning.points.leaderboards import (
    Metric,
    branch_ranking,
    organization_headcount,
    subtree_figures,
)
from learning.points.member_rankings import member_rank_in, member_ranking
from tests.factories.people import MemberFactory
from tests.factories.points import give

TODAY = datetime.date(2026, 11, 26)
JOINED = datetime.date(2026, 1, 1)


def members(organization, count: int, joined: datetime.date = JOINED):
    return [MemberFactory(organization=organization, joined_on=joined) for _ in range(count)]


@pytest.fixture
def small_active_big_idle(tree):
    """第一党支部: 3 members, all active (20 points each). 第三党支部: 30 members, 2 active."""
    small = members(tree.branch_a1, 3)
    big = members(tree.branch_b1, 30)
    for member in small:
        give(member, 20, TODAY)
    for member in big[:2]:
        give(member, 40, TODAY)
    return small, big


def ranking(tree, metric, kind=Period.WEEK, **kwargs):
    return branch_ranking(
        root=tree.committee,
        date_range=period_range(kind, TODAY),
        metric=metric,
        today=TODAY,
        **kwargs,
    )


def test_points_per_member_favours_a_small_active_branch(tree, small_active_big_idle):
    per_member = ranking(tree, Metric.PER_MEMBER)
    assert [row.name for row in per_member][:2] == ["第一党支部", "第三党支部"]
    first = per_member[0]
    assert (first.points, first.members, first.per_member) == (60, 3, 20.0)
    # Total points alone would reward the big branch for its size.
    total = ranking(tree, Metric.TOTAL)
    assert total[0].name == "第三党支部" and total[0].points == 80


def test_participation_rate_is_the_share_of_members_active(tree, small_active_big_idle):
    rows = {row.name: row for row in ranking(tree, Metric.PARTICIPATION)}
    assert rows["第一党支部"].participation == 1.0 and rows["第一党支部"].rank == 1
    assert rows["第三党支部"].active_members == 2 and rows[
        "第三党支部"
    ].participation == pytest.approx(2 / 30)


def test_ties_share_a_rank_and_keep_tree_order(tree):
    for branch in (tree.branch_a1, tree.branch_a2, tree.branch_b1):
        give(members(branch, 4)[0], 10, TODAY)
    rows = ranking(tree, Metric.PER_MEMBER)
    assert [(row.name, row.rank) for row in rows] == [
        ("第一党支部", 1),
        ("第二党支部", 1),
        ("第三党支部", 1),
    ]
    give(members(tree.branch_b1, 1)[0], 10, TODAY)  # 第三党支部 now 20 points / 5 members
    rows = ranking(tree, Metric.TOTAL)
    assert [(row.name, row.rank) for row in rows] == [
        ("第三党支部", 1),
        ("第一党支部", 2),
        ("第二党支部", 2),
    ]


def test_small_branches_are_ranked_but_marked(tree, small_active_big_idle):
    rows = {row.name: row for row in ranking(tree, Metric.PER_MEMBER, min_size=5)}
    assert rows["第一党支部"].below_min_size and rows["第一党支部"].rank == 1
    assert not rows["第三党支部"].below_min_size


def test_member_counts_come_from_the_periods_last_day(tree):
    october = period_range(Period.MONTH, datetime.date(2026, 10, 1))
    stayer, mover = members(tree.branch_a1, 2)
    give(stayer, 10, day=datetime.date(2026, 10, 5))
    services.member_transfer(member=mover, to=tree.branch_b1, on=datetime.date(2026, 11, 3))
    rows = {
        row.name: row
        for row in branch_ranking(root=tree.committee, date_range=october, today=TODAY)
    }
    # On 31 October both were in 第一党支部; today only one is.
    assert rows["第一党支部"].members == 2 and rows["第一党支部"].per_member == 5.0
    assert organization_headcount(tree.branch_a1, TODAY) == 1
    assert organization_headcount(tree.branch_b1, TODAY) == 1


def test_groups_count_towards_their_branch(tree):
    grouped = members(tree.group_a1, 2)
    give(grouped[0], 10, TODAY)
    row = next(r for r in ranking(tree, Metric.TOTAL) if r.name == "第一党支部")
    assert (row.points, row.members, row.active_members) == (10, 2, 1)


def test_ranking_within_a_subtree_lists_only_its_branches(tree, small_active_big_idle):
    rows = branch_ranking(
        root=tree.general_a, date_range=period_range(Period.WEEK, TODAY), today=TODAY
    )
    assert {row.name for row in rows} == {"第一党支部", "第二党支部"}


def test_custom_range_matches_the_stored_period(tree, small_active_big_idle):
    week = period_range(Period.WEEK, TODAY)
    stored = ranking(tree, Metric.PARTICIPATION)
    custom = branch_ranking(
        root=tree.committee,
        date_range=custom_range(week.start, week.end),
        metric=Metric.PARTICIPATION,
        today=TODAY,
    )
    assert [(r.name, r.points, r.active_members, r.rank) for r in stored] == [
        (r.name, r.points, r.active_members, r.rank) for r in custom
    ]


def test_periods_do_not_leak_into_each_other(tree):
    member = members(tree.branch_a1, 1)[0]
    give(member, 10, day=datetime.date(2026, 11, 22))  # Sunday of last week
    give(member, 20, day=TODAY)
    week = {r.name: r.points for r in ranking(tree, Metric.TOTAL, kind=Period.WEEK)}
    month = {r.name: r.points for r in ranking(tree, Metric.TOTAL, kind=Period.MONTH)}
    day = {r.name: r.points for r in ranking(tree, Metric.TOTAL, kind=Period.DAY)}
    assert (day["第一党支部"], week["第一党支部"], month["第一党支部"]) == (20, 20, 30)


def test_member_ranking_ties_and_my_rank(tree):
    a, b, c = members(tree.branch_a1, 3)
    give(a, 10, TODAY)
    give(b, 10, TODAY)
    give(c, 2, TODAY)
    week = period_range(Period.WEEK, TODAY)
    rows = member_ranking(root=tree.committee, date_range=week)
    assert [(row.member_id, row.rank, row.points) for row in rows] == [
        (a.pk, 1, 10),
        (b.pk, 1, 10),
        (c.pk, 3, 2),
    ]
    assert member_rank_in(member=c, root=tree.branch_a1, date_range=week)[0] == 3


def test_hidden_names_leave_members_out_of_rankings(tree, small_active_big_idle):
    week = period_range(Period.WEEK, TODAY)
    tree.branch_b1.hide_member_names = True
    tree.branch_b1.save()
    names = {row.organization_name for row in member_ranking(root=tree.committee, date_range=week)}
    assert names == {"第一党支部"}
    assert member_ranking(root=tree.branch_b1, date_range=week) == []
    tree.committee.hide_member_names = True
    tree.committee.save()
    assert member_ranking(root=tree.committee, date_range=week) == []
    # Aggregates stay available.
    assert ranking(tree, Metric.TOTAL)[0].points == 80


def test_subtree_figures_for_today(tree, small_active_big_idle):
    figures = subtree_figures(root=tree.committee, date_range=period_range(Period.DAY, TODAY))
    assert (figures.points, figures.active_members, figures.members) == (140, 5, 33)


def test_a_party_group_that_hides_names_is_left_out_of_member_rankings(tree):
    in_group = members(tree.group_a1, 1)[0]
    in_branch = members(tree.branch_a1, 1)[0]
    give(in_group, 10, TODAY)
    give(in_branch, 2, TODAY)
    tree.group_a1.hide_member_names = True
    tree.group_a1.save()
    week = period_range(Period.WEEK, TODAY)
    listed = {row.member_id for row in member_ranking(root=tree.branch_a1, date_range=week)}
    assert listed == {in_branch.pk}
    # The group's points still count for the branch.
    row = next(r for r in ranking(tree, Metric.TOTAL) if r.name == "第一党支部")
    assert row.points == 12
