"""Concurrent awards: one entry per key, caps exact, no lost updates, no deadlocks.

These run on PostgreSQL (row locks) and on SQLite (one writer at a time) alike, with
real threads, each on its own database connection.
"""

from __future__ import annotations

import datetime
import threading
import zoneinfo
from collections.abc import Callable

import pytest
from django.db import connection

from learning.common.periods import Period
from learning.models import BranchPeriodTotal, PointsEntry
from learning.points.ledger import AwardResult, points_award
from learning.points.ledger_check import ledger_differences
from tests.factories.people import MemberFactory

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
NOON = datetime.datetime(2026, 11, 26, 12, 0, tzinfo=SHANGHAI)
THREADS = 50


def run_concurrently(calls: list[Callable[[], AwardResult]]) -> list[AwardResult]:
    barrier = threading.Barrier(len(calls))
    results: list[AwardResult] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def worker(call: Callable[[], AwardResult]) -> None:
        try:
            barrier.wait()
            result = call()
            with lock:
                results.append(result)
        except BaseException as error:
            with lock:
                errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    return results


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_same_key_fifty_times_at_once_awards_once(tree):
    member = MemberFactory(organization=tree.branch_a1)
    results = run_concurrently(
        [
            lambda: points_award(
                member=member, rule_code="exam_passed", key="exam:1", occurred_at=NOON
            )
            for _ in range(THREADS)
        ]
    )
    assert PointsEntry.objects.count() == 1
    assert sum(result.created for result in results) == 1
    assert {result.entry.pk for result in results} == {PointsEntry.objects.get().pk}
    total = BranchPeriodTotal.objects.get(branch=tree.branch_a1, period=Period.ALL)
    assert (total.points, total.active_members) == (10, 1)
    assert ledger_differences() == []


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_fifty_distinct_awards_at_once_stop_exactly_at_the_cap(tree):
    member = MemberFactory(organization=tree.branch_a1)
    results = run_concurrently(
        [
            lambda i=i: points_award(
                member=member, rule_code="lesson_completed", key=f"lesson:{i}", occurred_at=NOON
            )
            for i in range(THREADS)
        ]
    )
    assert sum(result.points for result in results) == 6
    assert sum(PointsEntry.objects.values_list("points", flat=True)) == 6
    assert ledger_differences() == []


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_many_members_of_one_branch_at_once_lose_no_update(tree):
    members = [MemberFactory(organization=tree.branch_a1) for _ in range(10)]
    results = run_concurrently(
        [
            lambda m=m, i=i: points_award(
                member=m, rule_code="exam_passed", key=f"exam:{m.pk}:{i}", occurred_at=NOON
            )
            for m in members
            for i in range(5)
        ]
    )
    assert all(result.created for result in results)
    week = BranchPeriodTotal.objects.get(branch=tree.branch_a1, period=Period.WEEK)
    assert (week.points, week.active_members) == (500, 10)
    assert ledger_differences() == []
