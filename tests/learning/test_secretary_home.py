"""A secretary finds their members from the admin menu and reads their numbers at home.

Everything is scoped to the secretary's own subtree (第一党总支 in the ``tree`` fixture):
members, points, study and quizzes of 第三党支部 (第二党总支) never count or show.
"""

from __future__ import annotations

import datetime
import json
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from learning.people import roles
from learning.points.ledger import points_award
from learning.study.assignments import assignment_create
from learning.study.headline import organisation_headline, scope_members, secretary_scope
from quizzes.models import Quiz
from quizzes.results.admin_home import quizzes_not_taken_count
from quizzes.taking.attempts import attempt_start
from quizzes.taking.submitting import attempt_submit
from tests.factories.pages import add_course
from tests.factories.people import MemberFactory, secretary_of
from tests.factories.questions import question_create, single_choice
from tests.factories.quizzes import fixed_quiz
from tests.factories.times import SHANGHAI

# A Thursday; its week runs from Monday 23 to Sunday 29 November 2026.
NOW = datetime.datetime(2026, 11, 26, 15, 0, tzinfo=SHANGHAI)
LAST_SUNDAY = datetime.datetime(2026, 11, 22, 20, 0, tzinfo=SHANGHAI)


@pytest.fixture
def subtree(tree, secretary_a, administrator):
    """Two members in scope, one outside it; activity this week and last week; study due."""
    inside = MemberFactory(username="zhang_san", display_name="张三", organization=tree.branch_a1)
    inside_quiet = MemberFactory(username="li_si", display_name="李四", organization=tree.group_a1)
    outside = MemberFactory(
        username="wang_wu", display_name="外支部王五", organization=tree.branch_b1
    )
    points_award(member=inside, rule_code="lesson_completed", key="a", occurred_at=NOW)
    points_award(member=outside, rule_code="lesson_completed", key="b", occurred_at=NOW)
    # Last week's points do not make anyone active this week.
    points_award(
        member=inside_quiet, rule_code="lesson_completed", key="c", occurred_at=LAST_SUNDAY
    )

    course = add_course("党章学习", ["第一课"])
    assignment_create(
        created_by=administrator,
        page=course,
        organizations=[tree.committee],
        start_date=datetime.date(2026, 11, 1),
        due_date=datetime.date(2026, 11, 20),
    )
    assignment_create(
        created_by=administrator,
        page=course,
        organizations=[tree.committee],
        start_date=datetime.date(2026, 11, 1),
        due_date=datetime.date(2026, 11, 20),
        is_required=False,
        title="选学",
    )
    question = question_create(single_choice())
    weekly = fixed_quiz(
        [question],
        kind=Quiz.Kind.WEEKLY,
        opens_at=NOW - datetime.timedelta(days=2),
        closes_at=NOW + datetime.timedelta(days=2),
    )
    fixed_quiz([question], kind=Quiz.Kind.DAILY, title="每日答题")
    attempt = attempt_start(quiz=weekly, member=inside, at=NOW)
    attempt_submit(attempt=attempt, member=inside, at=NOW)
    return {"inside": inside, "quiet": inside_quiet, "outside": outside, "course": course}


def test_headline_counts_only_the_secretarys_subtree(secretary_a, subtree):
    headline = organisation_headline(user=secretary_a, now=NOW)
    assert [root.name for root in headline.roots] == ["第一党总支"]
    # 王书记, 张三, 李四: the secretary is a member of 第一党支部 too.
    assert headline.members == 3
    assert headline.active_this_week == 1  # 张三; 李四's points were last week
    assert headline.week_start == datetime.date(2026, 11, 23)
    # One required assignment past due, unfinished by all three; the optional one not.
    assert headline.assignments_overdue == 3


def test_active_this_week_follows_the_local_week(secretary_a, subtree):
    # On Sunday night the week still includes Thursday's points; next Monday it does not.
    sunday = datetime.datetime(2026, 11, 29, 23, 30, tzinfo=SHANGHAI)
    monday = datetime.datetime(2026, 11, 30, 0, 30, tzinfo=SHANGHAI)
    assert organisation_headline(user=secretary_a, now=sunday).active_this_week == 1
    assert organisation_headline(user=secretary_a, now=monday).active_this_week == 0


def test_quizzes_not_taken_counts_open_expected_quizzes_of_the_subtree(secretary_a, subtree, tree):
    _roots, scope = secretary_scope(secretary_a)
    # The weekly quiz: 王书记 and 李四 have not taken it (张三 has); the daily quiz is a habit.
    assert quizzes_not_taken_count(members=scope_members(scope), now=NOW) == 2
    # Once the quiz has closed, nothing is outstanding.
    later = NOW + datetime.timedelta(days=3)
    assert quizzes_not_taken_count(members=scope_members(scope), now=later) == 0


def test_a_quiz_for_another_branch_is_not_counted(secretary_a, subtree, tree):
    question = question_create(single_choice(stem="另一题"))
    fixed_quiz(
        [question],
        kind=Quiz.Kind.TOPIC,
        title="第三支部专题",
        organizations=[tree.branch_b1],
        opens_at=NOW - datetime.timedelta(days=1),
    )
    _roots, scope = secretary_scope(secretary_a)
    assert quizzes_not_taken_count(members=scope_members(scope), now=NOW) == 2


def test_nobody_but_a_secretary_gets_a_headline(editor, subtree):
    assert organisation_headline(user=editor, now=NOW) is None


def _sidebar_labels(html: str) -> dict[str, str]:
    match = re.search(
        r'<script id="wagtail-sidebar-props" type="application/json">(.*?)</script>', html, re.S
    )
    labels: dict[str, str] = {}

    def walk(value):
        if isinstance(value, dict):
            if "label" in value and "url" in value:
                labels[value["label"]] = value["url"]
            for child in value.values():
                walk(child)
        elif isinstance(value, list):
            for child in value:
                walk(child)

    walk(json.loads(match.group(1)))
    return labels


def test_a_secretary_has_a_members_menu_item(client, secretary_a, subtree):
    client.force_login(secretary_a)
    labels = _sidebar_labels(client.get(reverse("wagtailadmin_home")).content.decode())
    assert labels.get("党员") == reverse("wagtailusers_users:index")


def test_an_editor_has_no_members_menu_item(client, editor, subtree):
    client.force_login(editor)
    labels = _sidebar_labels(client.get(reverse("wagtailadmin_home")).content.decode())
    assert "党员" not in labels


def test_the_home_panel_shows_the_subtree_and_no_one_outside_it(client, secretary_a, subtree):
    client.force_login(secretary_a)
    page = client.get(reverse("wagtailadmin_home")).content.decode()
    assert "本组织概况" in page and "第一党总支" in page
    text = re.sub(r"<[^>]+>", "", page)
    assert "3 名党员" in text
    assert "人参与学习" in text
    # Nothing of 第二党总支 appears: not its name, not its member.
    assert "第二党总支" not in page and "外支部王五" not in page and "第三党支部" not in page


def test_editors_and_approvers_get_no_organisation_panel(client, editor, tree, subtree):
    approver = MemberFactory(organization=tree.committee, role_names=[roles.APPROVER])
    for user in (editor, approver):
        client.force_login(user)
        assert "本组织概况" not in client.get(reverse("wagtailadmin_home")).content.decode()


def test_the_home_panel_costs_a_bounded_number_of_queries(
    client, secretary_a, subtree, django_assert_max_num_queries
):
    client.force_login(secretary_a)
    client.get(reverse("wagtailadmin_home"))
    with django_assert_max_num_queries(80):
        client.get(reverse("wagtailadmin_home"))


def test_another_secretary_sees_only_their_own_subtree(tree, subtree, client):
    other = secretary_of(tree.general_b, "zhao_shuji", "赵书记", member_of=tree.branch_b1)
    headline = organisation_headline(user=other, now=NOW)
    assert [root.name for root in headline.roots] == ["第二党总支"]
    assert headline.members == 2  # 赵书记 and 外支部王五
    assert headline.active_this_week == 1  # 外支部王五
    client.force_login(other)
    page = client.get(reverse("wagtailadmin_home")).content.decode()
    assert "第二党总支" in page and "第一党总支" not in page and "张三" not in page


def _home_queries(client) -> int:
    with CaptureQueriesContext(connection) as queries:
        client.get(reverse("wagtailadmin_home"))
    return len(queries)


def _overdue_study_and_open_quiz(administrator, tree, course, number: int) -> None:
    today = timezone.localdate()
    assignment_create(
        created_by=administrator,
        page=course,
        organizations=[tree.committee],
        start_date=today - datetime.timedelta(days=20),
        due_date=today - datetime.timedelta(days=2),
        title=f"必学 {number}",
    )
    fixed_quiz(
        [question_create(single_choice(stem=f"第 {number} 题：党的根本宗旨是？"))],
        kind=Quiz.Kind.WEEKLY,
        title=f"周测 {number}",
        opens_at=timezone.now() - datetime.timedelta(days=1),
        closes_at=timezone.now() + datetime.timedelta(days=1),
    )


def test_the_home_panel_costs_the_same_queries_for_ten_assignments_and_quizzes(
    client, tree, secretary_a, administrator
):
    # Issue 12 review: each overdue assignment ran a whole report, and each open quiz two
    # counts, on every visit to the admin home.
    for _number in range(5):
        MemberFactory(organization=tree.branch_a1)
    course = add_course("党章学习", ["第一课", "第二课"])
    _overdue_study_and_open_quiz(administrator, tree, course, 0)
    client.force_login(secretary_a)
    client.get(reverse("wagtailadmin_home"))
    with_one = _home_queries(client)
    for number in range(1, 11):
        _overdue_study_and_open_quiz(administrator, tree, course, number)

    assert _home_queries(client) == with_one
    headline = organisation_headline(user=secretary_a, now=timezone.now())
    assert headline.assignments_overdue == 11 * 6  # six members of 第一党总支, none done
