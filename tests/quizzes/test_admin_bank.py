"""The question bank in the Wagtail admin: list, search, filters, forms, bulk retire, previews."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse
from wagtail.test.utils.form_data import inline_formset, nested_form_data

from quizzes.bank.formats.base import ParsedQuestion
from quizzes.bank.selectors import category_by_path
from quizzes.models import Question, QuestionCategory
from tests.factories.people import MemberFactory
from tests.factories.questions import question_create, single_choice

pytestmark = pytest.mark.django_db

LIST_URL = "wagtailsnippets_quizzes_question:list"
EDIT_URL = "wagtailsnippets_quizzes_question:edit"
ADD_URL = "wagtailsnippets_quizzes_question:add"


@pytest.fixture
def member(tree):
    return MemberFactory(username="plain_member", organization=tree.branch_a1)


def _choice_rows(question: Question) -> list[dict[str, Any]]:
    return [
        {
            "id": str(choice.pk),
            "text": choice.text,
            "is_correct": "on" if choice.is_correct else "",
            "weight": str(choice.weight),
            "feedback": choice.feedback,
        }
        for choice in question.choices.all()
    ]


def _form_data(question: Question, **changes: Any) -> dict[str, str]:
    choices = changes.pop("choices", None)
    data = {
        "category": str(question.category_id),
        "type": question.type,
        "stem": question.stem,
        "difficulty": str(question.difficulty),
        "status": question.status,
        "title": question.title,
        "true_false_answer": "",
        "reference_answer": question.reference_answer,
        "explanation": question.explanation,
        "tags": "",
        "image": "",
        "choices": inline_formset(
            choices if choices is not None else _choice_rows(question),
            initial=question.choices.count(),
        ),
        "blanks": inline_formset([], initial=0),
    }
    data.update(changes)
    return nested_form_data(data)


def test_the_list_searches_stems_within_a_query_bound(
    client, editor, django_assert_max_num_queries
) -> None:
    for number in range(30):
        question_create(single_choice(stem=f"第{number}题：党的性质", tags=("党章",)))
    question_create(single_choice(stem="中共一大在哪里召开？", category_path=("党史", "建党")))
    client.force_login(editor)
    with django_assert_max_num_queries(30):
        response = client.get(reverse(LIST_URL))
    assert response.status_code == 200
    with django_assert_max_num_queries(30):
        response = client.get(reverse(LIST_URL), {"q": "一大"})
    content = response.content.decode()
    assert "中共一大在哪里召开" in content
    assert "党的性质" not in content
    assert "党史/建党" in content


def test_the_list_filters_by_category_subtree_type_tag_and_status(
    client, editor, django_assert_max_num_queries
) -> None:
    question_create(
        single_choice(stem="甲：建党题", category_path=("党史", "建党"), tags=("一大",))
    )
    question_create(single_choice(stem="乙：党章题", category_path=("党章党规",)))
    retired = question_create(single_choice(stem="丙：旧题", category_path=("党史",)))
    retired.status = Question.Status.RETIRED
    retired.save()
    history = category_by_path(["党史"])
    client.force_login(editor)
    with django_assert_max_num_queries(30):
        content = client.get(reverse(LIST_URL), {"category": history.pk}).content.decode()
    assert "甲：建党题" in content and "丙：旧题" in content and "乙：党章题" not in content
    content = client.get(reverse(LIST_URL), {"status": "retired"}).content.decode()
    assert "丙：旧题" in content and "甲：建党题" not in content
    tag = Question.objects.get(stem="甲：建党题").tags.get()
    content = client.get(reverse(LIST_URL), {"tag": tag.pk}).content.decode()
    assert "甲：建党题" in content and "乙：党章题" not in content
    content = client.get(reverse(LIST_URL), {"type": "true_false"}).content.decode()
    assert "甲：建党题" not in content


def test_an_edit_of_the_content_bumps_the_version(client, editor) -> None:
    question = question_create()
    fingerprint = question.fingerprint
    client.force_login(editor)
    rows = _choice_rows(question)
    rows[3]["text"] = "1950"
    response = client.post(
        reverse(EDIT_URL, args=[question.pk]), _form_data(question, choices=rows)
    )
    assert response.status_code == 302, response.context["form"].errors
    question.refresh_from_db()
    assert question.version == 2
    assert question.fingerprint != fingerprint
    assert list(question.choices.values_list("text", flat=True)) == ["1919", "1921", "1927", "1950"]


def test_changing_the_correct_option_recomputes_default_weights(client, editor) -> None:
    question = question_create()
    client.force_login(editor)
    rows = _choice_rows(question)
    rows[1]["is_correct"] = ""
    rows[2]["is_correct"] = "on"
    response = client.post(
        reverse(EDIT_URL, args=[question.pk]), _form_data(question, choices=rows)
    )
    assert response.status_code == 302
    weights = [choice.weight for choice in question.choices.all()]
    assert weights == [0, 0, 1, 0]
    question.refresh_from_db()
    assert question.version == 2


def test_an_edit_of_difficulty_only_keeps_the_version(client, editor) -> None:
    question = question_create()
    client.force_login(editor)
    response = client.post(
        reverse(EDIT_URL, args=[question.pk]), _form_data(question, difficulty="5")
    )
    assert response.status_code == 302
    question.refresh_from_db()
    assert (question.difficulty, question.version) == (5, 1)


def test_an_invalid_edit_is_refused_with_a_clear_error_and_changes_nothing(client, editor) -> None:
    question = question_create()
    client.force_login(editor)
    rows = _choice_rows(question)
    rows[1]["is_correct"] = ""
    rows[1]["weight"] = "0"
    response = client.post(
        reverse(EDIT_URL, args=[question.pk]), _form_data(question, choices=rows)
    )
    assert response.status_code == 200
    errors = response.context["form"].non_field_errors()
    assert any("单选题须有且只有一个正确选项" in error for error in errors), errors
    question.refresh_from_db()
    assert question.version == 1
    assert question.choices.filter(is_correct=True).get().text == "1921"


def test_a_fill_in_question_needs_as_many_blanks_as_the_stem_marks(client, editor) -> None:
    category = QuestionCategory.add_root(name="党史")
    client.force_login(editor)
    data = nested_form_data(
        {
            "category": str(category.pk),
            "type": "fill_blank",
            "stem": "中共一大于____年召开，闭幕会在____举行。",
            "difficulty": "3",
            "status": "active",
            "title": "",
            "true_false_answer": "",
            "reference_answer": "",
            "explanation": "",
            "tags": "",
            "image": "",
            "choices": inline_formset([]),
            "blanks": inline_formset([{"answers": "1921"}]),
        }
    )
    response = client.post(reverse(ADD_URL), data)
    assert response.status_code == 200
    assert "stem" in response.context["form"].errors
    assert not Question.objects.exists()
    data["blanks-TOTAL_FORMS"] = "2"
    data.update(
        {"blanks-1-answers": "嘉兴南湖 / 南湖", "blanks-1-ORDER": "1", "blanks-1-DELETE": ""}
    )
    response = client.post(reverse(ADD_URL), data)
    assert response.status_code == 302, response.context["form"].errors
    question = Question.objects.get()
    assert [blank.answers for blank in question.blanks.all()] == [["1921"], ["嘉兴南湖", "南湖"]]
    assert question.version == 1 and question.fingerprint
    assert question.created_by == editor


def test_a_true_false_question_is_created_from_the_form(client, editor) -> None:
    category = QuestionCategory.add_root(name="党章党规")
    client.force_login(editor)
    data = nested_form_data(
        {
            "category": str(category.pk),
            "type": "true_false",
            "stem": "党的基层组织是党在社会基层组织中的战斗堡垒。",
            "difficulty": "2",
            "status": "active",
            "title": "",
            "true_false_answer": "true",
            "reference_answer": "",
            "explanation": "",
            "tags": "党章",
            "image": "",
            "choices": inline_formset([]),
            "blanks": inline_formset([]),
        }
    )
    response = client.post(reverse(ADD_URL), data)
    assert response.status_code == 302, response.context["form"].errors
    assert Question.objects.get().true_false_answer is True


def test_bulk_retire_and_reactivate(client, editor) -> None:
    first = question_create(single_choice(stem="甲"))
    second = question_create(single_choice(stem="乙"))
    client.force_login(editor)
    url = (
        reverse("wagtail_bulk_action", args=["quizzes", "question", "retire"])
        + f"?id={first.pk}&id={second.pk}"
    )
    assert client.get(url).status_code == 200
    response = client.post(url)
    assert response.status_code == 302
    assert set(Question.objects.values_list("status", flat=True)) == {"retired"}
    url = (
        reverse("wagtail_bulk_action", args=["quizzes", "question", "reactivate"])
        + f"?id={first.pk}"
    )
    client.post(url)
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, second.status) == ("active", "retired")


def test_the_member_preview_hides_the_answer(client, editor) -> None:
    question = question_create(
        ParsedQuestion(
            type="single",
            stem="中共一大在哪一年召开？",
            choices=single_choice().choices,
            explanation="一大于1921年召开。",
            category_path=["党史"],
            source=2,
        )
    )
    client.force_login(editor)
    content = client.get(reverse("quizzes_question_preview", args=[question.pk])).content.decode()
    assert "中共一大在哪一年召开" in content
    assert "1921" in content  # the option text itself
    assert "一大于1921年召开" not in content
    assert "is_correct" not in content and "correct" not in content.lower().replace("incorrect", "")
    answer = client.get(reverse("quizzes_question_answer", args=[question.pk])).content.decode()
    assert "一大于1921年召开" in answer
    assert "quiz-answer__correct" in answer


def test_an_empty_category_can_be_deleted_but_not_a_used_one(client, editor) -> None:
    question = question_create()
    used = question.category
    empty = QuestionCategory.add_root(name="空分类")
    client.force_login(editor)
    delete = "question_categories:delete"
    client.post(reverse(delete, args=[used.pk]))
    assert QuestionCategory.objects.filter(pk=used.pk).exists()
    client.post(reverse(delete, args=[empty.pk]))
    assert not QuestionCategory.objects.filter(pk=empty.pk).exists()


def test_categories_are_created_under_a_parent_with_unique_names(client, editor) -> None:
    parent = QuestionCategory.add_root(name="党史")
    client.force_login(editor)
    add = reverse("question_categories:add")
    data = {"name": "建党", "description": "", "sort_order": "0", "parent": str(parent.pk)}
    assert client.post(add, data).status_code == 302
    response = client.post(add, data)
    assert response.status_code == 200
    assert "name" in response.context["form"].errors
    assert category_by_path(["党史", "建党"]) is not None
    listing = client.get(reverse("question_categories:index")).content.decode()
    assert "└ 建党" in listing


@pytest.mark.parametrize("role", ["editor", "approver"])
def test_editors_and_approvers_manage_the_bank(client, request, role: str) -> None:
    question = question_create()
    client.force_login(request.getfixturevalue(role))
    assert client.get(reverse(LIST_URL)).status_code == 200
    assert client.get(reverse(EDIT_URL, args=[question.pk])).status_code == 200
    assert client.get(reverse("question_categories:index")).status_code == 200
    assert client.get(reverse("quizzes_question_preview", args=[question.pk])).status_code == 200


@pytest.mark.parametrize("role", ["secretary_a", "member"])
def test_secretaries_and_members_cannot_touch_the_bank(client, request, role: str) -> None:
    question = question_create()
    client.force_login(request.getfixturevalue(role))
    for url in (
        reverse(LIST_URL),
        reverse(EDIT_URL, args=[question.pk]),
        reverse(ADD_URL),
        reverse("question_categories:index"),
        reverse("quizzes_question_preview", args=[question.pk]),
        reverse("quizzes_question_answer", args=[question.pk]),
    ):
        response = client.get(url)
        assert response.status_code in (302, 403), url
    rows = _choice_rows(question)
    rows[0]["text"] = "改"
    client.post(reverse(EDIT_URL, args=[question.pk]), _form_data(question, choices=rows))
    question.refresh_from_db()
    assert question.version == 1
