"""The lesson heartbeat endpoint: only for logged-in members, only published lessons."""

from __future__ import annotations

import json

import pytest
from django.test import Client
from django.urls import reverse

from learning.models import LessonProgress
from tests.factories.pages import add_course, add_lesson
from tests.factories.people import MemberFactory


@pytest.fixture
def lesson(content):
    course = add_course()
    return add_lesson(course, "第一课", min_study_minutes=1)


@pytest.fixture
def member(tree):
    return MemberFactory(organization=tree.branch_a1)


def post(client, lesson, payload, **extra):
    return client.post(
        reverse("lesson_heartbeat", args=[lesson.pk]),
        data=json.dumps(payload) if not isinstance(payload, bytes) else payload,
        content_type="application/json",
        **extra,
    )


def test_heartbeat_records_progress_for_the_member(client, lesson, member):
    client.force_login(member)
    response = post(client, lesson, {"visible": True, "active": True, "reached_end": True})
    assert response.status_code == 200
    data = response.json()
    assert data["required_seconds"] == 60 and data["reached_end"] is True
    assert LessonProgress.objects.get(member=member, lesson_id=lesson.pk).reached_end


def test_heartbeat_needs_login_post_and_csrf(lesson, member):
    anonymous = Client()
    assert post(anonymous, lesson, {"visible": True}).status_code == 302
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(member)
    assert post(strict, lesson, {"visible": True}).status_code == 403
    assert strict.get(reverse("lesson_heartbeat", args=[lesson.pk])).status_code == 405
    assert not LessonProgress.objects.exists()


def test_bad_heartbeats_get_a_clear_error_and_change_nothing(client, lesson, member):
    client.force_login(member)
    for body in (b"not json", b"[1, 2]", json.dumps({"video_percent": "lots"}).encode()):
        response = post(client, lesson, body)
        assert response.status_code == 400 and "error" in response.json()
    assert not LessonProgress.objects.exists()


def test_unpublished_lessons_take_no_heartbeats(client, lesson, member):
    lesson.unpublish()
    client.force_login(member)
    assert post(client, lesson, {"visible": True}).status_code == 404


def test_lesson_page_carries_the_study_status_for_members(client, lesson, member):
    client.force_login(member)
    page = client.get(lesson.url).content.decode()
    assert "data-study-status" in page and "js/lesson.js" in page
    anonymous = Client().get(lesson.url).content.decode()
    assert "js/lesson.js" not in anonymous


def test_the_end_of_the_lesson_repeats_the_study_status(client, lesson, member):
    client.force_login(member)
    client.cookies["django_language"] = "en"
    page = client.get(lesson.url).content.decode()
    end = page.split('data-testid="study-status-end"', 1)[1].split("</div>", 1)[0]
    assert "Study for 1 min and read to the end to complete this lesson." in end
    # lesson.js fills it from each heartbeat with the minutes still needed.
    assert 'data-study-text="remaining"' in end
    assert "Keep reading for {remaining} more min to complete this lesson." in page
    assert 'data-testid="study-status-end"' not in Client().get(lesson.url).content.decode()
