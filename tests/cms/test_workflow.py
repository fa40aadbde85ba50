"""Moderation: editors submit, approvers publish; scheduled pages go live; image limits."""

from __future__ import annotations

import datetime
import io

import pytest
from django.urls import reverse
from django.utils import timezone
from PIL import Image as PillowImage
from wagtail.images.models import Image
from wagtail.models import WorkflowState
from wagtail.test.utils.form_data import nested_form_data, rich_text, streamfield

from cms.tasks import publish_scheduled
from tests.factories.pages import add_course, add_draft_lesson


@pytest.fixture
def draft_lesson(content, editor):
    return add_draft_lesson(add_course(), "待审课时", by=editor)


def test_editor_cannot_publish_but_approver_can(draft_lesson, editor, approver):
    assert not draft_lesson.permissions_for_user(editor).can_publish()
    assert draft_lesson.permissions_for_user(approver).can_publish()


def test_editor_publish_through_the_admin_does_not_go_live(client, draft_lesson, editor):
    client.force_login(editor)
    url = reverse("wagtailadmin_pages:edit", args=[draft_lesson.pk])
    data = nested_form_data(
        {
            "title": "待审课时（改）",
            "slug": draft_lesson.slug,
            "estimated_minutes": 15,
            "min_study_minutes": 5,
            "body": streamfield([("rich_text", rich_text("<p>修改后的正文</p>"))]),
            "action-publish": "action-publish",
        }
    )
    response = client.post(url, data)
    assert response.status_code in (200, 302)
    draft_lesson.refresh_from_db()
    assert not draft_lesson.live
    # The edit was kept as a draft for the approver, not published.
    assert draft_lesson.get_latest_revision_as_object().title == "待审课时（改）"


def test_submitted_lesson_goes_live_when_the_approver_approves(draft_lesson, editor, approver):
    workflow = draft_lesson.get_workflow()
    assert workflow is not None and workflow.name == "内容审核"
    state = workflow.start(draft_lesson, editor)
    draft_lesson.refresh_from_db()
    assert not draft_lesson.live and state.status == WorkflowState.STATUS_IN_PROGRESS
    task_state = state.current_task_state
    assert task_state.task.specific.user_can_access_editor(draft_lesson, approver)
    assert not task_state.task.specific.get_actions(draft_lesson, editor)
    task_state.task.specific.on_action(task_state, approver, "approve")
    draft_lesson.refresh_from_db()
    assert draft_lesson.live


def test_scheduled_lesson_goes_live_through_the_periodic_task(draft_lesson, approver):
    draft_lesson.go_live_at = timezone.now() + datetime.timedelta(minutes=5)
    revision = draft_lesson.save_revision(user=approver)
    revision.publish(user=approver)
    draft_lesson.refresh_from_db()
    assert not draft_lesson.live and revision.approved_go_live_at is not None
    publish_scheduled.delay()
    draft_lesson.refresh_from_db()
    assert not draft_lesson.live  # not yet
    # Five minutes later (moved back in time rather than waiting).
    past = timezone.now() - datetime.timedelta(seconds=1)
    revision.content["go_live_at"] = past.isoformat()
    revision.approved_go_live_at = past
    revision.save(update_fields=["content", "approved_go_live_at"])
    publish_scheduled.delay()
    draft_lesson.refresh_from_db()
    assert draft_lesson.live


def test_decompression_bomb_image_is_refused_with_a_clear_message(client, editor):
    buffer = io.BytesIO()
    PillowImage.new("1", (8000, 6000)).save(buffer, "PNG")  # 48 Mpx, a few kB on disk
    buffer.seek(0)
    buffer.name = "bomb.png"
    client.force_login(editor)
    response = client.post(
        reverse("wagtailimages:add"), {"title": "炸弹", "file": buffer, "collection": 1}
    )
    assert response.status_code == 200
    assert not Image.objects.filter(title="炸弹").exists()
    page = response.content.decode()
    assert "像素" in page or "pixels" in page
