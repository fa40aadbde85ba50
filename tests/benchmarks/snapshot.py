"""Server time of the office screen's snapshot endpoint on the large dataset.

Requests go through ``django.test.Client`` (the whole middleware stack, URL routing
and view; no network). The clock is held at the dataset's last day, 15:00, so the
screen's "current period" has data. Three cases: uncached (Django cache cleared before
each request), cached (the same snapshot again), and a conditional request with the
snapshot's ETag (expects 304). The cache is the one each database is deployed with:
Redis beside PostgreSQL, the embedded local-memory cache with SQLite.
"""

from __future__ import annotations

import datetime
import zoneinfo
from typing import Any
from unittest import mock

from django.conf import settings
from django.core.cache import cache
from django.test import Client

from learning.models import Organization
from tests.benchmarks.queries import query_breakdown
from tests.benchmarks.timing import time_calls

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")


def measure(today: datetime.date) -> dict[str, Any]:
    """Timings per screen period, or why the endpoint could not be measured."""
    try:
        from learning.models import Screen
        from learning.points.screens import snapshot_for_token  # noqa: F401 - checks it exists
    except ImportError as error:
        return {"available": False, "reason": f"not importable: {error}"}
    moment = datetime.datetime(today.year, today.month, today.day, 15, 0, tzinfo=SHANGHAI)
    root = Organization.objects.get(code="DW")
    results: dict[str, Any] = {
        "available": True,
        "moment": moment.isoformat(),
        "cache": settings.CACHES["default"]["BACKEND"].rsplit(".", 1)[-1],
        "screens": [],
    }
    with mock.patch("django.utils.timezone.now", return_value=moment):
        for period in ("day", "week", "year"):
            screen, _created = Screen.objects.get_or_create(
                name=f"benchmark screen ({period})",
                organization=root,
                defaults={"period": period, "metric": "per_member"},
            )
            try:
                results["screens"].append(_measure_screen(screen.token, period))
            except Exception as error:  # the endpoint is new: report it and go on
                results["screens"].append({"period": period, "error": repr(error)[:300]})
    return results


def _measure_screen(token: str, period: str) -> dict[str, Any]:
    client = Client(SERVER_NAME="localhost")
    url = f"/screens/{token}/snapshot.json"
    cache.clear()
    first = client.get(url)
    if first.status_code != 200:
        return {"period": period, "error": f"HTTP {first.status_code}"}
    etag = first["ETag"]
    cache.clear()
    queries = query_breakdown(lambda: client.get(url))

    def uncached() -> None:
        cache.clear()
        assert client.get(url).status_code == 200

    def cached() -> None:
        assert client.get(url).status_code == 200

    def conditional() -> None:
        assert client.get(url, headers={"If-None-Match": etag}).status_code == 304

    return {
        "period": period,
        "bytes": len(first.content),
        "queries_uncached": len(queries),
        "slowest_queries": sorted(queries, key=lambda q: -q["ms"])[:2],
        "uncached": time_calls(uncached, runs=30, warmup=3, budget_seconds=30).as_dict(),
        "cached": time_calls(cached, runs=300, warmup=10).as_dict(),
        "not_modified": time_calls(conditional, runs=300, warmup=10).as_dict(),
    }
