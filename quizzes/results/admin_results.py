"""Wagtail admin pages for what members answered: the grading queue, results per quiz with
their ``.xlsx`` export and the "accept" action for implausibly fast attempts, and the
statistics page.

Every lookup goes through the scoped selectors of ``quizzes.results.scope``: a secretary who
opens another subtree's answer, attempt or grading row by its URL gets 404, as in the
rest of the admin. Writes go through the services in ``quizzes.taking.submitting``.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST
from wagtail.admin.menu import MenuItem

from learning.common.spreadsheets import XLSX_CONTENT_TYPE
from learning.common.text import validate_text
from quizzes.models import Attempt, AttemptQuestion, Quiz
from quizzes.results.reports import quiz_results
from quizzes.results.results_xlsx import quiz_results_xlsx
from quizzes.results.scope import (
    attempts_visible_to,
    can_accept_fast,
    can_grade,
    can_see_all_results,
    can_view_results,
    grading_queue_for,
    quizzes_with_results_for,
    results_scope_paths,
)
from quizzes.results.statistics_cache import quiz_statistics_for, quiz_statistics_request
from quizzes.taking.errors import AttemptError
from quizzes.taking.flag_subjects import attempt_flags_dismiss
from quizzes.taking.submitting import attempt_question_grade

GRADING_PER_PAGE = 20
RESULTS_PER_PAGE = 50


# --- Grading -----------------------------------------------------------------------------


class GradeForm(forms.Form):
    percent = forms.DecimalField(
        label=gettext_lazy("Mark (%)"),
        min_value=Decimal(0),
        max_value=Decimal(100),
        max_digits=5,
        decimal_places=2,
        help_text=gettext_lazy("0 to 100 % of the question's mark."),
    )
    comment = forms.CharField(
        label=gettext_lazy("Comment for the member"),
        required=False,
        max_length=2000,
        validators=[validate_text],
        widget=forms.Textarea(attrs={"rows": 2}),
    )


def _answer_text(item: AttemptQuestion) -> str:
    response = item.response
    if isinstance(response, dict):
        return str(response.get("text") or "")
    return ""


def _grading_row(item: AttemptQuestion, form: GradeForm | None = None) -> dict[str, Any]:
    snapshot = item.snapshot or {}
    return {
        "item": item,
        "attempt": item.attempt,
        "stem": snapshot.get("stem", ""),
        "reference_answer": snapshot.get("reference_answer", ""),
        "answer": _answer_text(item),
        "form": form or GradeForm(prefix=f"item-{item.pk}"),
    }


def grading_queue_view(request: HttpRequest) -> HttpResponse:
    """Short answers waiting for a mark, oldest first, in the user's scope."""
    if not can_grade(request.user):
        raise PermissionDenied
    queue = grading_queue_for(request.user)
    quiz_id = request.GET.get("quiz")
    quiz = None
    if quiz_id and quiz_id.isdigit():
        quiz = Quiz.objects.filter(pk=quiz_id).first()
        if quiz is not None:
            queue = queue.filter(attempt__quiz=quiz)
    page = Paginator(queue, GRADING_PER_PAGE).get_page(request.GET.get("p"))
    context = {
        "page_obj": page,
        "rows": [_grading_row(item) for item in page.object_list],
        "quiz": quiz,
        "scoped": results_scope_paths(request.user) is not None,
    }
    return render(request, "quizzes/admin/grading_queue.html", context)


def _back(request: HttpRequest, fallback: str) -> str:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return fallback


@require_POST
def grade_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Give one answer its mark and comment (``attempt_question_grade``)."""
    if not can_grade(request.user):
        raise PermissionDenied
    # Looked up in the scope, graded or not: another subtree's answer is a 404, while a
    # colleague having graded it a moment earlier is a message.
    item = get_object_or_404(
        AttemptQuestion.objects.select_related(
            "attempt__quiz", "attempt__member", "attempt__organization"
        ).filter(attempt__in=attempts_visible_to(request.user)),
        pk=pk,
    )
    form = GradeForm(request.POST, prefix=f"item-{item.pk}")
    if not form.is_valid():
        return render(
            request,
            "quizzes/admin/grading_queue.html",
            {
                "rows": [_grading_row(item, form)],
                "page_obj": None,
                "quiz": None,
                "next_url": _back(request, reverse("quizzes_grading")),
            },
            status=400,
        )
    try:
        attempt_question_grade(
            item=item,
            fraction=form.cleaned_data["percent"] / 100,
            grader=request.user,
            comment=form.cleaned_data["comment"],
        )
    except AttemptError as error:
        messages.error(request, error.message)
    else:
        member = item.attempt.member
        messages.success(
            request,
            _("Answer of %(member)s graded.") % {"member": member.display_name or member.username},
        )
    return redirect(_back(request, reverse("quizzes_grading")))


class GradingMenuItem(MenuItem):
    def is_shown(self, request: HttpRequest) -> bool:
        return can_grade(request.user)


# --- Results -----------------------------------------------------------------------------


def results_index_view(request: HttpRequest) -> HttpResponse:
    """Quizzes with submitted attempts in the user's scope."""
    if not can_view_results(request.user):
        raise PermissionDenied
    quizzes = quizzes_with_results_for(request.user)
    page = Paginator(quizzes, RESULTS_PER_PAGE).get_page(request.GET.get("p"))
    return render(
        request,
        "quizzes/admin/results_index.html",
        {
            "page_obj": page,
            "can_see_statistics": can_see_all_results(request.user),
            "can_grade": can_grade(request.user),
        },
    )


def _quiz_for_results(request: HttpRequest, pk: int) -> Quiz:
    if not can_view_results(request.user):
        raise PermissionDenied
    return get_object_or_404(Quiz, pk=pk)


def quiz_results_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Per branch and per member, only the attempts the user may see."""
    quiz = _quiz_for_results(request, pk)
    results = quiz_results(quiz=quiz, user=request.user)
    return render(
        request,
        "quizzes/admin/quiz_results.html",
        {
            "quiz": quiz,
            "results": results,
            "scoped": results_scope_paths(request.user) is not None,
            "can_accept_fast": can_accept_fast(request.user),
            "can_grade": can_grade(request.user),
            "can_see_statistics": can_see_all_results(request.user),
            "export_url": reverse("quizzes_quiz_results_export", args=[quiz.pk]),
        },
    )


def quiz_results_export_view(request: HttpRequest, pk: int) -> HttpResponse:
    """The same results as an .xlsx workbook."""
    quiz = _quiz_for_results(request, pk)
    results = quiz_results(quiz=quiz, user=request.user)
    response = HttpResponse(quiz_results_xlsx(results), content_type=XLSX_CONTENT_TYPE)
    filename = f"quiz-{quiz.pk}-results-{timezone.localdate():%Y%m%d}.xlsx"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@require_POST
def accept_fast_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Accept an attempt under review as genuine: its open flags are dismissed."""
    if not can_accept_fast(request.user):
        raise PermissionDenied
    attempt = get_object_or_404(
        attempts_visible_to(request.user).select_related("member"),
        pk=pk,
        state=Attempt.State.SUBMITTED,
    )
    was_held = attempt.is_held
    attempt_flags_dismiss(
        attempt=attempt, by=request.user, note=_("Accepted as genuine in the quiz results.")
    )
    if was_held:
        messages.success(
            request,
            _("The attempt of %(member)s is accepted.")
            % {"member": attempt.member.display_name or attempt.member.username},
        )
    return redirect(_back(request, reverse("quizzes_quiz_results", args=[attempt.quiz_id])))


class ResultsMenuItem(MenuItem):
    def is_shown(self, request: HttpRequest) -> bool:
        return can_view_results(request.user)


# --- Statistics ----------------------------------------------------------------------------


def quiz_statistics_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Quiz and item statistics from the cache; a POST queues a recompute.

    Only those who see every attempt (editors, administrators): the figures are over all
    attempts, and a secretary's subtree alone would need its own computation per scope.
    """
    if not can_see_all_results(request.user) or not can_view_results(request.user):
        raise PermissionDenied
    quiz = get_object_or_404(Quiz, pk=pk)
    if request.method == "POST":
        quiz_statistics_request(quiz=quiz, force=True)
        messages.success(request, _("The statistics are being recomputed."))
        return redirect("quizzes_quiz_statistics", pk=quiz.pk)
    state = quiz_statistics_for(quiz=quiz)
    return render(
        request,
        "quizzes/admin/quiz_statistics.html",
        {"quiz": quiz, "state": state, "stats": state.data},
    )


def results_admin_urls() -> list[Any]:
    return [
        path("quiz-grading/", grading_queue_view, name="quizzes_grading"),
        path("quiz-grading/<int:pk>/grade/", grade_view, name="quizzes_grade"),
        path("quiz-results/", results_index_view, name="quizzes_results"),
        path("quiz-results/<int:pk>/", quiz_results_view, name="quizzes_quiz_results"),
        path(
            "quiz-results/<int:pk>/export.xlsx",
            quiz_results_export_view,
            name="quizzes_quiz_results_export",
        ),
        path(
            "quiz-results/attempts/<int:pk>/accept/",
            accept_fast_view,
            name="quizzes_attempt_accept_fast",
        ),
        path(
            "quiz-results/<int:pk>/statistics/",
            quiz_statistics_view,
            name="quizzes_quiz_statistics",
        ),
    ]
