"""How ``points_award`` talks to the database: one statement on PostgreSQL, callers'
transactions kept usable when a concurrent award takes the key, and the screen version
bump through Redis that ``cache.get`` reads back.
"""

from __future__ import annotations

import datetime
import os
import threading
import zoneinfo

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from learning.common import redis_cache as fast_cache
from learning.common import versions
from learning.models import Member, MemberRuleDayPoints, PointsEntry
from learning.points.ledger import AwardStatus, points_award
from learning.points.ledger_check import ledger_differences
from tests.factories.people import MemberFactory

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
NOON = datetime.datetime(2026, 11, 26, 12, 0, tzinfo=SHANGHAI)


@pytest.mark.postgres
def test_an_award_is_one_statement_on_postgresql(tree):
    member = MemberFactory(organization=tree.group_a1)
    with CaptureQueriesContext(connection) as queries:
        result = points_award(
            member=member, rule_code="lesson_completed", key="one", occurred_at=NOON
        )
    statements = [q["sql"] for q in queries if not q["sql"].startswith(("SAVEPOINT", "RELEASE"))]
    assert result.status == AwardStatus.AWARDED
    assert len(statements) == 1
    assert result.entry.branch == tree.branch_a1


def test_the_cap_row_caps_and_reports_each_award(tree):
    member = MemberFactory(organization=tree.branch_a1)
    results = [
        points_award(
            member=member, rule_code="study_time", key=f"s{index}", quantity=4, occurred_at=NOON
        )
        for index in range(3)
    ]
    assert [(r.status, r.points) for r in results] == [
        (AwardStatus.AWARDED, 4),
        (AwardStatus.PARTIAL, 2),
        (AwardStatus.CAPPED, 0),
    ]
    row = MemberRuleDayPoints.objects.get(member=member, rule__code="study_time")
    assert row.points == 6 == sum(PointsEntry.objects.values_list("points", flat=True))
    if connection.vendor == "postgresql":
        assert row.last_change == 0  # the capped award wrote the row too, adding nothing


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_taken_key_leaves_the_callers_transaction_usable(tree):
    """Callers (a quiz submission, say) award inside their own transaction; when another
    request takes the key first, they get the earlier entry and carry on.
    """
    member = MemberFactory(organization=tree.branch_a1)
    barrier = threading.Barrier(8)
    outcomes: list[tuple[str, int]] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def submit() -> None:
        try:
            barrier.wait()
            with transaction.atomic():
                result = points_award(
                    member=member, rule_code="exam_passed", key="attempt:1", occurred_at=NOON
                )
                still_usable = Member.objects.filter(pk=member.pk).count()
            with lock:
                outcomes.append((result.status, still_usable))
        except BaseException as error:
            with lock:
                errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=submit) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    statuses = sorted(status for status, _count in outcomes)
    assert statuses == [AwardStatus.AWARDED] + [AwardStatus.DUPLICATE] * 7
    assert all(count == 1 for _status, count in outcomes)
    assert PointsEntry.objects.count() == 1
    assert ledger_differences() == []


@pytest.mark.redis
def test_screen_versions_and_snapshots_through_one_redis_command_agree_with_the_cache(
    monkeypatch,
):
    from django.core.cache.backends.redis import RedisCache

    redis_cache = RedisCache(os.environ["REDIS_URL"], {"KEY_PREFIX": "dangjian-test"})
    monkeypatch.setattr(versions, "cache", redis_cache)
    monkeypatch.setattr(fast_cache, "cache", redis_cache)
    fast_cache._made_key.cache_clear()
    try:
        redis_cache.set(versions.LEDGER_VERSION_KEY.format(path="0001"), "old", None)
        versions.ledger_versions_touch("000100020003")
        stamps = {versions.ledger_version(path) for path in ("0001", "00010002", "000100020003")}
        assert len(stamps) == 1 and stamps != {"old"} and stamps.pop().isdigit()
        assert versions.ledger_version("0002") == "0"
        assert fast_cache.get_many(["nothing", versions.LEDGER_VERSION_KEY.format(path="0001")])
        fast_cache.set_many_forever({"snapshot": (b"body", '"etag"')})
        assert redis_cache.get("snapshot") == (b"body", '"etag"')
    finally:
        fast_cache._made_key.cache_clear()
        redis_cache.clear()


def test_awards_bump_screen_versions_together_soon_after_commit(settings):
    """Bumps collected for a moment and sent by one thread: one award or many, the
    versions of every subtree involved change within the flush interval."""
    import time

    settings.DANGJIAN_LEDGER_VERSION_FLUSH_SECONDS = 0.02
    before = {path: versions.ledger_version(path) for path in ("0001", "00010002", "00010003")}
    versions.ledger_versions_touch_soon("000100020001")
    versions.ledger_versions_touch_soon("00010003")
    deadline = time.monotonic() + 2
    while time.monotonic() < deadline:
        after = {path: versions.ledger_version(path) for path in before}
        if all(after[path] != before[path] for path in before):
            break
        time.sleep(0.01)
    assert all(after[path] != before[path] for path in before)
    assert versions.ledger_version("0002") == "0"


def test_with_no_flush_interval_the_bump_is_immediate(settings):
    settings.DANGJIAN_LEDGER_VERSION_FLUSH_SECONDS = 0
    before = versions.ledger_version("0009")
    versions.ledger_versions_touch_soon("00090001")
    assert versions.ledger_version("0009") != before
