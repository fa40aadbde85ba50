"""Server time of a member's lesson page and home page, and that their queries do not grow.

Run by ``make bench`` (``DANGJIAN_BENCH=1``), not by ``make test``. In the pytest test
database: the demo content of ``demo.content`` (6 courses, 30 lessons, 40 policy documents)
and a member with progress in a few lessons; then each page is requested through Django's
test client (middleware, routing, view, template; no network) after one warm-up request.
The same pages are measured again after adding 20 more courses of 10 lessons and progress
in 50 lessons, to show the query count does not grow with the data. Writes the
``## Member pages`` section of ``docs/benchmarks.md`` between its own markers.
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.benchmarks.environment import wait_until_quiet
from tests.benchmarks.quiz_bench import REPORT
from tests.benchmarks.report import write_marked_section
from tests.benchmarks.search_bench import Table, machine

pytestmark = [pytest.mark.bench, pytest.mark.django_db]

REQUESTS = 100
BEGIN_MARKER = "<!-- pages-benchmark:begin -->"


def _member() -> Any:
    from learning.people import roles, services

    committee = services.organization_create(name="基准党委", code="BENCH-P", kind="committee")
    branch = services.organization_create(
        name="基准支部", code="BENCH-P1", kind="branch", parent=committee
    )
    return services.member_create(
        username="bench-pages",
        display_name="基准党员",
        organization=branch,
        password="Bench-pages-2026",
        role_names=[roles.MEMBER],
    )


def _open_lessons(member: Any, count: int) -> None:
    from cms.models import LessonPage
    from learning.models import LessonProgress

    now = timezone.now()
    lessons = LessonPage.objects.live().order_by("path")[:count]
    LessonProgress.objects.bulk_create(
        [
            LessonProgress(member=member, lesson=lesson, first_opened_at=now, verified_seconds=120)
            for lesson in lessons
        ],
        ignore_conflicts=True,
    )


def _more_courses(courses: int, lessons: int) -> None:
    from cms.models import CourseIndexPage, CoursePage, LessonPage

    index = CourseIndexPage.objects.get()
    for number in range(courses):
        course = index.add_child(
            instance=CoursePage(title=f"基准课程{number}", summary="用于基准测试的课程。")
        )
        for lesson in range(lessons):
            course.add_child(
                instance=LessonPage(
                    title=f"基准课程{number}第{lesson + 1}课",
                    body=[("rich_text", "<p>学习党的理论，坚定理想信念。</p>")],
                )
            )


def _measure(client: Client, url: str) -> dict[str, Any]:
    client.get(url)  # warm-up: templates and caches, as in a running process
    times = []
    queries = 0
    for _ in range(REQUESTS):
        with CaptureQueriesContext(connection) as captured:
            began = time.perf_counter()
            response = client.get(url)
            times.append((time.perf_counter() - began) * 1000)
        assert response.status_code == 200, (url, response.status_code)
        queries = max(queries, len(captured))
    times.sort()
    return {
        "median_ms": statistics.median(times),
        "p95_ms": times[int(len(times) * 0.95) - 1],
        "queries": queries,
    }


@pytest.fixture(scope="module")
def page_results(django_db_setup: None, django_db_blocker: Any) -> dict[str, Any]:
    from cms.models import LessonPage
    from demo.content import demo_content_seed

    with django_db_blocker.unblock():
        demo_content_seed()
        member = _member()
        _open_lessons(member, 5)
        client = Client()
        client.force_login(member)
        lesson_url = LessonPage.objects.live().order_by("path").first().url
        pages: dict[str, Callable[[], str]] = {"lesson": lambda: lesson_url, "home": lambda: "/"}
        wait_until_quiet(patience=60.0)
        load_before = os.getloadavg()
        small = {name: _measure(client, url()) for name, url in pages.items()}
        _more_courses(20, 10)
        _open_lessons(member, 50)
        large = {name: _measure(client, url()) for name, url in pages.items()}
        results = {
            "machine": machine(),
            "load_before": load_before,
            "load_after": os.getloadavg(),
            "small": small,
            "large": large,
            "lessons_small": 30,
            "lessons_large": 30 + 20 * 10,
        }
        write_marked_section(_render(results), "pages-benchmark", REPORT)
    return results


def _render(results: dict[str, Any]) -> str:
    info = results["machine"]
    dirty = " plus uncommitted changes in the working tree" if info["dirty"] else ""
    table = Table(["Page", "data", "median ms", "p95 ms", "queries"])
    labels = {"lesson": "a lesson (member with progress)", "home": "home page (logged in)"}
    for size, label in (("small", "demo content"), ("large", "+200 lessons, +45 in progress")):
        for name, numbers in results[size].items():
            table.rows.append(
                [
                    labels[name],
                    label,
                    f"{numbers['median_ms']:.1f}",
                    f"{numbers['p95_ms']:.1f}",
                    str(numbers["queries"]),
                ]
            )
    load = ", ".join(f"{value:.2f}" for value in results["load_before"])
    return f"""
## Member pages

Generated by `make bench` (`tests/benchmarks/test_page_benchmarks.py`); this block is
rewritten on every run. Measured on {info["date"]} (`date`), code at commit
`{info["commit"]}`{dirty}; {info["cpu"]}, {info["cpus"]} CPUs, Python {info["python"]},
SQLite {info["sqlite"]}; load average before: {load}.

Server time through Django's test client (middleware, routing, view, template; no network)
of {REQUESTS} requests each after one warm-up, for a logged-in member, on the demo content
({results["lessons_small"]} lessons) and again after adding 20 courses of 10 lessons and
progress in 45 more lessons ({results["lessons_large"]} lessons). The query count is the
most any request made; the normal test run bounds it (`tests/cms/test_pages.py`).

{table}
"""


def test_the_query_count_does_not_grow_with_the_content(page_results: dict[str, Any]) -> None:
    for name in ("lesson", "home"):
        assert page_results["large"][name]["queries"] <= page_results["small"][name]["queries"]


def test_report_section_is_written(page_results: dict[str, Any]) -> None:
    text = REPORT.read_text(encoding="utf-8")
    assert text.count(BEGIN_MARKER) == 1 and "## Member pages" in text
