"""``points_award_many``: many awards at once (the demo's days of study), each exactly as
``points_award`` would make it: caps, keys and totals, in order; on PostgreSQL in one
pipeline, undone and redone one by one when a concurrent award takes a key.
"""

from __future__ import annotations

import datetime
import threading
import time
import zoneinfo

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from learning.models import Member, MemberRuleDayPoints, PointsEntry
from learning.points.ledger import AwardRequest, AwardStatus, points_award, points_award_many
from learning.points.ledger_check import ledger_differences
from tests.factories.people import MemberFactory

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
NOON = datetime.datetime(2026, 11, 26, 12, 0, tzinfo=SHANGHAI)


def _requests(first: Member, second: Member) -> list[AwardRequest]:
    """Two members' awards, with a cap reached inside the batch and a key given twice."""
    return [
        AwardRequest(member=first, rule_code="study_time", key="a1", quantity=4, occurred_at=NOON),
        AwardRequest(member=second, rule_code="study_time", key="b1", occurred_at=NOON),
        AwardRequest(member=first, rule_code="study_time", key="a2", quantity=4, occurred_at=NOON),
        AwardRequest(member=first, rule_code="study_time", key="a3", occurred_at=NOON),
        AwardRequest(member=second, rule_code="lesson_completed", key="b2", occurred_at=NOON),
        AwardRequest(member=second, rule_code="lesson_completed", key="b2", occurred_at=NOON),
        AwardRequest(
            member=first,
            rule_code="study_time",
            key="a4",
            occurred_at=NOON + datetime.timedelta(days=1),
        ),
    ]


def test_a_batch_awards_exactly_what_one_award_at_a_time_does(tree):
    first, second = (MemberFactory(organization=tree.group_a1) for _ in range(2))
    batch = [(r.status, r.points) for r in points_award_many(awards=_requests(first, second))]
    batch_rows = sorted(
        MemberRuleDayPoints.objects.values_list("member_id", "rule__code", "day", "points")
    )
    assert batch == [
        (AwardStatus.AWARDED, 4),
        (AwardStatus.AWARDED, 1),
        (AwardStatus.PARTIAL, 2),  # study_time's cap is 6 a day
        (AwardStatus.CAPPED, 0),
        (AwardStatus.AWARDED, 1),
        (AwardStatus.DUPLICATE, 1),
        (AwardStatus.AWARDED, 1),  # the next day starts afresh
    ]
    assert ledger_differences() == []

    # The same awards one by one, for two other members, come out the same.
    third, fourth = (MemberFactory(organization=tree.group_a1) for _ in range(2))
    renamed = {first.pk: third, second.pk: fourth}
    single = [
        points_award(
            member=renamed[r.member.pk],
            rule_code=r.rule_code,
            key=f"again:{r.key}",
            quantity=r.quantity,
            occurred_at=r.occurred_at,
        )
        for r in _requests(first, second)
    ]
    assert [(r.status, r.points) for r in single] == batch
    single_rows = sorted(
        MemberRuleDayPoints.objects.filter(member__in=[third, fourth]).values_list(
            "member_id", "rule__code", "day", "points"
        )
    )
    by_member = {third.pk: first.pk, fourth.pk: second.pk}
    assert [(by_member[m], *rest) for m, *rest in single_rows] == [
        row for row in batch_rows if row[0] in by_member.values()
    ]
    assert ledger_differences() == []


def test_an_award_with_a_bad_argument_stops_the_batch_before_anything_is_written(tree):
    member = MemberFactory(organization=tree.branch_a1)
    requests = [
        AwardRequest(member=member, rule_code="study_time", key="fine", occurred_at=NOON),
        AwardRequest(member=member, rule_code="study_time", key="", occurred_at=NOON),
    ]
    with pytest.raises(ValueError, match="idempotency key"):
        points_award_many(awards=requests)
    assert not PointsEntry.objects.exists()


def test_an_unknown_rule_in_a_batch_is_an_error(tree):
    member = MemberFactory(organization=tree.branch_a1)
    with pytest.raises(ValueError, match="unknown points rule"):
        points_award_many(awards=[AwardRequest(member=member, rule_code="no_such_rule", key="k")])


def test_a_caller_that_catches_a_failed_batch_carries_on_with_nothing_of_it_written(tree):
    member = MemberFactory(organization=tree.branch_a1)
    requests = [
        AwardRequest(member=member, rule_code="study_time", key="fine", occurred_at=NOON),
        AwardRequest(member=member, rule_code="no_such_rule", key="bad", occurred_at=NOON),
    ]
    with transaction.atomic():
        with pytest.raises(ValueError, match="unknown points rule"):
            points_award_many(awards=requests)
        # The caller's transaction is still usable, and the batch left nothing behind.
        assert not PointsEntry.objects.exists()
        points_award(member=member, rule_code="study_time", key="after", occurred_at=NOON)
    assert list(PointsEntry.objects.values_list("idempotency_key", flat=True)) == ["after"]
    assert ledger_differences() == []


def test_an_empty_batch_does_nothing(tree):
    with CaptureQueriesContext(connection) as queries:
        assert points_award_many(awards=[]) == []
    assert [q for q in queries if not q["sql"].startswith(("SAVEPOINT", "RELEASE"))] == []


@pytest.mark.postgres
def test_on_postgresql_a_batch_is_one_savepoint_around_its_statements(tree):
    """Not a savepoint, a statement and a release per award: one pipeline for all."""
    members = [MemberFactory(organization=tree.group_a1) for _ in range(5)]
    requests = [
        AwardRequest(member=member, rule_code="lesson_completed", key=f"k{i}", occurred_at=NOON)
        for i, member in enumerate(members)
    ]
    with CaptureQueriesContext(connection) as queries:
        results = points_award_many(awards=requests)
    assert [r.status for r in results] == [AwardStatus.AWARDED] * 5
    statements = [q["sql"] for q in queries]
    # The batch's own savepoint (Django's), then the pipeline's around the five awards.
    assert statements[0].startswith('SAVEPOINT "')
    assert statements[1] == "SAVEPOINT dangjian_awards"
    assert statements[-2] == "RELEASE SAVEPOINT dangjian_awards"
    assert statements[-1].startswith('RELEASE SAVEPOINT "')
    assert len(statements) == 5 + 4
    assert ledger_differences() == []


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_key_taken_meanwhile_undoes_the_pipeline_and_awards_the_rest_one_by_one(tree):
    """Another request holds the key (not yet committed) while a batch reaches it: the
    batch waits, fails on the key when the other commits, and is made again one by one:
    that award a duplicate, the others awarded, the caller's transaction still usable."""
    member = MemberFactory(organization=tree.branch_a1)
    # In another branch: the holder's award locks its own branch's totals too.
    other = MemberFactory(organization=tree.branch_a2)
    holding = threading.Event()
    errors: list[BaseException] = []

    def hold_the_key() -> None:
        try:
            with transaction.atomic():
                points_award(member=member, rule_code="exam_passed", key="attempt:1")
                holding.set()
                _wait_until_someone_waits_for_a_lock()
        except BaseException as error:
            errors.append(error)
            holding.set()
        finally:
            connection.close()

    holder = threading.Thread(target=hold_the_key)
    holder.start()
    assert holding.wait(10)
    requests = [
        AwardRequest(member=other, rule_code="study_time", key="before"),
        AwardRequest(member=member, rule_code="exam_passed", key="attempt:1"),
        AwardRequest(member=other, rule_code="lesson_completed", key="after"),
    ]
    with transaction.atomic(), CaptureQueriesContext(connection) as queries:
        results = points_award_many(awards=requests)
        still_usable = Member.objects.filter(pk=member.pk).count()
    holder.join()

    assert errors == []
    assert [r.status for r in results] == [
        AwardStatus.AWARDED,
        AwardStatus.DUPLICATE,
        AwardStatus.AWARDED,
    ]
    assert still_usable == 1
    assert any(q["sql"].startswith("ROLLBACK TO SAVEPOINT dangjian_awards") for q in queries)
    assert sorted(PointsEntry.objects.values_list("idempotency_key", flat=True)) == [
        "after",
        "attempt:1",
        "before",
    ]
    assert ledger_differences() == []


def _wait_until_someone_waits_for_a_lock() -> None:
    """Poll, from the holder's own connection, until a backend of this database waits
    on a lock (the batch, on the key's rule-day row)."""
    deadline = time.monotonic() + 10
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
            if cursor.fetchone()[0]:
                return
            time.sleep(0.02)
