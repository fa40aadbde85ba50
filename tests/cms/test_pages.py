"""Courses, lessons and policy documents: page tree, rendering, listings."""

from __future__ import annotations

import datetime
import io

import pytest
from django.core.exceptions import ValidationError
from django.core.files.images import ImageFile
from PIL import Image as PillowImage
from wagtail.images.models import Image

from cms.models import CourseCategory, LessonPage, PolicyCategory, PolicyDocumentPage
from tests.factories.pages import add_course, add_lesson, add_policy


def make_image(title: str = "党旗", size: tuple[int, int] = (1600, 900)) -> Image:
    buffer = io.BytesIO()
    PillowImage.new("RGB", size, (200, 16, 46)).save(buffer, "PNG")
    return Image.objects.create(title=title, file=ImageFile(buffer, name=f"{title}.png"))


def test_lessons_live_only_under_courses(content):
    assert not LessonPage.can_create_at(content.home)
    assert not LessonPage.can_create_at(content.courses)
    course = add_course()
    assert LessonPage.can_create_at(course)
    assert not PolicyDocumentPage.can_create_at(content.courses)


def test_course_lists_its_lessons_in_order(client, content):
    course = add_course(category=CourseCategory.objects.create(name="党史"))
    for title in ("第一课 开天辟地", "第二课 星火燎原", "第三课 改革开放"):
        add_lesson(course, title)
    page = client.get(course.url).content.decode()
    assert page.index("开天辟地") < page.index("星火燎原") < page.index("改革开放")
    assert "3 节课时" in page or "3 lessons" in page


def test_lesson_renders_every_block(client, content, django_assert_max_num_queries):
    image = make_image()
    course = add_course()
    lesson = add_lesson(
        course,
        "第一课",
        body=[
            ("heading", {"text": "一、历史背景", "level": "h2"}),
            ("rich_text", "<p>正文<b>重点</b></p>"),
            ("image", {"image": image, "caption": "图一", "alt": ""}),
            ("quote", {"text": "为中国人民谋幸福", "source": "初心使命"}),
            ("key_points", {"title": "学习要点", "points": ["要点甲", "要点乙"]}),
            ("callout", {"kind": "important", "text": "<p>请注意</p>"}),
        ],
    )
    add_lesson(course, "第二课")
    with django_assert_max_num_queries(25):
        response = client.get(lesson.url)
    page = response.content.decode()
    assert response.status_code == 200
    for text in (
        "一、历史背景",
        "<b>重点</b>",
        "图一",
        "为中国人民谋幸福",
        "初心使命",
        "要点乙",
        "请注意",
    ):
        assert text in page
    assert "srcset=" in page and "360w" in page  # phone-sized renditions
    assert "第 1 / 2 课" in page or "Lesson 1 of 2" in page


def test_video_block_needs_exactly_one_source():
    from cms.blocks import VideoBlock

    block = VideoBlock()
    with pytest.raises(ValidationError):
        block.clean(block.to_python({"file": None, "embed": None, "caption": ""}))


def test_policy_listing_filters_by_year_body_category_and_status(client, content):
    rules = PolicyCategory.objects.create(name="党内法规")
    speeches = PolicyCategory.objects.create(name="重要讲话")
    for title, body, issued, category, status in [
        ("中国共产党纪律处分条例", "中共中央", "2024-01-01", rules, "effective"),
        ("关于加强基层党建的意见", "市委组织部", "2023-05-10", speeches, "effective"),
        ("旧版工作规则", "中共中央", "2019-03-01", rules, "repealed"),
    ]:
        add_policy(
            title,
            issuing_body=body,
            issue_date=datetime.date.fromisoformat(issued),
            category=category,
            status=status,
        )
    url = content.policies.url

    def titles(**params):
        page = client.get(url, params).content.decode()
        return {t for t in ("纪律处分条例", "基层党建", "旧版工作规则") if t in page}

    assert titles() == {"纪律处分条例", "基层党建", "旧版工作规则"}
    assert titles(year="2024") == {"纪律处分条例"}
    assert titles(body="中共中央") == {"纪律处分条例", "旧版工作规则"}
    assert titles(category=str(speeches.pk)) == {"基层党建"}
    assert titles(status="repealed") == {"旧版工作规则"}
    # Nonsense filters are ignored, never an error.
    assert titles(year="abc", category="x", status="gone") == {
        "纪律处分条例",
        "基层党建",
        "旧版工作规则",
    }


def test_policy_page_shows_its_metadata(client, content):
    document = add_policy(
        "中国共产党章程",
        "总纲",
        document_number="党章〔2022〕",
        issuing_body="中国共产党全国代表大会",
        issue_date=datetime.date(2022, 10, 22),
        status="amended",
    )
    page = client.get(document.url).content.decode()
    for text in ("党章〔2022〕", "中国共产党全国代表大会", "2022-10-22", "总纲"):
        assert text in page


def test_home_shows_my_points_today_and_new_content(
    client, content, tree, django_assert_max_num_queries
):
    from learning.points.ledger import points_award
    from tests.factories.people import MemberFactory

    member = MemberFactory(organization=tree.branch_a1)
    points_award(member=member, rule_code="exam_passed", key="exam")
    course = add_course()
    add_lesson(course, "新课时：党的二十大精神")
    client.force_login(member)
    with django_assert_max_num_queries(25):
        response = client.get("/")
    page = response.content.decode()
    assert 'data-testid="home-points"' in page and ">10<" in page
    assert "新课时：党的二十大精神" in page
