"""The admin import: upload → preview with problems → confirm once → progress."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from quizzes.bank import import_jobs
from quizzes.models import Question, QuestionCategory, QuestionImport
from tests.factories.people import MemberFactory
from tests.factories.questions import question_create
from tests.factories.sheets import make_xlsx, row

pytestmark = pytest.mark.django_db

GOOD_GIFT = """$CATEGORY: $course$/top/党史

::一大::中国共产党第一次全国代表大会于哪一年召开？{~1919 =1921 ~1927}

中国共产党的成立是中国历史上开天辟地的大事变。{T}

中共一大于{=1921}年在{=上海 =上海市}召开。
""".encode()

BAD_GIFT = GOOD_GIFT + "\n匹配题：{=甲 -> 乙 =丙 -> 丁}\n".encode()


def _upload(client, data: bytes, name: str, **fields):
    return client.post(
        reverse("quizzes_question_import"),
        {"file": SimpleUploadedFile(name, data), **fields},
    )


def test_an_upload_is_previewed_then_imported_on_confirm(
    client, editor, django_assert_max_num_queries
) -> None:
    client.force_login(editor)
    response = _upload(client, GOOD_GIFT, "bank.gift")
    assert response.status_code == 302
    job = QuestionImport.objects.get()
    assert job.status == QuestionImport.Status.CHECKED
    assert not Question.objects.exists()
    with django_assert_max_num_queries(15):
        preview = client.get(response["Location"])
    content = preview.content.decode()
    assert "中国共产党第一次全国代表大会于哪一年召开" in content
    assert "党史" in content
    response = client.post(reverse("quizzes_question_import_confirm", args=[job.pk]))
    assert response.status_code == 302
    assert Question.objects.count() == 3
    job.refresh_from_db()
    assert job.status == QuestionImport.Status.DONE
    assert job.result["created"] == 3
    progress = client.get(response["Location"]).content.decode()
    assert "quiz-progress" in progress
    status = client.get(reverse("quizzes_question_import_status", args=[job.pk])).json()
    assert status == {**status, "status": "done", "progress": 100, "finished": True, "created": 3}


def test_a_file_with_errors_imports_nothing_and_shows_every_problem(client, editor) -> None:
    client.force_login(editor)
    data = make_xlsx(
        [
            row("单选", "中共一大在哪一年召开？", ["1919", "1921"], "C"),
            row("判断", "党的基层组织是战斗堡垒。", answer="对"),
            row("多选", "", ["甲", "乙"], "AB"),
        ]
    )
    response = _upload(client, data, "bank.xlsx")
    job = QuestionImport.objects.get()
    assert job.status == QuestionImport.Status.INVALID
    content = client.get(response["Location"]).content.decode()
    assert "quiz-import-row--error" in content
    assert {problem["row"] for problem in job.problems} == {2, 4}
    assert "Import these questions" not in content and "导入这些题目" not in content
    response = client.post(reverse("quizzes_question_import_confirm", args=[job.pk]))
    assert not Question.objects.exists()
    job.refresh_from_db()
    assert job.status == QuestionImport.Status.INVALID


def test_gift_with_an_unsupported_question_is_reported_by_line(client, editor) -> None:
    client.force_login(editor)
    _upload(client, BAD_GIFT, "bank.txt")
    job = QuestionImport.objects.get()
    assert job.format == "gift"
    assert job.status == QuestionImport.Status.INVALID
    assert [problem["row"] for problem in job.problems] == [9]


def test_a_second_confirm_does_not_import_twice(client, editor) -> None:
    client.force_login(editor)
    _upload(client, GOOD_GIFT, "bank.gift")
    job = QuestionImport.objects.get()
    url = reverse("quizzes_question_import_confirm", args=[job.pk])
    client.post(url)
    client.post(url)
    assert Question.objects.count() == 3
    assert import_jobs.question_import_execute(import_id=job.pk) is None
    assert Question.objects.count() == 3


def test_a_large_file_runs_as_a_task_after_commit(
    client, editor, monkeypatch, django_capture_on_commit_callbacks
) -> None:
    monkeypatch.setattr(import_jobs, "INLINE_IMPORT_MAX", 1)
    client.force_login(editor)
    _upload(client, GOOD_GIFT, "bank.gift")
    job = QuestionImport.objects.get()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        client.post(reverse("quizzes_question_import_confirm", args=[job.pk]))
    job.refresh_from_db()
    assert job.status == QuestionImport.Status.QUEUED
    assert not Question.objects.exists()
    status = client.get(reverse("quizzes_question_import_status", args=[job.pk])).json()
    assert status["finished"] is False
    for callback in callbacks:
        callback()
    job.refresh_from_db()
    assert job.status == QuestionImport.Status.DONE
    assert Question.objects.count() == 3
    for callback in callbacks:  # the task delivered twice
        callback()
    assert Question.objects.count() == 3


def test_duplicates_are_skipped_when_asked_and_the_target_category_is_used(client, editor) -> None:
    target = QuestionCategory.add_root(name="专题")
    client.force_login(editor)
    _upload(client, GOOD_GIFT, "bank.gift", category=str(target.pk))
    first = QuestionImport.objects.get()
    client.post(reverse("quizzes_question_import_confirm", args=[first.pk]))
    assert Question.objects.filter(category__name="党史").count() == 3
    assert Question.objects.get(type="true_false").category.path_display() == "专题/党史"
    _upload(client, GOOD_GIFT, "again.gift", category=str(target.pk))
    duplicate = QuestionImport.objects.exclude(pk=first.pk).get()
    assert duplicate.status == QuestionImport.Status.INVALID
    _upload(client, GOOD_GIFT, "again.gift", category=str(target.pk), skip_duplicates="on")
    skipping = QuestionImport.objects.exclude(pk__in=[first.pk, duplicate.pk]).get()
    assert skipping.status == QuestionImport.Status.CHECKED
    assert len(skipping.result["skipped"]) == 3


def test_a_file_of_an_unknown_format_or_too_large_is_refused(client, editor, monkeypatch) -> None:
    client.force_login(editor)
    response = _upload(client, b"hello", "bank.docx")
    assert response.status_code == 200
    assert response.context["form"].errors["file"]
    monkeypatch.setattr(import_jobs, "MAX_UPLOAD_BYTES", 10)
    response = _upload(client, GOOD_GIFT, "bank.gift")
    assert response.status_code == 200
    assert not QuestionImport.objects.exists()


def test_someone_elses_import_is_not_found(client, editor, tree) -> None:
    client.force_login(editor)
    _upload(client, GOOD_GIFT, "bank.gift")
    job = QuestionImport.objects.get()
    other = MemberFactory(username="editor_two", organization=tree.committee, role_names=["编辑"])
    client.force_login(other)
    assert client.get(reverse("quizzes_question_import_preview", args=[job.pk])).status_code == 404
    client.post(reverse("quizzes_question_import_confirm", args=[job.pk]))
    assert not Question.objects.exists()


@pytest.mark.parametrize("role", ["secretary_a", "plain_member"])
def test_secretaries_and_members_cannot_import(client, request, tree, role: str) -> None:
    if role == "plain_member":
        person = MemberFactory(username="plain_member", organization=tree.branch_a1)
    else:
        person = request.getfixturevalue(role)
    question_create()
    client.force_login(person)
    response = client.get(reverse("quizzes_question_import"))
    assert response.status_code in (302, 403)
    response = _upload(client, GOOD_GIFT, "bank.gift")
    assert response.status_code in (302, 403)
    assert not QuestionImport.objects.exists()
