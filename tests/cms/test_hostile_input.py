"""Hostile requests to the lesson heartbeat and the image upload get a clear error, not a 500."""

from __future__ import annotations

import io
import json

import pytest
from django.test import Client
from django.urls import reverse
from PIL import Image as PillowImage
from wagtail.images.models import Image

from learning.models import LessonProgress
from tests.factories.pages import add_course, add_lesson
from tests.factories.people import MemberFactory


@pytest.fixture
def lesson(content):
    return add_lesson(add_course(), "第一课", min_study_minutes=1)


@pytest.fixture
def member_client(tree) -> Client:
    client = Client(raise_request_exception=False)
    client.force_login(MemberFactory(organization=tree.branch_a1))
    return client


def beat(client: Client, lesson, body: bytes | str):
    return client.post(
        reverse("lesson_heartbeat", args=[lesson.pk]), data=body, content_type="application/json"
    )


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ("[" * 100_000, "20"),
        ('{"video_percent": 1e400}', "超出范围"),
        ('{"video_percent": NaN}', "JSON"),
        ('{"visible": true, "note": "\\ud800"}', "代理"),
        ('{"visible": true, "note": "a\\u0000b"}', "U+0000"),
    ],
    ids=["nested", "overflow", "nan", "lone-surrogate", "nul"],
)
def test_a_hostile_heartbeat_is_refused_and_records_nothing(member_client, lesson, body, words):
    response = beat(member_client, lesson, body)
    assert response.status_code == 400
    assert words in response.json()["error"]
    assert not LessonProgress.objects.exists()


def test_a_heartbeat_over_the_upload_limit_is_refused_as_json(member_client, lesson, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = beat(member_client, lesson, json.dumps({"visible": True, "pad": "x" * 2000}))
    assert response.status_code == 413
    assert response.json()["error"]
    assert not LessonProgress.objects.exists()


def test_an_ordinary_heartbeat_still_counts(member_client, lesson):
    response = beat(member_client, lesson, json.dumps({"visible": True, "video_percent": 55.5}))
    assert response.status_code == 200
    assert response.json()["video_percent"] == 55


# --- Image upload ----------------------------------------------------------------------------


def _upload(client: Client, name: str, data: bytes, title: str):
    file = io.BytesIO(data)
    file.name = name
    return client.post(
        reverse("wagtailimages:add"), {"title": title, "file": file, "collection": 1}
    )


def _gif_bytes() -> bytes:
    buffer = io.BytesIO()
    PillowImage.new("RGB", (4, 4), "red").save(buffer, "GIF")
    return buffer.getvalue()


@pytest.mark.parametrize(
    "data",
    [
        b"GIF89a" + b"\x00" * 64,  # a GIF header and nothing Pillow can read
        b"GIF89a\x10\x00\x10\x00" + b"\xff" * 20,
        _gif_bytes()[:20],  # a real GIF cut short
    ],
    ids=["garbage", "bad-header", "truncated"],
)
def test_a_malformed_gif_is_a_form_error_not_a_500(client, editor, data):
    client.force_login(editor)
    client.raise_request_exception = False
    response = _upload(client, "poster.gif", data, "坏图片")
    assert response.status_code == 200
    assert not Image.objects.filter(title="坏图片").exists()
    errors = response.context["form"].errors["file"]
    assert errors and "图片" in errors[0]


def test_a_real_gif_still_uploads(client, editor):
    client.force_login(editor)
    response = _upload(client, "poster.gif", _gif_bytes(), "好图片")
    assert response.status_code == 302
    assert Image.objects.filter(title="好图片").exists()


def test_a_malformed_gif_in_a_multiple_upload_is_refused(client, editor):
    client.force_login(editor)
    client.raise_request_exception = False
    file = io.BytesIO(b"GIF89a" + b"\x00" * 64)
    file.name = "poster.gif"
    response = client.post(
        reverse("wagtailimages:add_multiple"), {"files[]": file, "collection": 1}
    )
    assert response.status_code == 200
    assert response.json()["success"] is False
    assert not Image.objects.exists()
