"""Test-only routes: a view that logs and enqueues a task, and a slow one with an id."""

from __future__ import annotations

import logging
import time

from celery import shared_task
from django.http import HttpRequest, HttpResponse
from django.urls import path

logger = logging.getLogger("tests.ops.views")
task_logger = logging.getLogger("tests.ops.tasks")


@shared_task(name="tests.ops.log_something")
def log_something(*, word: str) -> None:
    task_logger.info("task says %s", word)


def log_and_enqueue(request: HttpRequest) -> HttpResponse:
    logger.info("view says hello", extra={"member_count": 3})
    log_something.delay(word="hello")
    return HttpResponse("ok")


def slow(request: HttpRequest, item: int) -> HttpResponse:
    time.sleep(0.02)
    return HttpResponse("slow")


def gone(request: HttpRequest) -> HttpResponse:
    return HttpResponse("gone", status=410)


def broken(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("the view broke")


urlpatterns = [
    path("broken/", broken, name="broken"),
    path("gone/", gone, name="gone"),
    path("log-and-enqueue/", log_and_enqueue, name="log_and_enqueue"),
    path("slow/<int:item>/", slow, name="slow"),
]
