"""The members' quiz API under ``/api/v1/`` (the mobile app's view of the ``/quiz/`` pages).

Each view parses the request, calls one service of ``quizzes.taking`` (``attempts``,
``submitting``, ``daily``, ``practice``) and renders it with ``quizzes.api.serializers``; the
rules live in the services. Questions are shown only through ``quizzes.taking.presenting``,
so correct answers and explanations leave the server only where ``review_allowed`` (or
after-each feedback) says.

Errors have one shape, ``{"code": "...", "detail": "..."}`` (plus ``"fields"`` for a
malformed body), with the detail in the request's language (Chinese unless the member
chose otherwise), for every path under ``/api/v1/``: unknown paths, a body that is too
large, too deep or holds invalid text included. Another member's attempt or wrong-answer
entry is simply not found. Authentication is Django's session (see docs/api.md).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from typing import Any

from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.db.models import Count, QuerySet
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework import status
from rest_framework.exceptions import APIException, NotFound, ParseError, ValidationError
from rest_framework.generics import ListAPIView
from rest_framework.parsers import JSONParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView, exception_handler

from learning.common.json_body import JSONBodyError, json_body_parse
from quizzes.api.serializers import (
    AnswerCheckSerializer,
    AnswerSaveSerializer,
    AnswerSerializer,
    AttemptDetailSerializer,
    AttemptFilterSerializer,
    AttemptSerializer,
    CheckResultSerializer,
    PracticeVerdictSerializer,
    PractiseSerializer,
    QuizRowSerializer,
    SaveResultSerializer,
    WrongAnswerSerializer,
)
from quizzes.models import Attempt, Quiz, WrongAnswer
from quizzes.taking.attempts import attempt_answer_check, attempt_answer_save, attempt_start
from quizzes.taking.availability import LISTED_KINDS, quiz_records_of, quizzes_open_to
from quizzes.taking.daily import challenge_quiz, daily_quiz_make, daily_quiz_of
from quizzes.taking.errors import AttemptError
from quizzes.taking.locks import exam_locks
from quizzes.taking.practice import (
    wrong_answer_practise,
    wrong_answer_remove,
    wrong_answers_held,
    wrong_answers_of,
)
from quizzes.taking.presenting import attempt_items, review_allowed
from quizzes.taking.submitting import attempt_submit

logger = logging.getLogger(__name__)

# HTTP status of each ``AttemptError.code``; any other code is the request's fault (400).
# 404: the thing asked for is not the member's (or does not exist); 409: the attempt or
# quiz is in a state that refuses the request (submitted, time up, closed, used up).
ATTEMPT_ERROR_STATUS: dict[str, int] = {
    "not_yours": status.HTTP_404_NOT_FOUND,
    "no_question": status.HTTP_404_NOT_FOUND,
    "time_up": status.HTTP_409_CONFLICT,
    "submitted": status.HTTP_409_CONFLICT,
    "locked": status.HTTP_409_CONFLICT,
    "out_of_order": status.HTTP_409_CONFLICT,
    "closed": status.HTTP_409_CONFLICT,
    "no_attempts_left": status.HTTP_409_CONFLICT,
    "no_questions": status.HTTP_409_CONFLICT,
    "busy": status.HTTP_409_CONFLICT,
    "held": status.HTTP_409_CONFLICT,
    "not_served": status.HTTP_409_CONFLICT,
    "too_soon": status.HTTP_429_TOO_MANY_REQUESTS,
    "throttled": status.HTTP_429_TOO_MANY_REQUESTS,
}


# --- Errors -----------------------------------------------------------------------------


def _first_message(detail: Any, path: tuple[str, ...] = ()) -> str:
    """The first message of a (nested) DRF error detail, after the name of its field."""
    if isinstance(detail, dict):
        for name, inner in detail.items():
            inner_path = path if name == "non_field_errors" else (*path, str(name))
            return _first_message(inner, inner_path)
        return ""
    if isinstance(detail, list):
        return _first_message(detail[0], path) if detail else ""
    return f"{'.'.join(path)}: {detail}" if path else str(detail)


def _refused_request(exc: SuspiciousOperation) -> Response:
    """Django's own refusals of a request (too large a body …) in the API's shape.

    Left to Django they would become its HTML "Bad Request" page.
    """
    if isinstance(exc, RequestDataTooBig):
        logger.info("quiz API: request body over DATA_UPLOAD_MAX_MEMORY_SIZE refused")
        return Response(
            {"code": "too_large", "detail": _("The request body is too large.")},
            status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
        )
    logger.warning("quiz API: suspicious request refused: %s", exc.__class__.__name__)
    return Response(
        {"code": "bad_request", "detail": _("The request could not be read.")},
        status=status.HTTP_400_BAD_REQUEST,
    )


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Every refusal as ``{"code", "detail"}``; ``AttemptError`` with its own status."""
    view = context.get("view")
    request = context.get("request")
    who = getattr(getattr(request, "user", None), "pk", None)
    where = type(view).__name__ if view is not None else "?"
    if isinstance(exc, AttemptError):
        code = ATTEMPT_ERROR_STATUS.get(exc.code, status.HTTP_400_BAD_REQUEST)
        logger.info("quiz API %s refused member %s: %s", where, who, exc.code)
        if exc.retry_after is None:
            return Response({"code": exc.code, "detail": exc.message}, status=code)
        return Response(
            {"code": exc.code, "detail": exc.message, "retry_after": exc.retry_after},
            status=code,
            headers={"Retry-After": str(max(1, math.ceil(exc.retry_after)))},
        )
    if isinstance(exc, SuspiciousOperation):
        return _refused_request(exc)
    response = exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, ValidationError):
        fields = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
        logger.info("quiz API %s: malformed request from member %s", where, who)
        response.data = {"code": "invalid", "detail": _first_message(fields), "fields": fields}
        return response
    if isinstance(exc, APIException):
        codes = exc.get_codes()
        code = codes if isinstance(codes, str) else exc.default_code
    elif isinstance(exc, Http404):
        code = "not_found"
    else:
        code = "permission_denied"
    detail = response.data.get("detail", "") if isinstance(response.data, dict) else ""
    response.data = {"code": code, "detail": str(detail)}
    return response


class CheckedJSONParser(JSONParser):
    """DRF's JSON parser through ``json_body_parse``: depth, numbers and text are checked.

    A body nested too deep, with ``1e400`` or ``NaN``, or with a lone surrogate, NUL or
    another control character in any string is a ``400 parse_error``, never a 500 and
    never stored.
    """

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        encoding = (parser_context or {}).get("encoding", "utf-8")
        try:
            return json_body_parse(stream.read(), encoding=encoding)
        except JSONBodyError as error:
            raise ParseError(error.message) from error


class QuizAPIMixin:
    """What every view of this API shares: JSON bodies, signed-in members, one error shape."""

    parser_classes = [CheckedJSONParser]
    permission_classes = [IsAuthenticated]

    def get_exception_handler(self) -> Callable[[Exception, dict[str, Any]], Response | None]:
        return api_exception_handler


class UnknownPathView(QuizAPIMixin, APIView):
    """Any path under ``/api/v1/`` that names nothing: a JSON 404, not the site's HTML page.

    It needs no session: nothing is there to protect.
    """

    authentication_classes = []
    permission_classes = []

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        raise NotFound


def _own_attempt(request: Request, pk: int) -> Attempt:
    """The member's own attempt; anyone else's is not found (not "forbidden")."""
    attempt = Attempt.objects.select_related("quiz").filter(pk=pk, member=request.user).first()
    if attempt is None:
        # NotFound's own message: get_object_or_404 would name the model in English.
        raise NotFound
    return attempt


def _attempt_ref(request: Request, pk: int) -> Attempt:
    """A reference to my attempt ``pk`` for the services that lock and read it themselves
    (save, check, submit): reading it here as well would cost every autosave a query.
    Whether it is mine is checked under their lock (``not_yours``, a 404 like any other
    attempt that is not mine: see ``_mine``)."""
    return Attempt(pk=pk, member_id=request.user.pk)


def _mine(call: Callable[..., Any], **arguments: Any) -> Any:
    """``call(**arguments)``, with another member's attempt simply not found."""
    try:
        return call(**arguments)
    except AttemptError as error:
        if error.code == "not_yours":
            raise NotFound from error
        raise


def _own_entry(request: Request, pk: int) -> WrongAnswer:
    entry = WrongAnswer.objects.filter(pk=pk, member=request.user).first()
    if entry is None:
        raise NotFound
    return entry


# --- Quizzes ----------------------------------------------------------------------------


class QuizListView(QuizAPIMixin, ListAPIView):
    """GET: the quizzes and exams open to me, a page at a time, and today's daily quiz."""

    serializer_class = QuizRowSerializer

    def get_queryset(self) -> QuerySet[Quiz]:
        return (
            quizzes_open_to(self.request.user)
            .filter(kind__in=LISTED_KINDS)
            .order_by("closes_at", "-created_at", "-pk")
        )

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        daily = daily_quiz_of()
        page = self.paginate_queryset(self.get_queryset()) or []
        context = {
            **self.get_serializer_context(),
            "mine": quiz_records_of(request.user.pk, [*page, *([daily] if daily else [])]),
        }
        response = self.get_paginated_response(
            QuizRowSerializer(page, many=True, context=context).data
        )
        # null until today's quiz is made (by beat at 00:01, or by the first member to start
        # it with POST daily/attempts/): a GET never writes.
        response.data["daily"] = (
            QuizRowSerializer(daily, context=context).data if daily is not None else None
        )
        return response


# --- Attempts ---------------------------------------------------------------------------


def _shown_questions(attempt: Attempt, review: bool) -> list[dict[str, Any]]:
    """The questions to send: all of them, but none of a submitted attempt without review.

    A submitted attempt whose answers may not be shown yet gets no questions, as on the
    result page. A challenge in progress shows what was answered and the next question
    only, as on the attempt page, so the app cannot read ahead.
    """
    if attempt.is_submitted and not review:
        return []
    return attempt_items(attempt, review=review)


def _attempt_body(attempt: Attempt) -> dict[str, Any]:
    review = review_allowed(attempt)
    context = {"questions": _shown_questions(attempt, review), "review_allowed": review}
    return AttemptDetailSerializer(attempt, context=context).data


def _started(request: Request, quiz: Quiz) -> Response:
    """Start or resume: 201 with a Location for a new attempt, 200 when resumed."""
    now = timezone.now()
    attempt = attempt_start(quiz=quiz, member=request.user, at=now)
    body = _attempt_body(attempt)
    # A new attempt starts at exactly ``now``; a resumed one started earlier.
    if attempt.started_at != now:
        return Response(body)
    location = reverse("quizzes_api:attempt", args=[attempt.pk])
    return Response(body, status=status.HTTP_201_CREATED, headers={"Location": location})


class QuizAttemptStartView(QuizAPIMixin, APIView):
    """POST: start or resume my attempt at a published quiz."""

    def post(self, request: Request, pk: int) -> Response:
        quiz = Quiz.objects.filter(pk=pk, is_published=True).first()
        if quiz is None:
            raise NotFound
        return _started(request, quiz)


class DailyAttemptStartView(QuizAPIMixin, APIView):
    """POST: start or resume today's daily quiz."""

    def post(self, request: Request) -> Response:
        return _started(request, daily_quiz_make())


class ChallengeAttemptStartView(QuizAPIMixin, APIView):
    """POST: start or resume a challenge (it ends at the first wrong answer)."""

    def post(self, request: Request) -> Response:
        return _started(request, challenge_quiz())


class AttemptListView(QuizAPIMixin, ListAPIView):
    """GET: my attempts, newest first, a page at a time; ``?state=`` filters."""

    serializer_class = AttemptSerializer

    def get_queryset(self) -> QuerySet[Attempt]:
        query = AttemptFilterSerializer(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        attempts = (
            Attempt.objects.filter(member=self.request.user)
            .select_related("quiz")
            .annotate(question_count=Count("questions"))
            .order_by("-started_at", "-pk")
        )
        if "state" in query.validated_data:
            attempts = attempts.filter(state=query.validated_data["state"])
        return attempts


class AttemptDetailView(QuizAPIMixin, APIView):
    """GET: my attempt with its questions, the server's ``seconds_left`` and ``deadline``."""

    def get(self, request: Request, pk: int) -> Response:
        attempt = _own_attempt(request, pk)
        if not attempt.is_submitted and attempt.deadline and attempt.deadline <= timezone.now():
            # Time is up: submit the saved answers now rather than show a dead attempt
            # until the periodic task gets to it.
            attempt = attempt_submit(attempt=attempt, finished_by=Attempt.FinishedBy.DEADLINE)
        return Response(_attempt_body(attempt))


def _answer(
    request: Request,
    pk: int,
    position: int,
    body_serializer: type[AnswerSerializer],
    service: Callable[..., Any],
) -> Any:
    """``service`` (``attempt_answer_save`` or ``attempt_answer_check``) called with my own
    attempt, the question's position and the body ``body_serializer`` validated."""
    body = body_serializer(data=request.data)
    body.is_valid(raise_exception=True)
    return _mine(
        service,
        attempt=_attempt_ref(request, pk),
        member=request.user,
        position=position,
        response=body.validated_data["response"],
        seq=body.validated_data.get("seq"),
    )


class AnswerSaveView(QuizAPIMixin, APIView):
    """PUT ``{"response", "seq"}``: save one answer; a ``seq`` not above the stored one is stale."""

    def put(self, request: Request, pk: int, position: int) -> Response:
        result = _answer(request, pk, position, AnswerSaveSerializer, attempt_answer_save)
        return Response(SaveResultSerializer(result).data)


class AnswerCheckView(QuizAPIMixin, APIView):
    """POST ``{"response", "seq"?}``: answer for good and get the verdict (after-each quizzes
    only); with ``seq``, the app's slower saves of the question are stale after it."""

    def post(self, request: Request, pk: int, position: int) -> Response:
        result = _answer(request, pk, position, AnswerCheckSerializer, attempt_answer_check)
        return Response(CheckResultSerializer(result).data)


class AttemptSubmitView(QuizAPIMixin, APIView):
    """POST: submit and score my attempt; submitting again returns the same result."""

    def post(self, request: Request, pk: int) -> Response:
        submitted = _mine(attempt_submit, attempt=_attempt_ref(request, pk), member=request.user)
        return Response(_attempt_body(submitted))


# --- Wrong-answer book ------------------------------------------------------------------


class WrongAnswerListView(QuizAPIMixin, ListAPIView):
    """GET: my open wrong-answer book, most recent mistakes first."""

    serializer_class = WrongAnswerSerializer

    def get_queryset(self) -> QuerySet[WrongAnswer]:
        # practice_question reads each question's options and blanks: fetch them per page.
        return wrong_answers_of(self.request.user, locks=self.locks).prefetch_related(
            "question__choices", "question__blanks"
        )

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        self.locks = exam_locks()
        response = super().list(request, *args, **kwargs)
        # Entries an open exam holds back are not listed; the app can say how many wait.
        response.data["held"] = wrong_answers_held(request.user, locks=self.locks)
        return response


class WrongAnswerView(QuizAPIMixin, APIView):
    """DELETE: take a question out of my wrong-answer book."""

    def delete(self, request: Request, pk: int) -> Response:
        entry = _own_entry(request, pk)
        wrong_answer_remove(entry=entry, member=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class WrongAnswerPractiseView(QuizAPIMixin, APIView):
    """POST ``{"response", "served"}``: answer a question of my book (``served`` as the
    list gave it); two right in a row master it."""

    def post(self, request: Request, pk: int) -> Response:
        entry = _own_entry(request, pk)
        body = PractiseSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        verdict = wrong_answer_practise(
            entry=entry,
            member=request.user,
            response=body.validated_data["response"],
            served=body.validated_data.get("served"),
        )
        return Response(PracticeVerdictSerializer(verdict).data)
