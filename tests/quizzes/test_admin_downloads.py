"""Admin downloads of the bank (import template, exports), for question editors only."""

from __future__ import annotations

import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from quizzes.bank.formats.gift import parse_gift
from quizzes.bank.formats.table import COLUMNS
from quizzes.bank.selectors import category_by_path
from tests.factories.people import MemberFactory
from tests.factories.questions import question_create, single_choice

pytestmark = pytest.mark.django_db


@pytest.fixture
def superuser(tree):
    person = MemberFactory(username="root", organization=tree.committee)
    person.is_superuser = True
    person.save()
    return person


def test_the_template_downloads_with_the_import_columns(client, superuser) -> None:
    client.force_login(superuser)
    response = client.get(reverse("quizzes_question_import_template"))
    assert response.status_code == 200
    assert "question-import-template.xlsx" in response["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(response.content)).worksheets[0]
    assert [cell.value for cell in sheet[1]] == COLUMNS


def test_a_category_exports_as_gift(client, superuser, django_assert_max_num_queries) -> None:
    question_create(single_choice(stem="甲题", category_path=("党史", "建党")))
    question_create(single_choice(stem="乙题", category_path=("党章党规",)))
    category = category_by_path(["党史"])
    client.force_login(superuser)
    with django_assert_max_num_queries(15):
        response = client.get(
            reverse("quizzes_questions_export", args=["gift"]), {"category": category.pk}
        )
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    questions = parse_gift(response.content).questions
    assert [question.stem for question in questions] == ["甲题"]


def test_an_unknown_export_format_is_not_found(client, superuser) -> None:
    client.force_login(superuser)
    assert client.get(reverse("quizzes_questions_export", args=["docx"])).status_code == 404


@pytest.mark.parametrize("role", ["secretary_a"])
def test_people_without_question_permissions_are_refused(client, request, role: str) -> None:
    client.force_login(request.getfixturevalue(role))
    for url in (
        reverse("quizzes_question_import_template"),
        reverse("quizzes_questions_export", args=["xlsx"]),
    ):
        response = client.get(url)
        assert response.status_code in (302, 403), url
        assert not response.get("Content-Disposition")
