"""An approver is told what their approval did, from the dashboard and from the editor."""

from __future__ import annotations

import pytest
from django.urls import reverse
from wagtail.models import TaskState
from wagtail.test.utils.form_data import nested_form_data, rich_text, streamfield

from tests.factories.pages import add_course, add_draft_lesson, add_lesson


@pytest.fixture
def submitted_lesson(content, editor):
    return add_draft_lesson(add_course(), "待审课时", by=editor, submit=True)


def _messages(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def test_approving_from_the_dashboard_says_approved_and_published(
    client, submitted_lesson, approver
):
    client.force_login(approver)
    task_state = submitted_lesson.current_workflow_task_state
    url = reverse(
        "wagtailadmin_pages:workflow_action",
        args=[submitted_lesson.pk, "approve", task_state.pk],
    )
    response = client.post(url, {"comment": ""}, HTTP_X_REQUESTED_WITH="XMLHttpRequest")
    assert response.status_code == 200
    submitted_lesson.refresh_from_db()
    assert submitted_lesson.live
    dashboard = client.get(reverse("wagtailadmin_home"))
    assert any("“待审课时”已批准并发布。" in text for text in _messages(dashboard))


def test_requesting_changes_from_the_dashboard_says_it_was_sent_back(
    client, submitted_lesson, approver
):
    client.force_login(approver)
    task_state = submitted_lesson.current_workflow_task_state
    url = reverse(
        "wagtailadmin_pages:workflow_action",
        args=[submitted_lesson.pk, "reject", task_state.pk],
    )
    response = client.post(url, {"comment": "请补充出处"}, follow=True)
    assert response.status_code == 200
    assert TaskState.objects.get(pk=task_state.pk).status == TaskState.STATUS_REJECTED
    assert any("“待审课时”已退回编辑修改。" in text for text in _messages(response))


def test_approving_in_the_editor_says_published_not_updated(client, submitted_lesson, approver):
    client.force_login(approver)
    data = nested_form_data(
        {
            "title": submitted_lesson.title,
            "slug": submitted_lesson.slug,
            "estimated_minutes": 15,
            "min_study_minutes": 5,
            "body": streamfield([("rich_text", rich_text("<p>正文</p>"))]),
        }
    )
    data.update({"action-workflow-action": "1", "workflow-action-name": "approve"})
    response = client.post(
        reverse("wagtailadmin_pages:edit", args=[submitted_lesson.pk]), data, follow=True
    )
    assert response.status_code == 200
    submitted_lesson.refresh_from_db()
    assert submitted_lesson.live
    texts = _messages(response)
    assert any("“待审课时”已批准并发布。" in text for text in texts), texts
    assert not any("已被更新" in text for text in texts), texts


def test_an_editor_saving_a_draft_still_reads_updated(client, submitted_lesson, editor):
    """Nothing changes for a save that finishes no task."""
    client.force_login(editor)
    lesson = add_lesson(submitted_lesson.get_parent().specific, "另一课时")
    data = nested_form_data(
        {
            "title": "另一课时",
            "slug": lesson.slug,
            "estimated_minutes": 15,
            "min_study_minutes": 5,
            "body": streamfield([("rich_text", rich_text("<p>正文</p>"))]),
        }
    )
    response = client.post(reverse("wagtailadmin_pages:edit", args=[lesson.pk]), data, follow=True)
    assert any("已被更新" in text for text in _messages(response))
