"""Members' points pages: my points against caps, my history only, leaderboards."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from learning.points.ledger import points_award
from tests.factories.people import MemberFactory


@pytest.fixture
def member(tree):
    return MemberFactory(organization=tree.branch_a1, display_name="张学习")


@pytest.fixture
def other(tree):
    return MemberFactory(organization=tree.branch_a1, display_name="王其他")


def test_points_page_needs_login(client):
    response = client.get(reverse("learning:points"))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_my_points_show_today_total_and_rules_against_caps(
    client, member, django_assert_max_num_queries
):
    for i in range(2):
        points_award(member=member, rule_code="lesson_completed", key=f"l{i}")
    points_award(member=member, rule_code="exam_passed", key="exam")
    client.force_login(member)
    with django_assert_max_num_queries(30):
        response = client.get(reverse("learning:points"))
    page = response.content.decode()
    assert response.status_code == 200
    assert 'data-testid="points-today">12<' in page
    assert "2 / 6" in page  # lessons today against the daily cap
    assert 'rule__name">每日登录' not in page  # inactive rules are not in the progress list


def test_history_shows_only_my_entries_and_filters(client, member, other):
    points_award(member=member, rule_code="exam_passed", key="mine", note="我的考试")
    points_award(member=other, rule_code="exam_passed", key="theirs", note="别人的考试")
    client.force_login(member)
    page = client.get(reverse("learning:points")).content.decode()
    assert "我的考试" in page and "别人的考试" not in page
    filtered = client.get(
        reverse("learning:points"), {"date_from": "2000-01-01", "date_to": "2000-01-02"}
    )
    assert "我的考试" not in filtered.content.decode()


def test_backwards_date_range_gets_a_clear_error_not_a_crash(client, member):
    points_award(member=member, rule_code="exam_passed", key="mine", note="我的考试")
    client.force_login(member)
    response = client.get(
        reverse("learning:points"), {"date_from": "2026-12-31", "date_to": "2026-01-01"}
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "结束日期早于开始日期" in page or "The end date is before the start date" in page
    assert "我的考试" not in page


def test_leaderboards_rank_branches_and_members(
    client, member, other, tree, django_assert_max_num_queries
):
    points_award(member=member, rule_code="exam_passed", key="a")
    client.force_login(other)
    with django_assert_max_num_queries(30):
        response = client.get(
            reverse("learning:leaderboards"), {"period": "month", "metric": "total"}
        )
    page = response.content.decode()
    assert response.status_code == 200
    assert "第一党支部" in page and "张学习" in page


def test_leaderboards_hide_names_where_the_branch_says_so(client, member, other, tree):
    tree.branch_a1.hide_member_names = True
    tree.branch_a1.save()
    points_award(member=member, rule_code="exam_passed", key="a")
    client.force_login(other)
    page = client.get(reverse("learning:leaderboards")).content.decode()
    assert "张学习" not in page
    assert "第一党支部" in page  # aggregates remain


def test_bad_leaderboard_parameters_fall_back_to_defaults(client, member):
    client.force_login(member)
    response = client.get(
        reverse("learning:leaderboards"), {"period": "decade", "metric": "x", "scope": "999999"}
    )
    assert response.status_code == 200


def test_leaderboard_scope_is_limited_to_my_own_organisations(client, member, tree):
    client.force_login(member)
    response = client.get(
        reverse("learning:leaderboards"),
        {"period": "week", "metric": "total", "scope": tree.general_b.pk},
    )
    assert response.status_code == 200
    # 第二党总支 is not above the member, so the default scope (the committee) is used.
    assert "某党委" in response.content.decode()


def test_leaderboards_accept_a_custom_range_and_refuse_half_of_one(client, member):
    points_award(member=member, rule_code="exam_passed", key="a")
    client.force_login(member)
    today = timezone.localdate()
    response = client.get(
        reverse("learning:leaderboards"),
        {
            "metric": "total",
            "date_from": (today - datetime.timedelta(days=3)).isoformat(),
            "date_to": today.isoformat(),
        },
    )
    assert response.status_code == 200 and response.context["date_range"].kind == "custom"
    assert response.context["ranking"][0].points == 10
    half = client.get(reverse("learning:leaderboards"), {"date_from": today.isoformat()})
    assert half.status_code == 200 and half.context["form"].non_field_errors()


def test_a_custom_range_longer_than_a_year_is_refused(client, member):
    client.force_login(member)
    response = client.get(
        reverse("learning:leaderboards"), {"date_from": "2000-01-01", "date_to": "2099-12-31"}
    )
    assert response.status_code == 200 and response.context["form"].non_field_errors()
    assert response.context["date_range"].kind == "week"
