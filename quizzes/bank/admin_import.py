"""The admin import of questions: upload → preview with every problem → confirm → progress.

Views stay thin: ``quizzes.bank.import_jobs`` checks, claims and runs the import. An import
is visible only to the person who uploaded it (and superusers).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from django import forms
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext_lazy
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from learning.common.sheets import file_too_large_message
from learning.common.uploads import UploadLimit, limit_uploads
from quizzes.bank.admin_categories import CategoryChoiceField
from quizzes.bank.admin_views import question_policy
from quizzes.bank.import_jobs import (
    MAX_UPLOAD_BYTES,
    UploadRefusedError,
    question_import_prepare,
    question_import_progress,
    question_import_start,
)
from quizzes.models import QuestionCategory, QuestionImport

PREVIEW_LIMIT = 500


class QuestionUploadForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("Question file"),
        help_text=gettext_lazy(
            ".xlsx or .csv (one question per row), GIFT or Aiken (.gift, .aiken, .txt); "
            "at most 5 MB."
        ),
    )
    category = CategoryChoiceField(
        queryset=QuestionCategory.objects.order_by("path"),
        required=False,
        label=gettext_lazy("Import into category"),
        help_text=gettext_lazy(
            "Optional. The file's categories (分类) are created below it; questions "
            "without a category go into it."
        ),
    )
    skip_duplicates = forms.BooleanField(
        required=False,
        label=gettext_lazy("Skip questions already in the bank"),
        help_text=gettext_lazy(
            "Without this, a question with the same stem and options as one in the bank "
            "(or earlier in the file) is a problem and nothing is imported."
        ),
    )

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError(file_too_large_message(MAX_UPLOAD_BYTES))
        return upload


def _require_import_permission(request: HttpRequest) -> None:
    if not question_policy.user_has_permission(request.user, "add"):
        raise PermissionDenied


def _own_import(request: HttpRequest, import_id: Any) -> QuestionImport:
    _require_import_permission(request)
    imports = QuestionImport.objects.select_related("category")
    if not request.user.is_superuser:
        imports = imports.filter(created_by=request.user)
    return get_object_or_404(imports, pk=import_id)


@csrf_exempt
@require_http_methods(["GET", "POST"])
def question_import_view(request: HttpRequest) -> HttpResponse:
    """Upload a question file; it is checked and previewed, never written here.

    The upload is bounded before it is stored (``limit_uploads``), so the CSRF check,
    which reads the body, runs after the limit is in place, in ``_question_import``.
    """
    limit = limit_uploads(request, max_bytes=MAX_UPLOAD_BYTES)
    return _question_import(request, limit)


@csrf_protect
def _question_import(request: HttpRequest, limit: UploadLimit) -> HttpResponse:
    _require_import_permission(request)
    if request.method == "POST":
        form = QuestionUploadForm(request.POST, request.FILES)
    else:
        form = QuestionUploadForm()
    if request.method == "POST" and limit.exceeded:
        form.is_valid()
        form.errors["file"] = form.error_class([file_too_large_message(MAX_UPLOAD_BYTES)])
    elif request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            job = question_import_prepare(
                data=upload.read(),
                filename=upload.name,
                category=form.cleaned_data["category"],
                skip_duplicates=form.cleaned_data["skip_duplicates"],
                by=request.user,
            )
        except UploadRefusedError as refusal:
            form.add_error("file", str(refusal))
        else:
            return redirect("quizzes_question_import_preview", import_id=job.pk)
    return render(
        request,
        "quizzes/admin/question_import.html",
        {
            "form": form,
            "template_url": reverse("quizzes_question_import_template"),
            "list_url": reverse("wagtailsnippets_quizzes_question:list"),
        },
    )


def _preview_context(job: QuestionImport) -> dict[str, Any]:
    problems_by_row: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for problem in job.problems:
        problems_by_row[problem["row"]].append(problem)
    rows = [
        {**row, "problems": problems_by_row.get(row["row"], [])}
        for row in job.preview[:PREVIEW_LIMIT]
    ]
    return {
        "job": job,
        "rows": rows,
        "hidden_rows": max(len(job.preview) - PREVIEW_LIMIT, 0),
        "unit_is_row": job.format in ("xlsx", "csv"),
        "counts": job.result.get("counts", {}),
        "skipped": job.result.get("skipped", []),
        "categories_created": job.result.get("categories_created", []),
    }


@require_GET
def question_import_preview_view(request: HttpRequest, import_id: Any) -> HttpResponse:
    """The questions of the file and every problem, highlighted; confirm when there are none."""
    job = _own_import(request, import_id)
    if job.status not in (QuestionImport.Status.CHECKED, QuestionImport.Status.INVALID):
        return redirect("quizzes_question_import_progress", import_id=job.pk)
    context = _preview_context(job)
    context["upload_url"] = reverse("quizzes_question_import")
    return render(request, "quizzes/admin/question_import_preview.html", context)


@require_POST
def question_import_confirm_view(request: HttpRequest, import_id: Any) -> HttpResponse:
    """Write the previewed import, once: a second confirm only shows the progress page."""
    job = _own_import(request, import_id)
    if job.status == QuestionImport.Status.INVALID:
        return redirect("quizzes_question_import_preview", import_id=job.pk)
    question_import_start(question_import=job)
    return redirect("quizzes_question_import_progress", import_id=job.pk)


def _status_payload(job: QuestionImport) -> dict[str, Any]:
    return {
        "id": str(job.pk),
        "status": job.status,
        "status_label": job.get_status_display(),
        "progress": question_import_progress(job),
        "finished": job.is_finished,
        "created": job.result.get("created", 0) if job.status == job.Status.DONE else 0,
        "problems": [problem["text"] for problem in job.problems[:100]],
    }


@require_GET
def question_import_progress_view(request: HttpRequest, import_id: Any) -> HttpResponse:
    job = _own_import(request, import_id)
    if job.status in (QuestionImport.Status.CHECKED, QuestionImport.Status.INVALID):
        return redirect("quizzes_question_import_preview", import_id=job.pk)
    context = _preview_context(job)
    context.update(
        {
            "status": _status_payload(job),
            "status_url": reverse("quizzes_question_import_status", args=[job.pk]),
            "list_url": reverse("wagtailsnippets_quizzes_question:list"),
            "upload_url": reverse("quizzes_question_import"),
        }
    )
    return render(request, "quizzes/admin/question_import_progress.html", context)


@require_GET
def question_import_status_view(request: HttpRequest, import_id: Any) -> JsonResponse:
    """The progress page polls this: status, percentage, and the outcome when finished."""
    job = _own_import(request, import_id)
    response = JsonResponse(_status_payload(job))
    response["Cache-Control"] = "no-store"
    return response
