"""My learning (/learn/) and the home page's tasks: my courses, my tasks, my study time."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import override

from learning.models import StudyDay
from learning.study.my_learning import (
    duration_text,
    member_courses,
    member_today_tasks,
    member_weekly_study,
)
from tests.factories.pages import add_course, add_lesson, lessons_of
from tests.factories.people import MemberFactory
from tests.factories.study import assign, complete, open_lesson
from tests.factories.times import days

TODAY = datetime.date(2026, 11, 26)  # a Thursday


@pytest.fixture
def member(tree):
    return MemberFactory(username="zhanghong", display_name="张红", organization=tree.group_a1)


@pytest.fixture
def other(tree):
    return MemberFactory(username="lisi", display_name="李四", organization=tree.group_a1)


@pytest.fixture
def courses(db):
    return {
        "history": add_course("党史学习", ["开天辟地", "星火燎原"], slug="history"),
        "theory": add_course("理论学习", ["实事求是", "群众路线", "独立自主"], slug="theory"),
        "rules": add_course("党规党纪", ["党章"], slug="rules"),
    }


# --- Courses -------------------------------------------------------------------------------


def test_courses_are_split_into_in_progress_and_completed(member, courses):
    history, theory, rules = (lessons_of(courses[name]) for name in ("history", "theory", "rules"))
    complete(member, history[0], TODAY - days(3))
    complete(member, history[1], TODAY - days(2))
    complete(member, theory[0], TODAY - days(1))
    open_lesson(member, theory[1], TODAY)
    mine = member_courses(member)
    assert [(row.course.title, row.percent) for row in mine.in_progress] == [("理论学习", 33)]
    assert mine.in_progress[0].next_lesson.title == "群众路线"
    assert [row.course.title for row in mine.completed] == ["党史学习"]
    completed_on = timezone.localdate(mine.completed[0].completed_at)
    assert completed_on == TODAY - days(2)
    assert all(row.course.title != "党规党纪" for row in mine.in_progress + mine.completed)
    assert rules  # never opened: not listed


def test_a_new_lesson_reopens_a_completed_course(member, courses):
    course = courses["rules"]
    complete(member, lessons_of(course)[0], TODAY)
    assert len(member_courses(member).completed) == 1
    add_lesson(course, "准则", slug="code", body=[])
    mine = member_courses(member)
    assert mine.completed == [] and mine.in_progress[0].percent == 50


def test_courses_of_another_member_are_not_mine(member, other, courses):
    complete(other, lessons_of(courses["rules"])[0], TODAY)
    assert member_courses(member).completed == []


# --- Study time by week --------------------------------------------------------------------


def test_weekly_study_sums_verified_seconds_per_week_newest_first(member):
    monday = TODAY - days(3)
    for day, seconds in [
        (TODAY, 600),
        (monday, 300),
        (monday - days(1), 900),  # Sunday: last week
        (monday - days(21), 1200),
        (monday - days(8 * 7), 5000),  # nine weeks back: outside the window
    ]:
        StudyDay.objects.create(member=member, day=day, seconds=seconds)
    weeks = member_weekly_study(member, today=TODAY)
    assert len(weeks) == 8
    assert [week.start for week in weeks[:2]] == [monday, monday - days(7)]
    assert [week.seconds for week in weeks] == [900, 900, 0, 1200, 0, 0, 0, 0]
    assert weeks[0].is_current and not weeks[1].is_current
    assert [week.percent_of_best for week in weeks[:4]] == [75, 75, 0, 100]


def test_weekly_study_counts_only_my_own_time(member, other):
    StudyDay.objects.create(member=other, day=TODAY, seconds=3600)
    assert sum(week.seconds for week in member_weekly_study(member, today=TODAY)) == 0


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0, "0 min"),
        (59, "0 min"),
        (60, "1 min"),
        (3599, "59 min"),
        (3600, "1 h 0 min"),
        (7500, "2 h 5 min"),
    ],
)
def test_duration_text(seconds, text):
    with override("en"):
        assert duration_text(seconds) == text


# --- Today's tasks -------------------------------------------------------------------------


def test_today_lists_assignments_due_soonest_then_unfinished_lessons(tree, member, courses):
    later = assign(courses["theory"], [tree.committee], TODAY, TODAY + days(20))
    sooner = assign(courses["history"], [tree.branch_a1], TODAY, TODAY + days(2))
    rules_lesson = lessons_of(courses["rules"])[0]
    open_lesson(member, rules_lesson, TODAY)
    # A half-read lesson of an assigned course is covered by the assignment.
    open_lesson(member, lessons_of(courses["theory"])[0], TODAY)
    tasks = member_today_tasks(member, today=TODAY)
    assert [row.assignment for row in tasks.assignments] == [sooner, later]
    assert tasks.assignments[0].is_due_soon
    assert [item.lesson.pk for item in tasks.lessons] == [rules_lesson.pk]


def test_finished_assignments_leave_today(tree, member, courses):
    assign(courses["rules"], [tree.committee], TODAY, TODAY + days(5))
    complete(member, lessons_of(courses["rules"])[0], TODAY)
    assert not member_today_tasks(member, today=TODAY)


def test_home_page_shows_my_assigned_course_and_overdue_flag(
    client, tree, member, courses, django_assert_max_num_queries
):
    today = timezone.localdate()
    assign(courses["history"], [tree.branch_a1], today - days(5), today - days(1))
    assign(courses["theory"], [tree.committee], today, today + days(7), title="十二月理论学习")
    client.force_login(member)
    with override("en"), django_assert_max_num_queries(24):
        response = client.get("/", HTTP_ACCEPT_LANGUAGE="en")
    content = response.content.decode()
    assert "党史学习" in content and "十二月理论学习" in content
    assert content.index("党史学习") < content.index("十二月理论学习")
    tasks = response.context["tasks"]
    assert tasks.assignments[0].is_overdue


def test_home_page_has_no_tasks_for_someone_outside_the_target(client, tree, courses):
    assign(courses["history"], [tree.branch_b1], timezone.localdate(), timezone.localdate())
    outsider = MemberFactory(organization=tree.branch_a2)
    client.force_login(outsider)
    response = client.get("/")
    assert not response.context["tasks"]
    assert (
        "党史学习"
        not in response.content.decode().split('id="today-title"')[1].split("</section>")[0]
    )


# --- The page ------------------------------------------------------------------------------


def test_learn_page_shows_tasks_courses_and_weeks(
    client, tree, member, courses, django_assert_max_num_queries
):
    today = timezone.localdate()
    assign(courses["theory"], [tree.committee], today, today + days(7))
    theory = lessons_of(courses["theory"])
    complete(member, theory[0], today)
    complete(member, lessons_of(courses["rules"])[0], today)
    StudyDay.objects.create(member=member, day=today, seconds=1500)
    client.force_login(member)
    with django_assert_max_num_queries(25) as counted:
        response = client.get(reverse("learning:learn"))
    assert response.status_code == 200
    summary = response.context["summary"]
    assert [row.percent for row in summary.assignments] == [33]
    assert [row.course.title for row in summary.courses.in_progress] == ["理论学习"]
    assert [row.course.title for row in summary.courses.completed] == ["党规党纪"]
    assert summary.weeks[0].seconds == 1500
    content = response.content.decode()
    assert 'data-testid="study-weeks"' in content and "理论学习" in content

    # More courses and assignments cost no more queries.
    for number in range(6):
        course = add_course(f"专题{number}", ["一", "二"], slug=f"topic-{number}")
        assign(course, [tree.branch_a1], today, today + days(3))
        complete(member, lessons_of(course)[0], today)
    with django_assert_max_num_queries(len(counted.captured_queries)):
        assert client.get(reverse("learning:learn")).status_code == 200


def test_learn_page_shows_only_my_own_progress(client, member, other, courses):
    complete(other, lessons_of(courses["rules"])[0], timezone.localdate())
    StudyDay.objects.create(member=other, day=timezone.localdate(), seconds=3600)
    client.force_login(member)
    response = client.get(reverse("learning:learn"), {"member": other.pk})
    summary = response.context["summary"]
    assert summary.courses.completed == [] and summary.weeks_total_seconds == 0
    assert "党规党纪" not in response.content.decode()


def test_learn_page_needs_a_login(client, db):
    response = client.get(reverse("learning:learn"))
    assert response.status_code == 302
