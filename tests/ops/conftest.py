"""Fixtures of the health tests: real outages through a proxy, and a probe's answer."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from celery.contrib.testing.worker import start_worker
from django.test import Client

from config import celery_app
from ops.checks import Migrations
from tests.ops.proxy import TcpProxy


@pytest.fixture
def proxy_to() -> Iterator[Callable[[str, int], TcpProxy]]:
    """``proxy_to(host, port)``: a proxy to that service, closed after the test."""
    proxies: list[TcpProxy] = []

    def make(host: str, port: int) -> TcpProxy:
        proxy = TcpProxy(host, port)
        proxies.append(proxy)
        return proxy

    yield make
    for proxy in proxies:
        proxy.close()


@pytest.fixture(autouse=True)
def _migrations_asked_each_time(monkeypatch: pytest.MonkeyPatch) -> None:
    """The migrations check remembers a positive answer per process; each test asks anew."""
    monkeypatch.setattr(Migrations, "confirmed", False)


def readyz(client: Client) -> tuple[int, dict[str, Any], dict[str, dict[str, Any]]]:
    """Status code, body, and the body's checks by name."""
    response = client.get("/readyz")
    body = response.json()
    return response.status_code, body, {check["name"]: check for check in body["checks"]}


@pytest.fixture
def real_worker() -> Iterator[None]:
    """A Celery worker in a thread on the in-memory broker: tasks are published as messages
    and run from them, as in production."""
    eager = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = False
    try:
        with start_worker(celery_app, pool="solo", perform_ping_check=False, loglevel="WARNING"):
            yield
    finally:
        celery_app.conf.task_always_eager = eager
