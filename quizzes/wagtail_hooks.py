"""Wagtail admin registration of the quiz engine (see docs/quizzes.md): quizzes and the
daily quiz settings, the grading queue, results and statistics, and the question bank
(categories, questions, bulk retire/reactivate, previews, the import — upload → preview →
confirm → progress —, the import template and the exports).

Everything sits in one "Quizzes" menu group: each viewset and menu item below is
registered under ``QUIZZES_MENU_HOOK``, which the group's submenu collects.
"""

from __future__ import annotations

from typing import Any

from django.urls import path, reverse
from django.utils.translation import gettext_lazy
from wagtail import hooks
from wagtail.admin.menu import MenuItem
from wagtail.admin.viewsets.base import ViewSetGroup
from wagtail.admin.viewsets.model import ModelViewSet
from wagtail.snippets.models import register_snippet

from quizzes.bank import admin_import, admin_views
from quizzes.bank.admin_bank import (
    QuestionViewSet,
    ReactivateBulkAction,
    RetireBulkAction,
    question_preview_urls,
)
from quizzes.bank.admin_categories import QuestionCategoryViewSet
from quizzes.results.admin_home import organisation_summary_panel_for
from quizzes.results.admin_results import GradingMenuItem, ResultsMenuItem, results_admin_urls
from quizzes.taking.admin_quizzes import DailySettingsMenuItem, QuizViewSet, quiz_admin_urls

QUIZZES_MENU_HOOK = "register_quizzes_menu_item"


class QuizzesMenuGroup(ViewSetGroup):
    """The "Quizzes" menu: shown when any of its items is (secretaries see results only)."""

    menu_label = gettext_lazy("Quizzes")
    menu_name = "quizzes"
    menu_icon = "list-ul"
    menu_order = 300
    submenu_hook = QUIZZES_MENU_HOOK


register_snippet(QuestionViewSet(menu_hook=QUIZZES_MENU_HOOK, menu_name="questions"))
hooks.register("register_bulk_action", RetireBulkAction)
hooks.register("register_bulk_action", ReactivateBulkAction)


@hooks.register("register_admin_viewset")
def register_quiz_viewsets() -> list[ModelViewSet | ViewSetGroup]:
    return [
        QuizzesMenuGroup(),
        QuizViewSet(
            "quiz_admin", url_prefix="quizzes", menu_hook=QUIZZES_MENU_HOOK, menu_name="quiz-list"
        ),
        QuestionCategoryViewSet(
            "question_categories", menu_hook=QUIZZES_MENU_HOOK, menu_name="question-categories"
        ),
    ]


@hooks.register(QUIZZES_MENU_HOOK)
def register_daily_settings_menu_item() -> MenuItem:
    return DailySettingsMenuItem(
        gettext_lazy("Daily quiz settings"),
        reverse("quizzes_daily_settings"),
        name="daily-quiz-settings",
        icon_name="cog",
        order=200,
    )


@hooks.register(QUIZZES_MENU_HOOK)
def register_grading_menu_item() -> MenuItem:
    return GradingMenuItem(
        gettext_lazy("Grading"),
        reverse("quizzes_grading"),
        name="quiz-grading",
        icon_name="edit",
        order=110,
    )


@hooks.register(QUIZZES_MENU_HOOK)
def register_results_menu_item() -> MenuItem:
    return ResultsMenuItem(
        gettext_lazy("Quiz results"),
        reverse("quizzes_results"),
        name="quiz-results",
        icon_name="table",
        order=120,
    )


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
        *quiz_admin_urls(),
        *results_admin_urls(),
    ]


@hooks.register("construct_homepage_panels")
def add_organisation_summary_panel(request: Any, panels: list[Any]) -> None:
    panel = organisation_summary_panel_for(request.user)
    if panel is not None:
        panels.append(panel)
