"""Quizzes in the Wagtail admin: the list, the form and its checks, daily settings, the menu."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone
from wagtail.admin.menu import admin_menu
from wagtail.test.utils.form_data import inline_formset, nested_form_data

from quizzes.bank.selectors import category_by_path
from quizzes.models import DailyQuizSettings, Question, Quiz
from quizzes.taking.attempts import attempt_start
from tests.factories.people import MemberFactory
from tests.factories.questions import question_create, short_answer, single_choice
from tests.factories.quizzes import drawn_quiz, fixed_quiz

pytestmark = pytest.mark.django_db

INDEX_URL = "quiz_admin:index"
ADD_URL = "quiz_admin:add"
EDIT_URL = "quiz_admin:edit"
DELETE_URL = "quiz_admin:delete"


@pytest.fixture
def member(tree):
    return MemberFactory(username="plain_member", organization=tree.branch_a1)


@pytest.fixture
def history_bank(db) -> list[Question]:
    """Three active single-choice questions under 党史 (one of them retired later in a test)."""
    return [
        question_create(single_choice(stem=f"党史第{number}题：中共一大在哪一年召开？"))
        for number in range(3)
    ]


def _when(moment: datetime.datetime) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M")


def _quiz_data(
    *,
    fixed: list[dict[str, Any]] | None = None,
    rules: list[dict[str, Any]] | None = None,
    **changes: Any,
) -> dict[str, Any]:
    data: dict[str, Any] = {
        "title": "二十大精神专题答题",
        "description": "",
        "kind": Quiz.Kind.TOPIC,
        "local_date": "",
        "organizations": [],
        "opens_at": "",
        "closes_at": "",
        "time_limit_minutes": "20",
        "attempts_allowed": "2",
        "grading_method": Quiz.GradingMethod.HIGHEST,
        "pass_percent": "60",
        "multiple_rule": Quiz.MultipleRule.ALL_OR_NOTHING,
        "shuffle_options": "on",
        "min_seconds_per_question": "2",
        "review": Quiz.Review.AFTER_SUBMIT,
        "fixed_questions": inline_formset(fixed or []),
        "draw_rules": inline_formset(rules or []),
    }
    data.update(changes)
    # nested_form_data would number a list's items; a multiple choice posts the key repeatedly.
    organizations = data.pop("organizations")
    flat = nested_form_data({key: value for key, value in data.items() if value is not None})
    flat["organizations"] = organizations
    return flat


def _rule(count: int, *, category: int | str = "", question_type: str = "") -> dict[str, Any]:
    return {
        "category": str(category),
        "tag": "",
        "question_type": question_type,
        "min_difficulty": "1",
        "max_difficulty": "5",
        "count": str(count),
        "mark": "2",
    }


def test_an_editor_creates_a_quiz_with_a_drawing_rule_and_a_fixed_question(
    client, editor, tree, history_bank
) -> None:
    theory = question_create(single_choice(stem="党的根本宗旨是什么？", category_path=("理论",)))
    history = category_by_path(["党史"])
    client.force_login(editor)
    form_page = client.get(reverse(ADD_URL))
    assert form_page.status_code == 200
    assert set(form_page.context["form"].formsets) == {"fixed_questions", "draw_rules"}
    opens = timezone.now() + datetime.timedelta(days=1)
    data = _quiz_data(
        fixed=[{"question": str(theory.pk), "mark": "5"}],
        rules=[_rule(2, category=history.pk)],
        organizations=[str(tree.general_a.pk)],
        opens_at=_when(opens),
        closes_at=_when(opens + datetime.timedelta(days=7)),
        is_published="on",
    )
    response = client.post(reverse(ADD_URL), data)
    assert response.status_code == 302, response.context["form"].errors
    quiz = Quiz.objects.get()
    assert quiz.title == "二十大精神专题答题"
    assert quiz.is_published
    assert list(quiz.organizations.all()) == [tree.general_a]
    assert [(item.question_id, item.mark) for item in quiz.fixed_questions.all()] == [
        (theory.pk, 5)
    ]
    rule = quiz.draw_rules.get()
    assert (rule.category_id, rule.count, rule.mark) == (history.pk, 2, 2)


def test_a_rule_matching_too_few_questions_shows_how_many_match_and_writes_nothing(
    client, editor, history_bank
) -> None:
    history = category_by_path(["党史"])
    client.force_login(editor)
    response = client.post(reverse(ADD_URL), _quiz_data(rules=[_rule(5, category=history.pk)]))
    assert response.status_code == 200
    rule_form = response.context["form"].formsets["draw_rules"].forms[0]
    assert "count" in rule_form.errors
    assert "3" in rule_form.errors["count"][0]
    assert "5" in rule_form.errors["count"][0]
    assert not Quiz.objects.exists()


def test_a_quiz_showing_answers_after_each_question_asks_no_short_answers(client, editor) -> None:
    for number in range(2):
        question_create(short_answer(stem=f"简述第{number}条群众路线的要求。"))
    client.force_login(editor)
    rules = [_rule(2, question_type=Question.Type.SHORT_ANSWER)]
    refused = client.post(reverse(ADD_URL), _quiz_data(rules=rules, review=Quiz.Review.AFTER_EACH))
    assert refused.status_code == 200
    assert "count" in refused.context["form"].formsets["draw_rules"].forms[0].errors
    assert not Quiz.objects.exists()
    accepted = client.post(reverse(ADD_URL), _quiz_data(rules=rules))
    assert accepted.status_code == 302
    assert Quiz.objects.count() == 1
    essay = Question.objects.filter(type=Question.Type.SHORT_ANSWER).first()
    fixed = [{"question": str(essay.pk), "mark": "1"}]
    refused = client.post(
        reverse(ADD_URL), _quiz_data(fixed=fixed, review=Quiz.Review.AFTER_EACH, title="每题即判")
    )
    assert "question" in refused.context["form"].formsets["fixed_questions"].forms[0].errors
    assert not Quiz.objects.filter(title="每题即判").exists()


def test_an_inverted_difficulty_range_is_an_error_on_the_rule(client, editor, history_bank) -> None:
    client.force_login(editor)
    rule = {**_rule(1), "min_difficulty": "4", "max_difficulty": "2"}
    response = client.post(reverse(ADD_URL), _quiz_data(rules=[rule]))
    assert response.status_code == 200
    rule_form = response.context["form"].formsets["draw_rules"].forms[0]
    assert list(rule_form.errors) == ["max_difficulty"]
    assert not Quiz.objects.exists()


def test_a_quiz_that_closes_before_it_opens_is_a_field_error(client, editor, history_bank) -> None:
    client.force_login(editor)
    opens = timezone.now() + datetime.timedelta(days=2)
    data = _quiz_data(
        fixed=[{"question": str(history_bank[0].pk), "mark": "1"}],
        opens_at=_when(opens),
        closes_at=_when(opens - datetime.timedelta(hours=1)),
    )
    response = client.post(reverse(ADD_URL), data)
    assert response.status_code == 200
    assert "closes_at" in response.context["form"].errors
    assert not Quiz.objects.exists()


def test_publishing_needs_a_fixed_question_or_a_drawing_rule(client, editor) -> None:
    client.force_login(editor)
    response = client.post(reverse(ADD_URL), _quiz_data(is_published="on"))
    assert response.status_code == 200
    assert "is_published" in response.context["form"].errors
    assert not Quiz.objects.exists()
    draft = client.post(reverse(ADD_URL), _quiz_data())
    assert draft.status_code == 302
    assert Quiz.objects.get().is_published is False


def test_a_retired_fixed_question_is_refused(client, editor, history_bank) -> None:
    retired = history_bank[0]
    Question.objects.filter(pk=retired.pk).update(status=Question.Status.RETIRED)
    client.force_login(editor)
    data = _quiz_data(fixed=[{"question": str(retired.pk), "mark": "1"}])
    response = client.post(reverse(ADD_URL), data)
    assert response.status_code == 200
    assert "question" in response.context["form"].formsets["fixed_questions"].forms[0].errors
    assert not Quiz.objects.exists()


def test_an_edit_that_breaks_a_rule_changes_nothing(client, editor, history_bank) -> None:
    quiz = drawn_quiz(3, title="党史随机")
    rule = quiz.draw_rules.get()
    client.force_login(editor)
    assert client.get(reverse(EDIT_URL, args=[quiz.pk])).status_code == 200
    data = _quiz_data(title="改了标题", rules=[{**_rule(4), "id": str(rule.pk)}])
    data.update({"draw_rules-INITIAL_FORMS": "1"})
    response = client.post(reverse(EDIT_URL, args=[quiz.pk]), data)
    assert response.status_code == 200
    quiz.refresh_from_db()
    rule.refresh_from_db()
    assert (quiz.title, rule.count) == ("党史随机", 3)


def test_the_list_shows_kind_window_and_attempts_within_a_query_bound(
    client, editor, tree, history_bank, django_assert_max_num_queries
) -> None:
    for number in range(12):
        fixed_quiz(history_bank[:1], title=f"测验{number}", kind=Quiz.Kind.WEEKLY)
    busy = fixed_quiz(history_bank[:2], title="热门测验", attempts_allowed=0)
    for number in range(3):
        taker = MemberFactory(username=f"taker{number}", organization=tree.branch_a1)
        attempt_start(quiz=busy, member=taker)
    client.force_login(editor)
    with django_assert_max_num_queries(30):
        response = client.get(reverse(INDEX_URL))
    assert response.status_code == 200
    rows = {quiz.title: quiz for quiz in response.context["object_list"]}
    assert rows["热门测验"].attempt_count == 3
    assert rows["测验0"].attempt_count == 0
    with django_assert_max_num_queries(30):
        weekly = client.get(reverse(INDEX_URL), {"kind": Quiz.Kind.WEEKLY})
    assert {quiz.title for quiz in weekly.context["object_list"]} == {
        f"测验{number}" for number in range(12)
    }
    published = client.get(reverse(INDEX_URL), {"is_published": "false"})
    assert list(published.context["object_list"]) == []


def test_a_quiz_with_attempts_cannot_be_deleted_but_an_unused_one_can(
    client, editor, tree, history_bank
) -> None:
    used = fixed_quiz(history_bank[:1], title="已有作答")
    attempt_start(quiz=used, member=MemberFactory(organization=tree.branch_a1))
    unused = fixed_quiz(history_bank[:1], title="无人作答")
    client.force_login(editor)
    client.post(reverse(DELETE_URL, args=[used.pk]))
    assert Quiz.objects.filter(pk=used.pk).exists()
    assert client.post(reverse(DELETE_URL, args=[unused.pk])).status_code == 302
    assert not Quiz.objects.filter(pk=unused.pk).exists()


@pytest.mark.parametrize("role", ["member", "secretary_a"])
def test_members_and_secretaries_cannot_build_quizzes(client, request, role, history_bank) -> None:
    user = request.getfixturevalue(role)
    quiz = fixed_quiz(history_bank[:1])
    client.force_login(user)
    for url in (
        reverse(INDEX_URL),
        reverse(ADD_URL),
        reverse(EDIT_URL, args=[quiz.pk]),
        reverse("quizzes_daily_settings"),
    ):
        response = client.get(url)
        assert response.status_code in (302, 403), url
    response = client.post(reverse(ADD_URL), _quiz_data(title="越权创建"))
    assert response.status_code in (302, 403)
    assert not Quiz.objects.filter(title="越权创建").exists()


def test_an_editor_changes_the_daily_quiz_settings(client, editor, history_bank) -> None:
    history = category_by_path(["党史"])
    client.force_login(editor)
    url = reverse("quizzes_daily_settings")
    assert client.get(url).status_code == 200
    data = {"question_count": "8", "category": str(history.pk), "avoid_days": "14"}
    assert client.post(url, {**data, "question_count": "0"}).status_code == 200
    assert DailyQuizSettings.current().question_count == 5
    response = client.post(url, {**data, "time_limit_minutes": "10"})
    assert response.status_code == 302
    settings = DailyQuizSettings.current()
    assert (settings.question_count, settings.category_id, settings.avoid_days) == (
        8,
        history.pk,
        14,
    )
    assert settings.time_limit_minutes == 10
    assert DailyQuizSettings.objects.count() == 1


def _quiz_submenu(user) -> list[str]:
    # Viewsets register their menu items when the admin's URLconf loads: load it first.
    request = RequestFactory().get(reverse("wagtailadmin_home"))
    request.user = user
    group = next(
        (item for item in admin_menu.menu_items_for_request(request) if item.name == "quizzes"),
        None,
    )
    if group is None:
        return []
    return [item.name for item in group.menu.menu_items_for_request(request)]


def test_one_quizzes_menu_holds_the_bank_and_the_quizzes(editor, secretary_a, member) -> None:
    editor_items = _quiz_submenu(editor)
    assert set(editor_items) == {
        "quiz-list",
        "questions",
        "question-categories",
        "daily-quiz-settings",
        "quiz-grading",
        "quiz-results",
    }
    assert set(_quiz_submenu(secretary_a)) == {"quiz-grading", "quiz-results"}
    assert _quiz_submenu(member) == []


def test_an_exam_cannot_show_answers_after_each_question(client, editor, history_bank) -> None:
    client.force_login(editor)
    data = _quiz_data(
        kind=Quiz.Kind.EXAM,
        review=Quiz.Review.AFTER_EACH,
        fixed=[{"question": str(history_bank[0].pk), "mark": "5"}],
    )
    response = client.post(reverse(ADD_URL), data)
    assert response.status_code == 200
    assert "review" in response.context["form"].errors
    assert not Quiz.objects.exists()


def test_other_quizzes_cannot_count_on_questions_an_exam_locks(
    client, editor, history_bank
) -> None:
    exam = fixed_quiz(history_bank[:1], kind=Quiz.Kind.EXAM, title="党史考试")
    assert exam.is_published
    history = category_by_path(["党史"])
    client.force_login(editor)
    locked_fixed = _quiz_data(fixed=[{"question": str(history_bank[0].pk), "mark": "1"}])
    response = client.post(reverse(ADD_URL), locked_fixed)
    assert response.status_code == 200
    fixed_form = response.context["form"].formsets["fixed_questions"].forms[0]
    assert "考试锁定" in fixed_form.errors["question"][0]
    # Two of the three 党史 questions are free: a rule drawing three is refused, and says why.
    response = client.post(reverse(ADD_URL), _quiz_data(rules=[_rule(3, category=history.pk)]))
    rule_form = response.context["form"].formsets["draw_rules"].forms[0]
    assert "2" in rule_form.errors["count"][0]
    assert "考试锁定" in rule_form.errors["count"][0]
    # An exam may share them.
    response = client.post(
        reverse(ADD_URL),
        _quiz_data(kind=Quiz.Kind.EXAM, rules=[_rule(3, category=history.pk)]),
    )
    assert response.status_code == 302
    assert not Quiz.objects.exclude(kind=Quiz.Kind.EXAM).exists()


def test_each_fixed_question_gets_the_first_reason_it_would_be_left_out(
    client, editor, history_bank
) -> None:
    fixed_quiz(history_bank[:2], kind=Quiz.Kind.EXAM, title="党史考试")
    retired = history_bank[0]
    Question.objects.filter(pk=retired.pk).update(status=Question.Status.RETIRED)
    client.force_login(editor)
    data = _quiz_data(
        fixed=[{"question": str(question.pk), "mark": "1"} for question in history_bank]
    )
    response = client.post(reverse(ADD_URL), data)
    assert response.status_code == 200
    retired_form, locked_form, free_form = (
        response.context["form"].formsets["fixed_questions"].forms
    )
    # Retired and locked: retired is said (one reason a question); locked only: locked.
    assert len(retired_form.errors["question"]) == 1
    assert "停用" in retired_form.errors["question"][0]
    assert len(locked_form.errors["question"]) == 1
    assert "考试锁定" in locked_form.errors["question"][0]
    assert "question" not in free_form.errors
    assert not Quiz.objects.exclude(kind=Quiz.Kind.EXAM).exists()
