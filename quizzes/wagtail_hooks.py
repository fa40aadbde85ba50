"""Wagtail admin registration for the question bank.

So far: the import template and the exports as downloads. The bank's viewsets and the
upload → preview → confirm import come next (see docs/quizzes.md).
"""

from __future__ import annotations

from typing import Any

from django.urls import path
from wagtail import hooks

from quizzes import admin_views


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
    ]
