"""Invalid text typed into the admin's forms is a field error (issue 11, finding 5).

Browsers' form bodies cannot carry a lone surrogate and Django refuses NUL, but any other
C0 control character (an escape sequence, a bell, a vertical tab pasted from a word
processor) reached the database through the forms, and from there every export and
screen. The model fields people write now carry ``learning.common.text.validate_text``.
"""

from __future__ import annotations

import pytest
from django.urls import reverse

from learning.models import Member, Organization
from quizzes.models import AttemptQuestion, QuestionCategory
from tests.factories.people import MemberFactory
from tests.factories.quizzes import answer_to_grade, quiz_with_short_answer, take

pytestmark = pytest.mark.django_db

ESCAPE = "王芳\x1b[31m"


def test_a_secretary_cannot_store_a_control_character_in_a_members_name(client, secretary_a, tree):
    member = MemberFactory(username="inside", display_name="王芳", organization=tree.branch_a2)
    client.force_login(secretary_a)
    response = client.post(
        reverse("wagtailusers_users:edit", args=[member.pk]),
        {
            "username": "inside",
            "display_name": ESCAPE,
            "organization": tree.branch_a2.pk,
            "is_active": "on",
        },
    )
    assert response.status_code == 200
    assert "U+001B" in response.content.decode()
    member.refresh_from_db()
    assert member.display_name == "王芳"


def test_an_administrator_cannot_name_an_organisation_with_a_control_character(
    client, administrator, tree
):
    branch = tree.branch_a1
    client.force_login(administrator)

    def rename(name: str):
        return client.post(
            reverse("organizations:edit", args=[branch.pk]),
            {
                "name": name,
                "code": branch.code,
                "kind": branch.kind,
                "parent": tree.general_a.pk,
                "sort_order": "0",
                "is_active": "on",
            },
        )

    refused = rename("第一\x07支部")
    assert refused.status_code == 200
    assert "U+0007" in refused.content.decode()
    assert Organization.objects.get(pk=branch.pk).name == branch.name
    # The same form with a good name goes through, so the refusal was the character's.
    assert rename("第一党支部（机关）").status_code == 302
    assert Organization.objects.get(pk=branch.pk).name == "第一党支部（机关）"


def test_an_editor_cannot_name_a_category_with_a_control_character(client, editor):
    client.force_login(editor)
    response = client.post(
        reverse("question_categories:add"),
        {"name": "党\x07史", "description": "", "sort_order": "0"},
    )
    assert response.status_code == 200
    assert not QuestionCategory.objects.exists()


def test_a_grader_comment_with_a_control_character_is_refused(
    client,
    secretary_a,
    tree,
):
    member: Member = MemberFactory(username="li_grade", organization=tree.branch_a1)
    take(quiz_with_short_answer(pass_percent=60, attempts_allowed=0), member)
    item = answer_to_grade(member)
    client.force_login(secretary_a)
    response = client.post(
        reverse("quizzes_grade", args=[item.pk]),
        {f"item-{item.pk}-percent": "80", f"item-{item.pk}-comment": "好\x1b"},
    )
    assert response.status_code == 400
    item.refresh_from_db()
    assert item.state == AttemptQuestion.State.NEEDS_GRADING
