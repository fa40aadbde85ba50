"""The course and policy index pages are headed in the member's language."""

from __future__ import annotations

import pytest

from tests.factories.pages import add_course

pytestmark = pytest.mark.django_db


def _get(client, url: str, language: str) -> str:
    client.cookies["django_language"] = language
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


@pytest.fixture
def intros(content):
    content.courses.intro = "<p>机关党委组织编写的系列课程。</p>"
    content.courses.intro_en = "<p>Courses written by the party committee.</p>"
    content.courses.save_revision().publish()
    content.policies.intro = "<p>机关党委印发的文件。</p>"
    content.policies.save_revision().publish()  # no English introduction
    return content


def test_index_pages_are_headed_in_english_in_english(client, intros):
    courses = _get(client, intros.courses.url, "en")
    assert '<h1 class="page-title">Courses</h1>' in courses
    assert "<title>Courses" in courses
    assert "Courses written by the party committee." in courses
    assert "机关党委组织编写" not in courses
    policies = _get(client, intros.policies.url, "en")
    assert '<h1 class="page-title">Policy documents</h1>' in policies
    # No English introduction written: the Chinese one rather than nothing.
    assert "机关党委印发的文件。" in policies


def test_index_pages_keep_the_editors_titles_in_chinese(client, intros):
    intros.courses.title = "学习课程"
    intros.courses.save_revision().publish()
    courses = _get(client, intros.courses.url, "zh-hans")
    assert '<h1 class="page-title">学习课程</h1>' in courses
    assert "机关党委组织编写的系列课程。" in courses


def test_a_course_links_back_to_its_section_in_the_language(client, content):
    course = add_course(slug="history")
    assert '">Courses</a></nav>' in _get(client, course.url, "en")
    assert '">课程</a></nav>' in _get(client, course.url, "zh-hans")
