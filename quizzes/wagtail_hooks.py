"""Wagtail admin registration for the question bank: categories, questions, bulk
retire/reactivate, previews, the import (upload → preview → confirm → progress), the
import template and the exports (see docs/quizzes.md)."""

from __future__ import annotations

from typing import Any

from django.urls import path
from wagtail import hooks
from wagtail.admin.viewsets.model import ModelViewSet
from wagtail.snippets.models import register_snippet

from quizzes import admin_import, admin_views
from quizzes.admin_bank import (
    QuestionCategoryViewSet,
    QuestionViewSet,
    ReactivateBulkAction,
    RetireBulkAction,
    question_preview_urls,
)

register_snippet(QuestionViewSet)
hooks.register("register_bulk_action", RetireBulkAction)
hooks.register("register_bulk_action", ReactivateBulkAction)


@hooks.register("register_admin_viewset")
def register_category_viewset() -> ModelViewSet:
    return QuestionCategoryViewSet("question_categories", add_to_admin_menu=True)


@hooks.register("register_admin_urls")
def register_question_bank_urls() -> list[Any]:
    return [
        path(
            "questions/import/template.xlsx",
            admin_views.question_import_template_view,
            name="quizzes_question_import_template",
        ),
        path(
            "questions/export/<str:format_name>/",
            admin_views.questions_export_view,
            name="quizzes_questions_export",
        ),
        path(
            "questions/import/", admin_import.question_import_view, name="quizzes_question_import"
        ),
        path(
            "questions/import/<uuid:import_id>/",
            admin_import.question_import_preview_view,
            name="quizzes_question_import_preview",
        ),
        path(
            "questions/import/<uuid:import_id>/confirm/",
            admin_import.question_import_confirm_view,
            name="quizzes_question_import_confirm",
        ),
        path(
            "questions/import/<uuid:import_id>/progress/",
            admin_import.question_import_progress_view,
            name="quizzes_question_import_progress",
        ),
        path(
            "questions/import/<uuid:import_id>/status.json",
            admin_import.question_import_status_view,
            name="quizzes_question_import_status",
        ),
        *question_preview_urls(),
    ]
