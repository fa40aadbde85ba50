"""The fast read paths give the answers of summing everything: ranking keys, top members,
headcounts by branch after the tree changes, and what check_ledger says about them.
"""

from __future__ import annotations

import datetime
import random
from fractions import Fraction

import pytest

from learning.common.periods import ALL_TIME_START, STORED_PERIODS, Period, period_range
from learning.models import Organization
from learning.models.points import MemberYearBranches, OrganizationHeadcount
from learning.people import services
from learning.points import leaderboards, member_rankings
from learning.points.leaderboards import Metric, branch_ranking, organization_headcount
from learning.points.ledger import points_award
from learning.points.ledger_check import ledger_differences
from learning.points.member_rankings import member_ranking
from tests.factories.people import MemberFactory
from tests.factories.points import give
from tests.factories.times import at

TODAY = datetime.date(2026, 11, 26)
JOINED = datetime.date(2026, 1, 1)


# --- branch ranking keys -------------------------------------------------------------


def _reference_ranks(rows, metric):
    """Ranks by exact fractions, ties in tree order: what the integer keys must match."""

    def value(row):
        _id, _name, _path, points, active, members = row
        if metric == Metric.TOTAL:
            return Fraction(points)
        if not members:
            return Fraction(0)
        if metric == Metric.PARTICIPATION:
            return Fraction(min(active, members), members)
        return Fraction(points, members)

    ordered = sorted(enumerate(rows), key=lambda item: (-value(item[1]), item[0]))
    ranks = []
    previous = None
    rank = 0
    for position, (_order, row) in enumerate(ordered, start=1):
        if value(row) != previous:
            rank, previous = position, value(row)
        ranks.append((row[0], rank))
    return ranks


@pytest.mark.parametrize("metric", Metric.values)
def test_integer_sort_keys_rank_exactly_like_fractions(metric):
    rng = random.Random(20261126)
    rows = [
        # Ratios that floats or short decimals would get wrong or call equal.
        (1, "a", "0001", 1, 1, 3),
        (2, "b", "0002", 333_333, 333_333, 1_000_000),
        (3, "c", "0003", 2, 1, 6),
        (4, "d", "0004", 0, 0, 0),
        (5, "e", "0005", 7, 9, 7),
        (6, "f", "0006", 2**40 + 1, 5, 2**31 - 1),
        (7, "g", "0007", 2**40, 5, 2**31 - 2),
    ]
    for index in range(8, 400):
        members = rng.choice([0, 1, 2, 3, 5, 7, 12, 100, 1500, rng.randrange(1, 5000)])
        rows.append(
            (
                index,
                f"n{index}",
                f"{index:04d}",
                rng.randrange(0, 3) * rng.randrange(0, 2_000),
                rng.randrange(0, max(1, members + 3)),
                members,
            )
        )
    standings = leaderboards._rank(rows, metric, 3)
    assert [(row.organization_id, row.rank) for row in standings] == _reference_ranks(rows, metric)
    assert all(row.metric_value >= 0 for row in standings)


# --- top members ---------------------------------------------------------------------


@pytest.fixture
def busy_tree(tree):
    """Twenty members over three branches and a group; some move between branches during
    the year (their points are split), one group hides names, and points tie often.
    """
    rng = random.Random(7)
    branches = [tree.branch_a1, tree.branch_a2, tree.branch_b1, tree.group_a1]
    people = [MemberFactory(organization=rng.choice(branches), joined_on=JOINED) for _ in range(20)]
    days = [TODAY - datetime.timedelta(days=offset) for offset in (0, 1, 3, 9, 40, 100, 200)]
    for index, member in enumerate(people):
        for day in sorted(rng.sample(days, 3)):
            give(member, rng.choice([2, 4, 10, 12, 20]), day, f"{member.pk}:{day}")
        if index % 4 == 0:
            target = rng.choice([b for b in branches[:3] if b != member.organization])
            services.member_transfer(member=member, to=target, on=TODAY - datetime.timedelta(2))
            member.refresh_from_db()
            give(member, rng.choice([2, 10, 12]), TODAY, f"{member.pk}:moved")
    services.organization_update(
        organization=tree.group_a1, parent=tree.branch_a1, hide_member_names=True
    )
    return people


@pytest.fixture
def read_few_rows(monkeypatch):
    """Start from two rows and grow slowly, so that the stopping rule does the work."""
    monkeypatch.setattr(member_rankings, "_TOP_READ_LEAST", 2)
    monkeypatch.setattr(member_rankings, "_TOP_READ_FACTOR", 2)


@pytest.mark.parametrize("kind", STORED_PERIODS)
def test_top_members_from_the_highest_rows_equal_summing_every_row(
    tree, busy_tree, read_few_rows, kind
):
    date_range = period_range(kind, TODAY)
    hidden = [tree.group_a1.path]
    for root in (tree.committee, tree.general_a):
        everyone = member_rankings._all_members(root, date_range, hidden, None)
        for limit in (1, 2, 3, 5, 8, 13, 30):
            assert member_rankings._top_members(root, date_range, hidden, limit) == everyone[:limit]


def test_top_member_list_ranks_ties_like_the_full_list(tree, busy_tree, read_few_rows):
    date_range = period_range(Period.YEAR, TODAY)
    full = member_ranking(root=tree.committee, date_range=date_range)
    top = member_ranking(root=tree.committee, date_range=date_range, limit=7)
    assert top == full[:7]
    assert all(row.display_name for row in top)


def test_branch_counts_record_members_who_earned_in_more_than_one_branch(tree):
    member = MemberFactory(organization=tree.branch_a1, joined_on=JOINED)
    give(member, 10, TODAY - datetime.timedelta(days=5), "before")
    give(member, 10, TODAY - datetime.timedelta(days=4), "before-again")
    services.member_transfer(member=member, to=tree.branch_b1, on=TODAY)
    give(member, 10, TODAY, "after")
    points_award(member=member, rule_code="exam_passed", key="after:e0", occurred_at=at(TODAY))

    counts = dict(MemberYearBranches.objects.filter(member=member).values_list("start", "branches"))
    assert counts == {ALL_TIME_START: 2, datetime.date(2026, 1, 1): 2}
    other = MemberFactory(organization=tree.branch_a1, joined_on=JOINED)
    give(other, 4, TODAY, "other")
    assert set(MemberYearBranches.objects.filter(member=other).values_list("branches", flat=True))
    assert ledger_differences() == []


# --- headcounts by branch ------------------------------------------------------------


def members_by_branch(tree, kind=Period.WEEK, day=TODAY):
    return {
        row.name: row.members
        for row in branch_ranking(
            root=tree.committee, date_range=period_range(kind, day), today=day
        )
    }


def test_moving_a_group_moves_its_members_to_the_branch_above_it(tree):
    MemberFactory(organization=tree.group_a1, joined_on=JOINED)
    MemberFactory(organization=tree.group_a1, joined_on=JOINED)
    MemberFactory(organization=tree.branch_a1, joined_on=JOINED)
    assert members_by_branch(tree)["第一党支部"] == 3

    services.organization_update(organization=tree.group_a1, parent=tree.branch_b1)

    counts = members_by_branch(tree)
    assert (counts["第一党支部"], counts["第三党支部"]) == (1, 2)
    assert ledger_differences() == []


def test_a_group_that_becomes_a_branch_counts_its_own_members(tree):
    MemberFactory(organization=tree.group_a1, joined_on=JOINED)
    MemberFactory(organization=tree.branch_a1, joined_on=JOINED)

    group = Organization.objects.get(pk=tree.group_a1.pk)
    services.organization_update(
        organization=group, parent=tree.branch_a1, kind=Organization.Kind.BRANCH
    )

    counts = members_by_branch(tree)
    assert (counts["第一党支部"], counts["第一党小组"]) == (1, 1)
    assert ledger_differences() == []


def test_headcounts_leave_out_changes_after_the_day(tree):
    staying = MemberFactory(organization=tree.branch_a1, joined_on=JOINED)
    leaving = MemberFactory(organization=tree.branch_a1, joined_on=JOINED)
    MemberFactory(organization=tree.branch_a1, joined_on=TODAY + datetime.timedelta(days=10))
    services.member_transfer(
        member=leaving, to=tree.branch_b1, on=TODAY - datetime.timedelta(days=40)
    )

    assert organization_headcount(tree.branch_a1, TODAY) == 1
    assert organization_headcount(tree.branch_a1, TODAY + datetime.timedelta(days=10)) == 2
    assert organization_headcount(tree.committee, TODAY - datetime.timedelta(days=41)) == 2
    last_month = members_by_branch(tree, Period.MONTH, TODAY - datetime.timedelta(days=45))
    assert (last_month["第一党支部"], last_month["第三党支部"]) == (2, 0)
    assert members_by_branch(tree)["第三党支部"] == 1
    assert staying.organization == tree.branch_a1


def test_check_ledger_names_a_wrong_branch_and_a_short_branch_count(tree):
    member = MemberFactory(organization=tree.group_a1, joined_on=JOINED)
    give(member, 10, TODAY, "k")
    assert ledger_differences() == []

    OrganizationHeadcount.objects.filter(organization=tree.group_a1).update(branch=tree.branch_b1)
    MemberYearBranches.objects.filter(member=member).update(branches=0)

    differences = "\n".join(ledger_differences())
    assert "counts for branch" in differences
    assert "member branches" in differences
