"""My points in English: rule names, descriptions and the history filter follow the language."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import translation

from learning.models import PointsRule
from learning.points.ledger import points_award
from tests.factories.people import MemberFactory


@pytest.fixture
def member(tree):
    return MemberFactory(organization=tree.branch_a1, display_name="张学习")


def _points_page(client, member, language: str) -> str:
    client.force_login(member)
    client.cookies["django_language"] = language
    response = client.get(reverse("learning:points"))
    assert response.status_code == 200
    return response.content.decode()


def test_rule_names_and_descriptions_are_english_in_english(client, member):
    points_award(member=member, rule_code="lesson_completed", key="l1")
    page = _points_page(client, member, "en")
    assert 'rule__name">Lessons completed<' in page
    assert "1 point for each lesson you complete, at most 6 a day." in page
    assert "完成课时" not in page
    assert "每学完一节课时" not in page
    # The history row and the filter's choices use the same English name.
    assert 'history__rule">Lessons completed' in page
    assert ">Study time</option>" in page


def test_rule_names_stay_chinese_in_chinese(client, member):
    points_award(member=member, rule_code="lesson_completed", key="l1")
    page = _points_page(client, member, "zh-hans")
    assert 'rule__name">完成课时<' in page
    assert "Lessons completed" not in page
    assert ">学习时长</option>" in page


def test_a_rule_without_english_text_falls_back_to_its_chinese_text(client, member):
    PointsRule.objects.filter(code="exam_passed").update(
        name="考试达标", name_en="", description="新的说明。", description_en=""
    )
    page = _points_page(client, member, "en")
    assert 'rule__name">考试达标<' in page
    assert "新的说明。" in page


@pytest.mark.django_db
def test_display_name_follows_the_active_language():
    rule = PointsRule.objects.get(code="study_time")
    with translation.override("en"):
        assert str(rule) == rule.display_name == "Study time"
        assert rule.display_description.startswith("1 point for every 5 minutes")
    with translation.override("zh-hans"):
        assert str(rule) == rule.display_name == "学习时长"
        assert rule.display_description == rule.description


@pytest.mark.django_db
def test_every_built_in_rule_has_english_text():
    for rule in PointsRule.objects.all():
        assert rule.name_en, rule.code
        assert rule.description_en, rule.code


def test_administrator_writes_the_english_name_in_the_admin(client, administrator, member):
    rule = PointsRule.objects.get(code="exam_passed")
    client.force_login(administrator)
    url = reverse("wagtailsnippets_learning_pointsrule:edit", args=[rule.pk])
    form = client.get(url).content.decode()
    assert 'name="name_en"' in form and 'name="description_en"' in form
    data = {
        "name": rule.name,
        "name_en": "Exam pass",
        "points": rule.points,
        "max_points_per_award": "",
        "daily_cap": "",
        "is_active": "on",
        "description": rule.description,
        "description_en": "Pass an exam.",
        "sort_order": rule.sort_order,
    }
    assert client.post(url, data).status_code == 302
    client.logout()
    page = _points_page(client, member, "en")
    assert 'rule__name">Exam pass<' in page and "Pass an exam." in page
