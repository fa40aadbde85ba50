"""Assigned study: targeting by subtree, dates, secretary scope, completion and the report."""

from __future__ import annotations

import datetime
import io

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from learning.models import Assignment, Organization
from learning.people.selectors import touching_subtrees_q
from learning.study.assignment_report import assignment_report
from learning.study.assignments import (
    Completion,
    Status,
    assignment_create,
    assignment_update,
    assignments_for_member,
    assignments_visible_to,
    completion_from,
    completion_status,
    member_assignments,
)
from tests.factories.pages import add_course, lessons_of
from tests.factories.people import MemberFactory, secretary_of
from tests.factories.study import assign, complete, open_lesson
from tests.factories.times import at, days

TODAY = datetime.date(2026, 11, 26)
DUE = datetime.date(2026, 11, 30)


@pytest.fixture
def course(db):
    return add_course("党史学习", ["第一课", "第二课"], slug="history")


@pytest.fixture
def people(tree):
    """One member in each corner of the tree."""
    return {
        "group": MemberFactory(username="zu", display_name="陈组", organization=tree.group_a1),
        "a1": MemberFactory(username="a1", display_name="李一", organization=tree.branch_a1),
        "a2": MemberFactory(username="a2", display_name="王二", organization=tree.branch_a2),
        "b1": MemberFactory(username="b1", display_name="周外", organization=tree.branch_b1),
    }


@pytest.fixture
def secretary_b(tree):
    return secretary_of(tree.general_b, "secretary_b", "赵书记")


# --- Targeting ---------------------------------------------------------------------------


def test_a_member_of_a_group_under_a_targeted_branch_is_targeted(tree, people, course):
    assignment = assign(course, [tree.branch_a1], TODAY, DUE)
    targeted = {
        name
        for name, member in people.items()
        if assignments_for_member(member, today=TODAY).filter(pk=assignment.pk).exists()
    }
    assert targeted == {"group", "a1"}


def test_targeting_a_general_branch_reaches_all_its_branches_and_nothing_else(tree, people, course):
    assign(course, [tree.general_a], TODAY, DUE)
    assert [bool(member_assignments(m, today=TODAY)) for m in people.values()] == [
        True,
        True,
        True,
        False,
    ]


def test_assignments_appear_from_the_start_date_until_two_weeks_after_due(tree, people, course):
    assign(course, [tree.committee], TODAY, DUE)
    member = people["a1"]
    assert not member_assignments(member, today=TODAY - days(1))
    assert member_assignments(member, today=TODAY)
    assert member_assignments(member, today=DUE + days(14))
    assert not member_assignments(member, today=DUE + days(15))


def test_a_transferred_member_follows_their_current_organisation(tree, people, course):
    from learning.people.services import member_transfer

    assign(course, [tree.branch_b1], TODAY, DUE)
    member = people["a2"]
    assert not member_assignments(member, today=TODAY)
    member_transfer(member=member, to=tree.branch_b1)
    member.refresh_from_db()
    assert member_assignments(member, today=TODAY)


# --- Dates ---------------------------------------------------------------------------------


def test_service_refuses_a_due_date_before_the_start_and_writes_nothing(
    tree, course, administrator
):
    with pytest.raises(ValidationError) as error:
        assignment_create(
            created_by=administrator,
            page=course,
            organizations=[tree.committee],
            start_date=DUE,
            due_date=TODAY,
        )
    assert "due_date" in error.value.message_dict
    assert not Assignment.objects.exists()


def test_the_database_refuses_a_due_date_before_the_start(tree, course):
    with pytest.raises(IntegrityError), transaction.atomic():
        Assignment.objects.create(page=course, start_date=DUE, due_date=TODAY)


def test_updating_with_bad_dates_changes_nothing(tree, course, administrator):
    assignment = assign(course, [tree.committee], TODAY, DUE, title="十一月学习")
    with pytest.raises(ValidationError):
        assignment_update(
            assignment=assignment,
            by=administrator,
            page=course,
            organizations=[tree.branch_a1],
            start_date=DUE,
            due_date=TODAY,
            title="改了",
        )
    assignment.refresh_from_db()
    assert (assignment.title, assignment.start_date, assignment.due_date) == (
        "十一月学习",
        TODAY,
        DUE,
    )
    assert list(assignment.organizations.all()) == [tree.committee]


def test_only_courses_and_lessons_can_be_assigned(tree, course, administrator):
    from cms.models import CourseIndexPage

    with pytest.raises(ValidationError) as error:
        assignment_create(
            created_by=administrator,
            page=CourseIndexPage.objects.get(),
            organizations=[tree.committee],
            start_date=TODAY,
            due_date=DUE,
        )
    assert "page" in error.value.message_dict


# --- Admin: forms and scope ------------------------------------------------------------


def form_data(page, organizations, start, due, **extra):
    return {
        "page": page.pk,
        "title": extra.pop("title", ""),
        "organizations": [org.pk for org in organizations],
        "start_date": start.isoformat(),
        "due_date": due.isoformat(),
        "is_required": "on",
        "note": "",
        **extra,
    }


def test_editor_assigns_a_course_to_any_organisation(client, tree, course, editor):
    client.force_login(editor)
    response = client.post(
        reverse("assignments:add"), form_data(course, [tree.branch_b1, tree.general_a], TODAY, DUE)
    )
    assert response.status_code == 302
    assignment = Assignment.objects.get()
    assert set(assignment.organizations.all()) == {tree.branch_b1, tree.general_a}
    assert assignment.created_by == editor
    assert assignment.display_title == "党史学习"
    # Copying keeps the targets, so next month's round is quick to make.
    copy = client.get(reverse("assignments:copy", args=[assignment.pk]))
    assert copy.status_code == 200
    assert set(copy.context["form"].initial["organizations"]) == {tree.branch_b1, tree.general_a}


def test_admin_form_with_due_before_start_shows_an_error_and_saves_nothing(
    client, tree, course, editor
):
    client.force_login(editor)
    response = client.post(
        reverse("assignments:add"), form_data(course, [tree.committee], DUE, TODAY)
    )
    assert response.status_code == 200
    assert response.context["form"].errors["due_date"]
    assert not Assignment.objects.exists()


def test_admin_edit_with_due_before_start_changes_nothing(client, tree, course, editor):
    assignment = assign(course, [tree.committee], TODAY, DUE, title="原标题")
    client.force_login(editor)
    response = client.post(
        reverse("assignments:edit", args=[assignment.pk]),
        form_data(course, [tree.branch_a1], DUE, TODAY, title="新标题"),
    )
    assert response.status_code == 200
    assignment.refresh_from_db()
    assert assignment.title == "原标题"
    assert (assignment.start_date, assignment.due_date) == (TODAY, DUE)
    assert list(assignment.organizations.all()) == [tree.committee]


def test_secretary_form_offers_only_their_subtree(client, tree, course, secretary_a):
    client.force_login(secretary_a)
    response = client.get(reverse("assignments:add"))
    assert response.status_code == 200
    offered = set(response.context["form"].fields["organizations"].queryset)
    assert offered == {tree.general_a, tree.branch_a1, tree.branch_a2, tree.group_a1}


def test_secretary_cannot_assign_outside_their_subtree(client, tree, course, secretary_a):
    client.force_login(secretary_a)
    response = client.post(
        reverse("assignments:add"), form_data(course, [tree.branch_a1, tree.branch_b1], TODAY, DUE)
    )
    assert response.status_code == 200
    assert response.context["form"].errors["organizations"]
    assert not Assignment.objects.exists()


def test_secretary_assigns_within_their_subtree(client, tree, course, secretary_a):
    client.force_login(secretary_a)
    response = client.post(
        reverse("assignments:add"), form_data(course, [tree.branch_a2], TODAY, DUE)
    )
    assert response.status_code == 302
    assert list(Assignment.objects.get().organizations.all()) == [tree.branch_a2]


def test_service_refuses_a_secretary_outside_their_subtree(tree, course, secretary_a):
    with pytest.raises(ValidationError) as error:
        assignment_create(
            created_by=secretary_a,
            page=course,
            organizations=[tree.committee],
            start_date=TODAY,
            due_date=DUE,
        )
    assert "organizations" in error.value.message_dict
    assert not Assignment.objects.exists()


def test_secretary_sees_only_assignments_that_touch_their_subtree(
    client, tree, course, secretary_a, django_assert_max_num_queries
):
    everyone = assign(course, [tree.committee], TODAY, DUE, title="全委学习")
    mine = assign(course, [tree.group_a1], TODAY, DUE, title="小组学习")
    theirs = assign(course, [tree.branch_b1], TODAY, DUE, title="外支学习")
    assert set(assignments_visible_to(secretary_a)) == {everyone, mine}
    client.force_login(secretary_a)
    with django_assert_max_num_queries(45):
        response = client.get(reverse("assignments:index"))
    content = response.content.decode()
    assert "全委学习" in content and "小组学习" in content
    assert "外支学习" not in content
    # Editing: only what lies wholly inside their subtree.
    assert client.get(reverse("assignments:edit", args=[mine.pk])).status_code == 200
    assert client.get(reverse("assignments:edit", args=[everyone.pk])).status_code == 404
    assert client.get(reverse("assignments:edit", args=[theirs.pk])).status_code == 404
    client.post(reverse("assignments:delete", args=[theirs.pk]))
    assert Assignment.objects.filter(pk=theirs.pk).exists()


def test_secretary_cannot_widen_an_assignment_by_editing(client, tree, course, secretary_a):
    mine = assign(course, [tree.branch_a1], TODAY, DUE)
    client.force_login(secretary_a)
    response = client.post(
        reverse("assignments:edit", args=[mine.pk]),
        form_data(course, [tree.branch_a1, tree.committee], TODAY, DUE),
    )
    assert response.status_code == 200
    assert list(mine.organizations.all()) == [tree.branch_a1]


def test_an_ordinary_member_cannot_open_assignments_in_the_admin(client, tree, people):
    client.force_login(people["a1"])
    for url in (reverse("assignments:index"), reverse("assignments:report")):
        response = client.get(url)
        assert response.status_code in (302, 403)


# --- Completion and lateness ---------------------------------------------------------------


def test_completion_is_every_lesson_by_the_due_date_and_later_is_late(tree, people, course):
    first, second = lessons_of(course)
    assign(course, [tree.general_a], TODAY, DUE)
    on_time, late, halfway = people["a1"], people["a2"], people["group"]
    complete(on_time, first, TODAY)
    complete(on_time, second, DUE)
    complete(late, first, TODAY)
    complete(late, second, DUE + days(1))
    complete(halfway, first, TODAY)

    def row(member):
        (only,) = member_assignments(member, today=DUE + days(2))
        return only

    assert (row(on_time).status, row(on_time).percent) == (Status.DONE, 100)
    assert row(on_time).completed_on == DUE
    assert (row(late).status, row(late).is_late, row(late).is_overdue) == (Status.LATE, True, False)
    assert (row(halfway).status, row(halfway).percent) == (Status.IN_PROGRESS, 50)
    assert row(halfway).is_overdue and row(halfway).days_overdue == 2


def test_a_single_lesson_assignment_needs_only_that_lesson(tree, people, course):
    first, _second = lessons_of(course)
    assign(first, [tree.branch_a1], TODAY, DUE)
    member = people["a1"]
    (row,) = member_assignments(member, today=TODAY)
    assert (row.status, row.percent, row.completion.lesson_count) == (Status.NOT_STARTED, 0, 1)
    complete(member, first, TODAY)
    (row,) = member_assignments(member, today=TODAY)
    assert (row.status, row.percent) == (Status.DONE, 100)


def test_optional_study_is_never_overdue(tree, people, course):
    assign(course, [tree.branch_a1], TODAY, DUE, is_required=False)
    (row,) = member_assignments(people["a1"], today=DUE + days(1))
    assert row.is_past_due and not row.is_overdue


def test_progress_percent_counts_live_lessons_only(tree, people):
    course = add_course("理论学习", ["一", "二", "三"], slug="theory")
    lessons = lessons_of(course)
    assign(course, [tree.branch_a1], TODAY, DUE)
    member = people["a1"]
    complete(member, lessons[0], TODAY)
    (row,) = member_assignments(member, today=TODAY)
    assert row.percent == 33
    lessons[2].unpublish()
    (row,) = member_assignments(member, today=TODAY)
    assert (row.percent, row.completion.lesson_count) == (50, 2)


@pytest.mark.parametrize(
    ("completed", "due", "expected"),
    [
        ({}, DUE, Status.NOT_STARTED),
        ({1: None}, DUE, Status.IN_PROGRESS),
        ({1: at(TODAY), 2: None}, DUE, Status.IN_PROGRESS),
        ({1: at(TODAY), 2: at(DUE, 23)}, DUE, Status.DONE),
        ({1: at(TODAY), 2: at(DUE + days(1), 0)}, DUE, Status.LATE),
    ],
)
def test_completion_status_table(completed, due, expected):
    completion = completion_from(lesson_ids=[1, 2], completed=completed)
    assert completion_status(completion, due) == expected


def test_a_course_without_lessons_is_never_complete():
    completion = completion_from(lesson_ids=[], completed={})
    assert completion == Completion(0, 0, False, None)
    assert completion_status(completion, DUE) == Status.NOT_STARTED


# --- Report --------------------------------------------------------------------------------


@pytest.fixture
def progress_made(tree, people, course):
    """A committee-wide assignment, due yesterday, with every kind of progress."""
    first, second = lessons_of(course)
    today = timezone.localdate()
    assignment = assign(course, [tree.committee], today - days(10), today - days(1))
    complete(people["a1"], first, today - days(5))
    complete(people["a1"], second, today - days(4))
    complete(people["group"], first, today - days(5))
    complete(people["group"], second, today)
    open_lesson(people["a2"], first, today - days(3))
    complete(people["b1"], first, today - days(5))
    complete(people["b1"], second, today - days(5))
    return assignment


def test_report_counts_each_branch_for_an_administrator(progress_made, tree, administrator):
    report = assignment_report(assignment=progress_made, user=administrator)
    by_branch = {row.branch.code: row for row in report.branches}
    # 陈组's party group rolls up to 第一党支部; the secretary fixture is not created here.
    a1 = by_branch["ZB1"]
    assert (a1.assigned, a1.done, a1.late, a1.in_progress, a1.not_started) == (2, 1, 1, 0, 0)
    assert a1.rate == 100
    a2 = by_branch["ZB2"]
    assert (a2.assigned, a2.in_progress, a2.rate) == (1, 1, 0)
    assert by_branch["ZB3"].done == 1
    # The administrator themself belongs to the committee, so they are targeted too.
    assert report.total.assigned == 5


def test_secretary_report_shows_only_their_subtree(progress_made, tree, secretary_a, secretary_b):
    names_a = {
        row.member.display_name
        for row in assignment_report(assignment=progress_made, user=secretary_a).members
    }
    names_b = {
        row.member.display_name
        for row in assignment_report(assignment=progress_made, user=secretary_b).members
    }
    assert names_a == {"陈组", "李一", "王二", "王书记"}
    assert names_b == {"周外", "赵书记"}


def test_secretary_report_page_and_export_never_show_another_general_branch(
    client, progress_made, secretary_a, secretary_b
):
    client.force_login(secretary_b)
    page = client.get(reverse("assignments:report"), {"assignment": progress_made.pk})
    assert page.status_code == 200
    content = page.content.decode()
    assert "周外" in content
    for outsider in ("陈组", "李一", "王二", "王书记", "第一党支部"):
        assert outsider not in content
    export = client.get(reverse("assignments:report_export"), {"assignment": progress_made.pk})
    assert export.status_code == 200
    workbook = load_workbook(io.BytesIO(export.content))
    members_sheet = workbook.worksheets[1]
    names = {row[0] for row in members_sheet.iter_rows(min_row=2, values_only=True)}
    assert names == {"周外", "赵书记"}
    branches_sheet = workbook.worksheets[0]
    branch_names = [row[0] for row in branches_sheet.iter_rows(min_row=2, values_only=True)]
    assert "第一党支部" not in branch_names and "第三党支部" in branch_names


def test_secretary_cannot_report_on_an_assignment_outside_their_subtree(
    client, tree, course, secretary_a
):
    theirs = assign(course, [tree.branch_b1], TODAY, DUE, title="外支学习")
    client.force_login(secretary_a)
    page = client.get(reverse("assignments:report"), {"assignment": theirs.pk})
    assert page.status_code == 200
    assert "report" not in page.context or page.context["report"] is None
    assert "外支学习" not in page.content.decode()
    export = client.get(reverse("assignments:report_export"), {"assignment": theirs.pk})
    assert export.status_code == 404


def test_editor_without_members_in_scope_gets_no_report(client, progress_made, editor):
    client.force_login(editor)
    response = client.get(reverse("assignments:report"), {"assignment": progress_made.pk})
    assert response.status_code in (302, 403)


def test_export_matches_the_page(client, progress_made, administrator):
    client.force_login(administrator)
    export = client.get(reverse("assignments:report_export"), {"assignment": progress_made.pk})
    assert export["Content-Type"].startswith("application/vnd.openxmlformats")
    workbook = load_workbook(io.BytesIO(export.content))
    branches = list(workbook.worksheets[0].iter_rows(min_row=2, values_only=True))
    first_branch = next(row for row in branches if row[0] == "第一党支部")
    assert first_branch[1:] == (2, 1, 1, 0, 0, 100)
    members = {row[0]: row for row in workbook.worksheets[1].iter_rows(min_row=2, values_only=True)}
    assert members["陈组"][4:7] == (2, 2, 100)
    assert members["王二"][4:7] == (0, 2, 0)


def test_report_query_count_does_not_grow_with_members(
    client, tree, course, administrator, django_assert_max_num_queries
):
    first, second = lessons_of(course)
    today = timezone.localdate()
    assignment = assign(course, [tree.committee], today - days(3), today + days(3))
    client.force_login(administrator)

    def add_members(count, branch):
        for _ in range(count):
            member = MemberFactory(organization=branch)
            complete(member, first, today)
            open_lesson(member, second, today)

    add_members(3, tree.branch_a1)
    with django_assert_max_num_queries(40) as few:
        assert (
            client.get(reverse("assignments:report"), {"assignment": assignment.pk}).status_code
            == 200
        )
    add_members(30, tree.group_a1)
    add_members(10, tree.branch_b1)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(reverse("assignments:report"), {"assignment": assignment.pk})
    assert response.context["report"].total.assigned == 44
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(reverse("assignments:report_export"), {"assignment": assignment.pk})


def test_assignment_list_query_count_does_not_grow_with_assignments(
    client, tree, course, secretary_a, django_assert_max_num_queries
):
    assign(course, [tree.branch_a1, tree.branch_a2], TODAY, DUE)
    client.force_login(secretary_a)
    with django_assert_max_num_queries(40) as few:
        assert client.get(reverse("assignments:index")).status_code == 200
    for number in range(12):
        assign(course, [tree.group_a1, tree.committee][: number % 2 + 1], TODAY, DUE)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(reverse("assignments:index"))
    assert response.context["paginator"].count == 13


@pytest.mark.parametrize(
    ("roots", "touching"),
    [
        # A secretary of 第一党总支 is reached from inside their subtree and from above it
        # (a committee-wide assignment or exam), never from a sibling subtree.
        (
            ["general_a"],
            {"committee", "general_a", "branch_a1", "branch_a2", "group_a1"},
        ),
        (["branch_b1"], {"committee", "general_b", "branch_b1"}),
        (
            ["group_a1", "branch_b1"],
            {"committee", "general_a", "general_b", "branch_a1", "group_a1", "branch_b1"},
        ),
        ([], set()),
    ],
)
def test_organisations_touching_a_subtree_are_inside_or_above_it(tree, roots, touching) -> None:
    # Assignments and the quiz results decide who reaches a secretary with this one rule.
    names = {getattr(tree, name).pk: name for name in vars(tree)}
    paths = [getattr(tree, name).path for name in roots]
    found = Organization.objects.filter(touching_subtrees_q(paths)).values_list("pk", flat=True)
    assert {names[pk] for pk in found} == touching
