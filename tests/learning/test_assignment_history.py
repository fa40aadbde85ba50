"""An assignment's history and usage pages in the admin open, within the secretary's scope."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse
from wagtail.log_actions import log

from learning.models import Assignment
from tests.factories.pages import add_course
from tests.factories.people import secretary_of
from tests.factories.study import assign

START = datetime.date(2026, 11, 26)
DUE = datetime.date(2026, 11, 30)


@pytest.fixture
def course(db):
    return add_course("党史学习", ["第一课"], slug="history")


def _created_in_the_admin(client, course, organization, by) -> Assignment:
    """An assignment made through the admin form, with an entry in its history."""
    response = client.post(
        reverse("assignments:add"),
        {
            "page": course.pk,
            "title": "党史学习任务",
            "organizations": [organization.pk],
            "start_date": START.isoformat(),
            "due_date": DUE.isoformat(),
            "note": "",
        },
    )
    assert response.status_code == 302
    assignment = Assignment.objects.get(title="党史学习任务")
    log(instance=assignment, action="wagtail.edit", user=by)
    return assignment


def test_the_history_of_an_assignment_opens_for_its_secretary_and_the_administrator(
    client, tree, course, secretary_a, administrator
):
    client.raise_request_exception = False
    client.force_login(secretary_a)
    assignment = _created_in_the_admin(client, course, tree.branch_a1, by=secretary_a)
    history = client.get(reverse("assignments:history", args=[assignment.pk]))
    assert history.status_code == 200
    assert "王书记" in history.content.decode()  # who changed it
    assert client.get(reverse("assignments:usage", args=[assignment.pk])).status_code == 200

    client.force_login(administrator)
    assert client.get(reverse("assignments:history", args=[assignment.pk])).status_code == 200


def test_the_history_of_an_assignment_outside_the_subtree_is_not_found(client, tree, course):
    theirs = assign(course, [tree.branch_b1], START, DUE, title="外支学习")
    outsider = secretary_of(tree.general_a, "secretary_x", "钱书记")
    client.force_login(outsider)
    assert client.get(reverse("assignments:history", args=[theirs.pk])).status_code == 404
    assert client.get(reverse("assignments:usage", args=[theirs.pk])).status_code == 404
