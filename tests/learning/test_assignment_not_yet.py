"""The assignment report's "not yet" list: who in scope has not completed the study.

Issue 12: every report of an assignment names the members who have not completed it yet,
counted per branch, on the page and in the .xlsx export; a secretary sees only their own
subtree's.
"""

from __future__ import annotations

import io
import zipfile

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from learning.study.assignment_report import assignment_report
from tests.factories.pages import add_course, lessons_of
from tests.factories.people import MemberFactory, secretary_of
from tests.factories.study import assign, complete, open_lesson
from tests.factories.times import days

pytestmark = pytest.mark.django_db


@pytest.fixture
def course(db):
    return add_course("党史学习", ["第一课", "第二课"], slug="history")


@pytest.fixture
def made(tree, course):
    """Due tomorrow: 李一 done, 陈组 halfway, 王二 not started, 周外 (另一总支) not started."""
    first, second = lessons_of(course)
    today = timezone.localdate()
    people = {
        "a1": MemberFactory(username="a1", display_name="李一", organization=tree.branch_a1),
        "group": MemberFactory(username="zu", display_name="陈组", organization=tree.group_a1),
        "a2": MemberFactory(username="a2", display_name="王二", organization=tree.branch_a2),
        "b1": MemberFactory(username="b1", display_name="周外", organization=tree.branch_b1),
    }
    complete(people["a1"], first, today)
    complete(people["a1"], second, today)
    complete(people["group"], first, today)
    open_lesson(people["group"], second, today)
    assignment = assign(course, [tree.general_a, tree.general_b], today - days(3), today + days(1))
    return assignment


@pytest.fixture
def secretary_b(tree):
    return secretary_of(tree.general_b, "secretary_b", "赵书记")


def test_the_report_names_who_has_not_completed_yet_per_branch(made, administrator) -> None:
    report = assignment_report(assignment=made, user=administrator)
    assert [row.member.display_name for row in report.not_yet] == ["陈组", "王二", "周外"]
    counts = {
        row.branch.name: (row.assigned, row.completed, row.not_yet) for row in report.branches
    }
    assert counts == {"第一党支部": (2, 1, 1), "第二党支部": (1, 0, 1), "第三党支部": (1, 0, 1)}
    assert report.total.not_yet == 3


def test_a_secretary_never_sees_another_subtrees_not_yet_on_the_page_or_in_the_export(
    client, made, secretary_a, secretary_b
) -> None:
    client.force_login(secretary_a)
    page = client.get(reverse("assignments:report"), {"assignment": made.pk})
    content = page.content.decode()
    assert 'data-testid="report-not-yet"' in content
    start = content.index('data-testid="report-not-yet"')
    not_yet = content[start : content.index('id="members-title"', start)]
    assert "陈组" in not_yet and "王二" in not_yet and "王书记" in not_yet
    assert "李一" not in not_yet
    assert "周外" not in content and "赵书记" not in content
    export = client.get(reverse("assignments:report_export"), {"assignment": made.pk})
    workbook = load_workbook(io.BytesIO(export.content))
    sheet = workbook.worksheets[2]
    names = [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert names == ["王书记", "陈组", "王二"]
    everything = {
        cell for ws in workbook.worksheets for row in ws.iter_rows(values_only=True) for cell in row
    }
    assert not everything & {"周外", "赵书记", "第三党支部"}


def test_the_not_yet_sheet_writes_names_as_text(client, tree, course, administrator) -> None:
    payload = "=cmd|' /C calc'!A0"
    MemberFactory(username="evil", display_name=payload, organization=tree.branch_b1)
    today = timezone.localdate()
    assignment = assign(course, [tree.branch_b1], today, today + days(3))
    client.force_login(administrator)
    export = client.get(reverse("assignments:report_export"), {"assignment": assignment.pk})
    workbook = load_workbook(io.BytesIO(export.content))
    rows = list(workbook.worksheets[2].iter_rows(min_row=2, values_only=True))
    assert [(row[0], row[1], row[2]) for row in rows] == [(payload, "evil", "第三党支部")]
    with zipfile.ZipFile(io.BytesIO(export.content)) as archive:
        for name in archive.namelist():
            if name.startswith("xl/worksheets/"):
                assert "<f>" not in archive.read(name).decode()


def test_the_not_yet_list_costs_the_same_queries_for_200_members(
    client, tree, course, administrator, django_assert_max_num_queries
) -> None:
    today = timezone.localdate()
    assignment = assign(course, [tree.committee], today, today + days(3))
    MemberFactory.create_batch(3, organization=tree.branch_a1)
    client.force_login(administrator)
    url = reverse("assignments:report")
    with django_assert_max_num_queries(40) as few:
        client.get(url, {"assignment": assignment.pk})
    MemberFactory.create_batch(100, organization=tree.group_a1)
    MemberFactory.create_batch(100, organization=tree.branch_b1)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(url, {"assignment": assignment.pk})
    assert len(response.context["report"].not_yet) == 204
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(reverse("assignments:report_export"), {"assignment": assignment.pk})
