"""Member-facing quiz pages: daily quiz, quizzes and exams, challenge, practice, 错题本.

Views parse input, call one service of ``quizzes.taking`` (``attempts``, ``submitting``,
``daily``, ``practice``) and render. Saves and checks are small JSON endpoints for the
attempt page's script; the page itself works from the server's state, so a reload or
another phone resumes the attempt.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import RequestDataTooBig
from django.core.paginator import Paginator
from django.db.models import Max
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from learning.common.json_body import JSONBodyError, json_body_parse
from quizzes.models import Attempt, QuestionCategory, Quiz, WrongAnswer
from quizzes.taking.attempts import attempt_answer_check, attempt_answer_save, attempt_start
from quizzes.taking.availability import (
    LISTED_KINDS,
    attempts_left,
    quiz_records_of,
    quizzes_open_to,
)
from quizzes.taking.daily import challenge_quiz, daily_quiz_make, daily_quiz_of
from quizzes.taking.errors import AttemptError
from quizzes.taking.locks import ExamLocks, exam_locks
from quizzes.taking.pacing import served_token
from quizzes.taking.practice import (
    HELD_MESSAGE,
    practice_answer,
    practice_categories,
    practice_pick,
    practice_question,
    practice_questions,
    wrong_answer_practise,
    wrong_answer_remove,
    wrong_answers_held,
    wrong_answers_of,
)
from quizzes.taking.presenting import (
    attempt_items,
    checked_feedback,
    review_allowed,
    seconds_left,
    with_images,
)
from quizzes.taking.submitting import attempt_submit

_Answered = TypeVar("_Answered")

ERROR_STATUS = {
    "not_yours": 404,
    "no_question": 404,
    "time_up": 409,
    "submitted": 409,
    "locked": 409,
    "held": 409,
    "not_served": 409,
    "too_soon": 429,
    "throttled": 429,
}


@login_required
def index(request: HttpRequest) -> HttpResponse:
    """The quiz section: today's quiz, open quizzes and exams, challenge, practice, 错题本."""
    member = request.user
    daily = daily_quiz_of()  # made by the beat task, or by the first member who starts it
    daily_attempt = (
        Attempt.objects.filter(quiz=daily, member=member).order_by("-number").first()
        if daily is not None
        else None
    )
    quizzes = list(
        quizzes_open_to(member).filter(kind__in=LISTED_KINDS).order_by("closes_at", "-created_at")
    )
    mine = quiz_records_of(member.pk, quizzes)
    rows = []
    for quiz in quizzes:
        own = mine.get(quiz.pk, {"used": 0, "best": None, "in_progress": None, "held": 0})
        rows.append(
            {
                "quiz": quiz,
                "used": own["used"],
                "best": own["best"],
                "open": own["in_progress"] is not None,
                "left": attempts_left(quiz, own["used"]),
                "held": own["held"],
            }
        )
    today = timezone.localdate()
    best_streak = (
        Attempt.objects.filter(
            member=member,
            quiz__kind=Quiz.Kind.CHALLENGE,
            started_at__date=today,
        ).aggregate(best=Max("correct_count"))["best"]
        or 0
    )
    context = {
        "daily": daily,
        "daily_day": daily.local_date if daily is not None else timezone.localdate(),
        "daily_attempt": daily_attempt,
        "rows": rows,
        "best_streak": best_streak,
        "wrong_count": wrong_answers_of(member).count(),
    }
    return render(request, "quizzes/index.html", context)


def _start(request: HttpRequest, quiz: Quiz) -> HttpResponse:
    try:
        attempt = attempt_start(quiz=quiz, member=request.user)
    except AttemptError as error:
        messages.error(request, error.message)
        return redirect("quizzes:index")
    return redirect("quizzes:attempt", pk=attempt.pk)


@login_required
@require_POST
def quiz_start(request: HttpRequest, pk: int) -> HttpResponse:
    quiz = get_object_or_404(Quiz, pk=pk, is_published=True)
    return _start(request, quiz)


@login_required
@require_POST
def daily_start(request: HttpRequest) -> HttpResponse:
    return _start(request, daily_quiz_make())


@login_required
@require_POST
def challenge_start(request: HttpRequest) -> HttpResponse:
    return _start(request, challenge_quiz())


def _own_attempt(request: HttpRequest, pk: int) -> Attempt:
    """The attempt if it is the member's own; anyone else's is simply not found."""
    return get_object_or_404(Attempt.objects.select_related("quiz"), pk=pk, member=request.user)


@login_required
def attempt_page(request: HttpRequest, pk: int) -> HttpResponse:
    attempt = _own_attempt(request, pk)
    if attempt.is_submitted:
        return redirect("quizzes:result", pk=attempt.pk)
    left = seconds_left(attempt)
    # A countdown only where it helps: a time limit, or the window closing within the hour
    # (a daily quiz's deadline is midnight; eight hours of countdown would only worry).
    show_clock = left is not None and (bool(attempt.quiz.time_limit_minutes) or left <= 3600)
    if left == 0:
        attempt_submit(attempt=attempt, finished_by=Attempt.FinishedBy.DEADLINE)
        messages.info(request, _("Time was up: your saved answers have been submitted."))
        return redirect("quizzes:result", pk=attempt.pk)
    items = with_images(attempt_items(attempt, review=False))
    challenge = attempt.quiz.kind == Quiz.Kind.CHALLENGE
    if challenge:
        # attempt_items gives the answered questions and the next; the page shows the
        # last verdict and the question to answer now.
        items = items[-2:]
    context = {
        "attempt": attempt,
        "quiz": attempt.quiz,
        "items": items,
        "seconds_left": left if show_clock else None,
        "feedback_each": attempt.review == Quiz.Review.AFTER_EACH,
        "challenge": challenge,
        "streak": attempt.questions.filter(state="correct").count() if challenge else 0,
        "answered_count": sum(1 for item in items if item["answered"]),
        "total": attempt.questions.count(),
        "config": {
            "save": reverse("quizzes:save", args=[attempt.pk]),
            "check": reverse("quizzes:check", args=[attempt.pk]),
            "submit": reverse("quizzes:submit", args=[attempt.pk]),
            "result": reverse("quizzes:result", args=[attempt.pk]),
            "secondsLeft": left if show_clock else None,
            "feedbackEach": attempt.review == Quiz.Review.AFTER_EACH,
            "challenge": challenge,
        },
    }
    return render(request, "quizzes/attempt.html", context)


class _BadBodyError(Exception):
    """A JSON endpoint's body it cannot read; ``_refuses_bad_bodies`` answers for it."""

    def __init__(self, message: str, code: str = "parse_error", status: int = 400) -> None:
        super().__init__(message)
        self.message, self.code, self.status = message, code, status


def _json_body(request: HttpRequest) -> dict[str, Any]:
    """The body's JSON object (an empty body is ``{}``); raises ``_BadBodyError`` otherwise."""
    try:
        body = json_body_parse(request.body or b"{}")
    except RequestDataTooBig as error:
        raise _BadBodyError(_("The request body is too large."), "too_large", 413) from error
    except JSONBodyError as error:
        raise _BadBodyError(error.message) from error
    return body if isinstance(body, dict) else {}


def _refuses_bad_bodies(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """A JSON endpoint answers an unreadable body with its error shape, never a 500."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except _BadBodyError as error:
            return JsonResponse(
                {"ok": False, "code": error.code, "message": error.message},
                status=error.status,
            )

    return wrapper


def _error(error: AttemptError) -> JsonResponse:
    body: dict[str, Any] = {"ok": False, "code": error.code, "message": error.message}
    if error.retry_after is not None:
        body["retry_after"] = error.retry_after
    response = JsonResponse(body, status=ERROR_STATUS.get(error.code, 400))
    if error.retry_after is not None:
        response["Retry-After"] = str(max(1, math.ceil(error.retry_after)))
    return response


def _answer(
    request: HttpRequest,
    pk: int,
    service: Callable[..., _Answered],
    *,
    seq_required: bool,
) -> _Answered:
    """``service`` (``attempt_answer_save`` or ``attempt_answer_check``) called with the
    member's own attempt and the body's question position, response and sequence number.

    Anything but a whole number as ``seq`` is passed on as ``-1``, which the service refuses
    as a bad sequence number; without ``seq``, a check goes on (its number is optional) and
    a save is refused.
    """
    attempt = _own_attempt(request, pk)
    body = _json_body(request)
    position = body.get("position")
    if not isinstance(position, int) or isinstance(position, bool):
        raise AttemptError(_("There is no such question in this attempt."), "invalid")
    seq = body.get("seq")
    if not isinstance(seq, int) and (seq is not None or seq_required):
        seq = -1
    return service(
        attempt=attempt,
        member=request.user,
        position=position,
        response=body.get("response"),
        seq=seq,
    )


@login_required
@require_POST
@_refuses_bad_bodies
def attempt_save(request: HttpRequest, pk: int) -> JsonResponse:
    try:
        saved = _answer(request, pk, attempt_answer_save, seq_required=True)
    except AttemptError as error:
        return _error(error)
    return JsonResponse(
        {
            "ok": True,
            "stale": saved.stale,
            # Confirmed for good (quizzes that show the answer after each question): a
            # stale save is not to be sent again.
            "checked": saved.checked,
            "seq": saved.item.response_seq,
            "saved_at": saved.item.saved_at.isoformat() if saved.item.saved_at else None,
        }
    )


@login_required
@require_POST
@_refuses_bad_bodies
def attempt_check(request: HttpRequest, pk: int) -> JsonResponse:
    try:
        # The page may send its next sequence number, so that its own slower saves are
        # stale after the check.
        verdict = _answer(request, pk, attempt_answer_check, seq_required=False)
    except AttemptError as error:
        return _error(error)
    return JsonResponse(
        {
            "ok": True,
            "feedback": checked_feedback(verdict.item),
            "finished": verdict.attempt.is_submitted,
        }
    )


@login_required
@require_POST
def attempt_submit_view(request: HttpRequest, pk: int) -> HttpResponse:
    attempt = _own_attempt(request, pk)
    attempt_submit(attempt=attempt, member=request.user)
    return redirect("quizzes:result", pk=attempt.pk)


@login_required
def attempt_result(request: HttpRequest, pk: int) -> HttpResponse:
    attempt = _own_attempt(request, pk)
    if not attempt.is_submitted:
        return redirect("quizzes:attempt", pk=attempt.pk)
    review = review_allowed(attempt)
    items = with_images(attempt_items(attempt, review=review)) if review else []
    context = {
        "attempt": attempt,
        "quiz": attempt.quiz,
        "review": review,
        "items": items,
        "total": attempt.questions.count(),
    }
    return render(request, "quizzes/result.html", context)


@login_required
def history(request: HttpRequest) -> HttpResponse:
    attempts = (
        Attempt.objects.filter(member=request.user, state=Attempt.State.SUBMITTED)
        .select_related("quiz")
        .order_by("-submitted_at")
    )
    page = Paginator(attempts, 20).get_page(request.GET.get("page"))
    return render(request, "quizzes/history.html", {"page": page})


# --- Wrong-answer book and practice ----------------------------------------------------


@login_required
def wrong_book(request: HttpRequest) -> HttpResponse:
    locks = exam_locks()
    page = Paginator(wrong_answers_of(request.user, locks=locks), 20).get_page(
        request.GET.get("page")
    )
    held = wrong_answers_held(request.user, locks=locks)
    return render(request, "quizzes/wrong_book.html", {"page": page, "held": held})


def _own_entry(request: HttpRequest, pk: int) -> WrongAnswer:
    return get_object_or_404(WrongAnswer, pk=pk, member=request.user)


@login_required
@_refuses_bad_bodies
def wrong_practise(request: HttpRequest, pk: int) -> HttpResponse:
    entry = _own_entry(request, pk)
    if request.method == "POST":
        try:
            body = _json_body(request)
            verdict = wrong_answer_practise(
                entry=entry,
                member=request.user,
                response=body.get("response"),
                served=body.get("served"),
            )
        except AttemptError as error:
            return _error(error)
        return JsonResponse({"ok": True, **verdict.__dict__})
    if not entry.is_open:
        raise Http404
    if exam_locks().locked_ids([entry.question_id]):
        messages.info(request, str(HELD_MESSAGE))
        return redirect("quizzes:wrong_book")
    question = entry.question
    next_entry = wrong_answers_of(request.user).exclude(pk=entry.pk).first()
    return render(
        request,
        "quizzes/practice.html",
        {
            "item": with_images([practice_question(question)])[0],
            "served": served_token(request.user, question.pk),
            "check_url": reverse("quizzes:wrong_practise", args=[entry.pk]),
            "next_url": reverse("quizzes:wrong_practise", args=[next_entry.pk])
            if next_entry
            else reverse("quizzes:wrong_book"),
            "entry": entry,
            "title": _("Wrong-answer book"),
        },
    )


@login_required
@require_POST
def wrong_remove(request: HttpRequest, pk: int) -> HttpResponse:
    entry = _own_entry(request, pk)
    wrong_answer_remove(entry=entry, member=request.user)
    messages.success(request, _("The question has been removed from your wrong-answer book."))
    return redirect("quizzes:wrong_book")


@login_required
def practice_index(request: HttpRequest) -> HttpResponse:
    categories = list(practice_categories())
    return render(request, "quizzes/practice_index.html", {"categories": categories})


@login_required
@_refuses_bad_bodies
def practice(request: HttpRequest, category_id: int) -> HttpResponse:
    category = get_object_or_404(QuestionCategory, pk=category_id)
    if request.method == "POST":
        body = _json_body(request)
        question_id = body.get("question")
        question = (
            practice_questions(category)
            .prefetch_related("choices", "blanks")
            .filter(pk=question_id)
            .first()
            if isinstance(question_id, int)
            else None
        )
        if question is None:
            return _error(AttemptError(_("There is no such question."), "no_question"))
        try:
            verdict = practice_answer(
                member=request.user,
                question=question,
                response=body.get("response"),
                served=body.get("served"),
            )
        except AttemptError as error:
            return _error(error)
        return JsonResponse({"ok": True, **verdict.__dict__})
    mode = "random" if request.GET.get("mode") == "random" else "sequential"
    try:
        index = None if mode == "random" else int(request.GET.get("i", "0"))
    except ValueError:
        index = 0
    question, index, total = practice_pick(category, index=index)
    if question is None:
        if practice_questions(category, locks=ExamLocks(at=timezone.now())).exists():
            # Every question is locked by an exam: say so rather than "no questions".
            messages.info(
                request,
                _(
                    "The questions of this category are used in an exam that is still open; "
                    "you can practise them once the exam has closed."
                ),
            )
        else:
            messages.info(request, _("There are no practice questions in this category yet."))
        return redirect("quizzes:practice_index")
    next_query = "?mode=random" if mode == "random" else f"?i={index + 1}"
    return render(
        request,
        "quizzes/practice.html",
        {
            "item": with_images([practice_question(question)])[0],
            "served": served_token(request.user, question.pk),
            "check_url": reverse("quizzes:practice", args=[category.pk]),
            "next_url": reverse("quizzes:practice", args=[category.pk]) + next_query,
            "category": category,
            "mode": mode,
            "index": index + 1,
            "total": total,
            "title": category.name,
        },
    )
