"""Admin views of the question bank: the import template and exports (downloads)."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from wagtail.permission_policies import ModelPermissionPolicy

from quizzes.bank.formats.exporters import (
    CONTENT_TYPES,
    EXPORT_FORMATS,
    FILE_EXTENSIONS,
    questions_export,
)
from quizzes.bank.formats.xlsx import question_import_template
from quizzes.models import Question, QuestionCategory

XLSX_CONTENT_TYPE = CONTENT_TYPES["xlsx"]
question_policy = ModelPermissionPolicy(Question)


def _require(request: HttpRequest, action: str) -> None:
    if not question_policy.user_has_permission(request.user, action):
        raise PermissionDenied


def question_import_template_view(request: HttpRequest) -> HttpResponse:
    """The .xlsx question sheet with one example row per type and instructions."""
    _require(request, "add")
    response = HttpResponse(question_import_template(), content_type=XLSX_CONTENT_TYPE)
    response["Content-Disposition"] = 'attachment; filename="question-import-template.xlsx"'
    return response


def questions_export_view(request: HttpRequest, format_name: str) -> HttpResponse:
    """The bank, or ``?category=<id>`` and everything below it, as .xlsx or GIFT.

    An export holds the correct answers, so it needs the right to change questions.
    """
    _require(request, "change")
    if format_name not in EXPORT_FORMATS:
        raise Http404
    category = None
    if request.GET.get("category"):
        category = get_object_or_404(QuestionCategory, pk=request.GET["category"])
    data, _count = questions_export(
        format_name=format_name,
        category=category,
        include_retired=request.GET.get("retired") == "1",
    )
    response = HttpResponse(data, content_type=CONTENT_TYPES[format_name])
    filename = f"questions{FILE_EXTENSIONS[format_name]}"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
