"""The points ledger: caps, idempotency, reversals, append-only rows, totals, check_ledger."""

from __future__ import annotations

import datetime
import zoneinfo

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction
from django.test import TestCase

from learning.common.periods import Period
from learning.models import (
    BranchPeriodTotal,
    MemberPeriodPoints,
    PointsEntry,
    PointsRule,
)
from learning.models.points import LedgerAppendOnlyError
from learning.people import services
from learning.points.ledger import AwardStatus, points_award, points_reverse
from learning.points.ledger_check import ledger_differences
from tests.factories.people import MemberFactory

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
NOON = datetime.datetime(2026, 11, 26, 12, 0, tzinfo=SHANGHAI)


@pytest.fixture
def member(tree):
    return MemberFactory(organization=tree.branch_a1, joined_on=datetime.date(2026, 1, 1))


def award(member, rule="lesson_completed", key="k", **kwargs):
    kwargs.setdefault("occurred_at", NOON)
    return points_award(member=member, rule_code=rule, key=key, **kwargs)


def test_default_rules_reward_learning_and_leave_check_ins_off(db):
    rules = {rule.code: rule for rule in PointsRule.objects.all()}
    assert rules["lesson_completed"].points == 1 and rules["lesson_completed"].daily_cap == 6
    assert rules["study_time"].daily_cap == 6
    assert rules["daily_quiz_correct"].daily_cap == 5
    assert rules["weekly_quiz"].max_points_per_award == 5
    assert rules["topic_quiz"].max_points_per_award == 10
    assert rules["exam_passed"].points == 10
    assert rules["wrong_answers_mastered"].daily_cap == 2
    assert rules["daily_login"].is_active is False


def test_award_records_member_branch_day_and_source(member, tree):
    result = award(member, key="lesson:1", source=tree.branch_a1, note="第一课")
    assert result.status == AwardStatus.AWARDED and result.points == 1
    entry = PointsEntry.objects.get(pk=result.entry.pk)
    assert entry.organization == tree.branch_a1 and entry.branch == tree.branch_a1
    assert entry.local_date == datetime.date(2026, 11, 26)
    assert entry.source == tree.branch_a1
    assert entry.created_by is None


def test_same_key_awards_once(member):
    first = award(member, key="lesson:1")
    second = award(member, key="lesson:1")
    assert second.status == AwardStatus.DUPLICATE
    assert second.entry.pk == first.entry.pk
    assert PointsEntry.objects.count() == 1


def test_daily_cap_gives_a_partial_award_then_nothing(member):
    results = [award(member, rule="study_time", key=f"t{i}", quantity=4) for i in range(3)]
    assert [(r.status, r.points) for r in results] == [
        (AwardStatus.AWARDED, 4),
        (AwardStatus.PARTIAL, 2),
        (AwardStatus.CAPPED, 0),
    ]
    assert results[2].entry is None
    assert sum(PointsEntry.objects.values_list("points", flat=True)) == 6


def test_cap_is_per_local_day(member):
    late = datetime.datetime(2026, 11, 26, 23, 59, tzinfo=SHANGHAI)
    early = datetime.datetime(2026, 11, 27, 0, 1, tzinfo=SHANGHAI)
    assert (
        award(member, rule="wrong_answers_mastered", key="a", quantity=2, occurred_at=late).points
        == 2
    )
    assert award(member, rule="wrong_answers_mastered", key="b", occurred_at=late).points == 0
    assert award(member, rule="wrong_answers_mastered", key="c", occurred_at=early).points == 1


def test_most_points_per_award_limits_score_based_rules(member):
    assert award(member, rule="weekly_quiz", key="w", quantity=9).points == 5


def test_inactive_rule_awards_nothing(member):
    result = award(member, rule="daily_login", key="login")
    assert result.status == AwardStatus.INACTIVE_RULE and not PointsEntry.objects.exists()


def test_unknown_rule_and_bad_quantity_are_programming_errors(member):
    with pytest.raises(ValueError):
        award(member, rule="no_such_rule")
    with pytest.raises(ValueError):
        award(member, quantity=0)
    assert not PointsEntry.objects.exists()


def test_member_without_organisation_gets_nothing(db):
    loner = MemberFactory(organization=None)
    assert award(loner).status == AwardStatus.NO_ORGANIZATION


def test_points_of_a_group_member_count_for_the_branch(tree):
    grouped = MemberFactory(organization=tree.group_a1)
    entry = award(grouped).entry
    assert entry.organization == tree.group_a1 and entry.branch == tree.branch_a1


def test_transfer_keeps_past_points_with_the_old_branch(member, tree):
    award(member, key="before", occurred_at=datetime.datetime(2026, 11, 2, 9, tzinfo=SHANGHAI))
    services.member_transfer(member=member, to=tree.branch_b1, on=datetime.date(2026, 11, 10))
    award(member, key="after", occurred_at=datetime.datetime(2026, 11, 12, 9, tzinfo=SHANGHAI))
    month = BranchPeriodTotal.objects.filter(period=Period.MONTH, start=datetime.date(2026, 11, 1))
    assert dict(month.values_list("branch_id", "points")) == {
        tree.branch_a1.pk: 1,
        tree.branch_b1.pk: 1,
    }
    assert dict(month.values_list("branch_id", "active_members")) == {
        tree.branch_a1.pk: 1,
        tree.branch_b1.pk: 1,
    }
    assert ledger_differences() == []


def test_totals_are_kept_for_every_period(member, tree):
    award(member, key="a", quantity=1)
    award(member, rule="exam_passed", key="b")
    rows = MemberPeriodPoints.objects.filter(member=member)
    assert {(row.period, row.start.isoformat(), row.points) for row in rows} == {
        ("day", "2026-11-26", 11),
        ("week", "2026-11-23", 11),
        ("month", "2026-11-01", 11),
        ("quarter", "2026-10-01", 11),
        ("year", "2026-01-01", 11),
        ("all", "2000-01-01", 11),
    }
    branch_rows = BranchPeriodTotal.objects.filter(branch=tree.branch_a1)
    assert {(row.period, row.points, row.active_members) for row in branch_rows} == {
        (kind, 11, 1) for kind in Period.values
    }


def test_reversal_cancels_the_points_and_the_activity(member, tree, administrator):
    entry = award(member, rule="exam_passed", key="exam").entry
    reversal = points_reverse(entry=entry, reason="成绩作废", by=administrator)
    assert (
        reversal.points == -10
        and reversal.reverses == entry
        and reversal.created_by == administrator
    )
    day = BranchPeriodTotal.objects.get(branch=tree.branch_a1, period=Period.DAY)
    assert (day.points, day.active_members) == (0, 0)
    assert ledger_differences() == []


def test_an_entry_is_reversed_once_and_a_reason_is_required(member, administrator):
    entry = award(member, rule="exam_passed", key="exam").entry
    with pytest.raises(ValidationError):
        points_reverse(entry=entry, reason="  ", by=administrator)
    reversal = points_reverse(entry=entry, reason="重复发放", by=administrator)
    with pytest.raises(ValidationError):
        points_reverse(entry=entry, reason="again", by=administrator)
    with pytest.raises(ValidationError):
        points_reverse(entry=reversal, reason="undo", by=administrator)
    assert PointsEntry.objects.count() == 2


def test_reversal_frees_the_daily_cap_of_that_day(member, administrator):
    entries = [award(member, rule="wrong_answers_mastered", key=f"w{i}").entry for i in range(2)]
    assert award(member, rule="wrong_answers_mastered", key="w3").status == AwardStatus.CAPPED
    points_reverse(entry=entries[0], reason="误判", by=administrator)
    assert award(member, rule="wrong_answers_mastered", key="w4").points == 1


def test_the_model_refuses_to_change_or_delete_entries(member):
    entry = award(member).entry
    entry.points = 100
    with pytest.raises(LedgerAppendOnlyError):
        entry.save()
    with pytest.raises(LedgerAppendOnlyError):
        entry.delete()
    with pytest.raises(LedgerAppendOnlyError):
        PointsEntry.objects.filter(pk=entry.pk).update(points=100)
    with pytest.raises(LedgerAppendOnlyError):
        PointsEntry.objects.all().delete()


def test_the_database_refuses_raw_updates_and_deletes(member):
    entry = award(member).entry
    for statement in (
        "UPDATE learning_pointsentry SET points = 100 WHERE id = %s",
        "DELETE FROM learning_pointsentry WHERE id = %s",
    ):
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement, [entry.pk])
    assert PointsEntry.objects.get(pk=entry.pk).points == 1


def test_check_ledger_is_clean_then_names_a_tampered_total(member, tree, capsys):
    award(member, key="a")
    call_command("check_ledger")
    assert "OK" in capsys.readouterr().out
    BranchPeriodTotal.objects.filter(branch=tree.branch_a1, period=Period.WEEK).update(points=7)
    with pytest.raises(CommandError):
        call_command("check_ledger")
    assert "branch points (week)" in capsys.readouterr().err


def test_check_ledger_notices_a_wrong_headcount(member, tree):
    from learning.models import HeadcountChange

    assert ledger_differences() == []
    HeadcountChange.objects.filter(organization=tree.branch_a1).update(delta=5)
    assert any("headcount" in line for line in ledger_differences())


def test_nightly_task_checks_the_ledger_and_logs_differences(member, tree, caplog, settings):
    from learning.tasks import check_ledger

    assert settings.CELERY_BEAT_SCHEDULE["check-ledger-nightly"]["task"] == "learning.check_ledger"
    award(member, key="a")
    assert check_ledger.delay().get() == 0
    BranchPeriodTotal.objects.filter(branch=tree.branch_a1, period=Period.DAY).update(points=9)
    with caplog.at_level("ERROR", logger="learning.tasks"):
        assert check_ledger.delay().get() >= 1
    assert "branch points (day)" in caplog.text


def test_backdated_award_lands_where_the_member_was_that_day(tree):
    member = MemberFactory(organization=tree.branch_a1, joined_on=datetime.date(2026, 1, 1))
    services.member_transfer(member=member, to=tree.branch_b1, on=datetime.date(2026, 11, 20))
    before = award(
        member, key="late", occurred_at=datetime.datetime(2026, 11, 19, 9, tzinfo=SHANGHAI)
    )
    after = award(
        member, key="now", occurred_at=datetime.datetime(2026, 11, 21, 9, tzinfo=SHANGHAI)
    )
    assert before.entry.branch == tree.branch_a1
    assert after.entry.branch == tree.branch_b1


def test_a_key_reused_for_another_member_is_an_error_not_a_silent_skip(member, tree):
    award(member, key="attempt:7")
    other = MemberFactory(organization=tree.branch_a1)
    with pytest.raises(ValueError):
        award(other, key="attempt:7")
    with pytest.raises(ValueError):
        award(member, rule="exam_passed", key="attempt:7")


def test_rule_limits_of_zero_are_refused(db):
    rule = PointsRule(code="x", name="x", points=1, max_points_per_award=0, daily_cap=0)
    with pytest.raises(ValidationError) as error:
        rule.full_clean()
    assert {"max_points_per_award", "daily_cap"} <= set(error.value.message_dict)


def test_a_cache_outage_after_commit_does_not_fail_the_award(member, monkeypatch):
    from django.core.cache import cache

    def broken(*args, **kwargs):
        raise ConnectionError("cache down")

    monkeypatch.setattr(cache, "set_many", broken)
    with TestCase.captureOnCommitCallbacks(execute=True):
        result = award(member, key="a")
    assert result.created and PointsEntry.objects.count() == 1


def test_guards_come_back_after_a_migration_drops_them(member):
    from django.apps import apps

    from learning.points.db import (
        POSTGRESQL_UNINSTALL,
        SQLITE_UNINSTALL,
        ledger_guards_after_migrate,
    )

    UNINSTALL = {"postgresql": [POSTGRESQL_UNINSTALL], "sqlite": SQLITE_UNINSTALL}  # noqa: N806

    entry = award(member).entry
    with connection.cursor() as cursor:
        for statement in UNINSTALL[connection.vendor]:
            cursor.execute(statement)
    ledger_guards_after_migrate(apps.get_app_config("learning"), using="default")
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE learning_pointsentry SET points = 5 WHERE id = %s", [entry.pk])
