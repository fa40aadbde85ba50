"""``/healthz`` (the process answers) and ``/readyz`` (it can serve: its services answer).

Neither needs a login; both are for the load balancer and monitoring (docs/operations.md).
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.cache import add_never_cache_headers, patch_vary_headers
from django.views import View
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe
from health_check.base import HealthCheckResult
from health_check.views import HealthCheckView

from ops import checks
from ops.heartbeats import COMPONENTS, FRESH_SECONDS


@never_cache
@require_safe
def healthz(request: HttpRequest) -> JsonResponse:
    """The process is alive: no database, cache, session or file is touched."""
    return JsonResponse({"status": "ok"})


class _ContextExecutor(ThreadPoolExecutor):
    """Runs each check in the request's context, so its log lines carry the request id."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future:
        context = contextvars.copy_context()
        return super().submit(context.run, fn, *args, **kwargs)


class ReadinessView(HealthCheckView):
    """Run the checks concurrently; 503 if a critical one fails.

    django-health-check's view runs the checks and sets ``Cache-Control: no-store``
    (and ``Vary: Accept``); this one answers JSON in its own shape, with 503 rather
    than 500, and never lets a stuck check hold the response.
    """

    checks = (
        checks.Database,
        checks.Migrations,
        checks.Cache,
        checks.Broker,
        checks.SearchIndex,
        checks.UnsentTasks,
        checks.CeleryLiveness,
    )
    http_method_names = ["get", "head"]

    @contextmanager
    def get_executor(self) -> Iterator[ThreadPoolExecutor]:
        executor = _ContextExecutor(max_workers=len(self.checks), thread_name_prefix="readyz")
        try:
            yield executor
        finally:
            # A check that timed out is abandoned: its own client timeout ends its thread.
            executor.shutdown(wait=False, cancel_futures=True)

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        # A synchronous view (django-health-check's is async): the checks' event loop runs
        # in a thread of its own, so the probe also works where the calling thread already
        # runs a loop, and a sync gunicorn worker needs no async adapter per request.
        response = View.dispatch(self, request, *args, **kwargs)
        patch_vary_headers(response, ["Accept"])
        add_never_cache_headers(response)
        return response

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> JsonResponse:
        with _ContextExecutor(max_workers=1, thread_name_prefix="readyz-loop") as runner:
            results = runner.submit(asyncio.run, self._gather()).result()
        body = readiness_report(results)
        return JsonResponse(body, status=503 if body["status"] == "failing" else 200)

    async def _gather(self) -> list[HealthCheckResult]:
        with self.get_executor() as executor:
            return list(
                await asyncio.gather(*(check.get_result(executor) for check in self.get_checks()))
            )


def readiness_report(results: list[HealthCheckResult]) -> dict[str, Any]:
    """The JSON body: an overall status and one entry per check (and per liveness
    component).

    ``failing`` when a critical check failed (503); ``degraded`` when only the liveness of
    the beat or a worker is stale or unknown (200); else ``ok``.
    """
    entries: list[dict[str, Any]] = []
    failing = degraded = False
    for result in results:
        check = result.check
        latency_ms = round(result.time_taken * 1000, 1)
        if isinstance(check, checks.CeleryLiveness):
            entries.extend(_liveness_entries(check, result, latency_ms))
            degraded |= result.error is not None
            continue
        entry: dict[str, Any] = {
            "name": check.name,
            "critical": check.critical,
            "status": "ok" if result.error is None else "failing",
            "latency_ms": latency_ms,
        }
        if result.error is not None:
            entry["error"] = result.error.message
            failing |= check.critical
            degraded |= not check.critical
        entries.append(entry)
    status = "failing" if failing else "degraded" if degraded else "ok"
    return {"status": status, "checks": entries}


def _liveness_entries(
    check: checks.CeleryLiveness, result: HealthCheckResult, latency_ms: float
) -> Iterator[dict[str, Any]]:
    for component in COMPONENTS:
        entry: dict[str, Any] = {
            "name": f"celery_{component.replace(':', '_')}",
            "critical": False,
            "latency_ms": latency_ms,
            "fresh_for_seconds": FRESH_SECONDS,
        }
        if component not in check.ages:
            # The heartbeats could not be read (or the check timed out).
            entry["status"] = "unknown"
            entry["age_seconds"] = None
            entry["error"] = result.error.message if result.error else "not checked"
        else:
            age = check.ages[component]
            entry["age_seconds"] = None if age is None else round(age)
            entry["status"] = "fresh" if age is not None and age <= FRESH_SECONDS else "stale"
            if age is None:
                entry["error"] = "never seen"
        yield entry
