"""The request id of every request, and a warning for slow requests.

First in ``MIDDLEWARE``, so that every log line of the request (other middleware's too)
and every response (redirects to HTTPS included) carry the id. It does no I/O: the health
endpoints behind it must not touch the database.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from ops.context import request_id_accept, request_id_new, request_id_var

REQUEST_ID_HEADER = "X-Request-ID"

logger = logging.getLogger("ops.requests")


class RequestContextMiddleware:
    """Take a safe incoming ``X-Request-ID`` or make one; log requests slower than
    ``DANGJIAN_SLOW_REQUEST_MS`` by their route, never their path or query string."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request_id = request_id_accept(request.headers.get(REQUEST_ID_HEADER)) or request_id_new()
        request.request_id = request_id  # type: ignore[attr-defined]
        # Cleared when the response is closed (request_finished), not on the way out of
        # here: Django logs a 4xx/5xx response ("Not Found: …") after the middleware
        # returned, and gunicorn writes its access line before closing the response.
        request_id_var.set(request_id)
        started = time.monotonic()
        response = self.get_response(request)
        duration_ms = round((time.monotonic() - started) * 1000)
        threshold = settings.DANGJIAN_SLOW_REQUEST_MS
        if threshold and duration_ms > threshold:
            _log_slow(request, response, duration_ms)
        response[REQUEST_ID_HEADER] = request_id
        return response


def request_id_clear(**_kwargs: object) -> None:
    """``request_finished``: the request is over; its id must not label what follows."""
    request_id_var.set(None)


def _log_slow(request: HttpRequest, response: HttpResponse, duration_ms: int) -> None:
    # The route pattern ("quiz/<int:quiz_id>/") groups requests that differ only in their
    # ids; the path could hold an office screen's token and the query string anything.
    match = request.resolver_match
    route = match.route if match is not None else None
    view = (match.view_name or match._func_path) if match is not None else None
    logger.warning(
        "Slow request: %s %s took %d ms (status %d)",
        request.method,
        route or "(no route)",
        duration_ms,
        response.status_code,
        extra={
            "route": route,
            "view": view,
            "method": request.method,
            "status": response.status_code,
            "duration_ms": duration_ms,
        },
    )
