"""Period bounds in local time: weeks start on Monday, quarters in Jan/Apr/Jul/Oct."""

from __future__ import annotations

import datetime
import zoneinfo

import pytest
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from learning.common.periods import (
    ALL_TIME_START,
    Period,
    custom_range,
    headcount_day,
    period_end,
    period_range,
    period_start,
)

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")


@pytest.mark.parametrize(
    ("kind", "day", "start", "end"),
    [
        (Period.DAY, "2026-03-31", "2026-03-31", "2026-03-31"),
        (Period.WEEK, "2026-11-26", "2026-11-23", "2026-11-29"),  # Thursday → Monday..Sunday
        (Period.WEEK, "2026-11-23", "2026-11-23", "2026-11-29"),  # a Monday starts its week
        (Period.WEEK, "2026-11-29", "2026-11-23", "2026-11-29"),  # a Sunday ends it
        (Period.WEEK, "2027-01-01", "2026-12-28", "2027-01-03"),  # across a new year
        (Period.MONTH, "2024-02-29", "2024-02-01", "2024-02-29"),  # leap February
        (Period.MONTH, "2026-12-15", "2026-12-01", "2026-12-31"),
        (Period.QUARTER, "2026-03-31", "2026-01-01", "2026-03-31"),
        (Period.QUARTER, "2026-04-01", "2026-04-01", "2026-06-30"),
        (Period.QUARTER, "2026-12-31", "2026-10-01", "2026-12-31"),
        (Period.YEAR, "2026-07-04", "2026-01-01", "2026-12-31"),
        (Period.ALL, "2026-07-04", ALL_TIME_START.isoformat(), "2026-07-04"),
    ],
)
def test_period_bounds(kind: str, day: str, start: str, end: str) -> None:
    date_range = period_range(kind, datetime.date.fromisoformat(day))
    assert (date_range.start.isoformat(), date_range.end.isoformat()) == (start, end)


@given(
    kind=st.sampled_from([Period.DAY, Period.WEEK, Period.MONTH, Period.QUARTER, Period.YEAR]),
    day=st.dates(min_value=datetime.date(2001, 1, 1), max_value=datetime.date(2099, 12, 31)),
)
def test_every_day_lies_in_exactly_one_period_of_each_kind(kind: str, day: datetime.date) -> None:
    start, end = period_start(kind, day), period_end(kind, day)
    assert start <= day <= end
    # The day before the start and the day after the end belong to other periods.
    assert period_start(kind, start - datetime.timedelta(days=1)) != start
    assert period_start(kind, end + datetime.timedelta(days=1)) == end + datetime.timedelta(days=1)


def test_midnight_in_shanghai_is_the_day_boundary_not_utc_midnight() -> None:
    # 23:59:59 on Sunday in Shanghai is still that week; one second later a new week starts,
    # although in UTC both instants fall on Sunday afternoon.
    late_sunday = datetime.datetime(2026, 11, 29, 23, 59, 59, tzinfo=SHANGHAI)
    monday = late_sunday + datetime.timedelta(seconds=1)
    assert late_sunday.astimezone(datetime.UTC).date() == monday.astimezone(datetime.UTC).date()
    assert period_start(Period.WEEK, timezone.localdate(late_sunday)) == datetime.date(2026, 11, 23)
    assert period_start(Period.WEEK, timezone.localdate(monday)) == datetime.date(2026, 11, 30)
    # A quarter starts at local midnight on 1 April (16:00 UTC on 31 March).
    quarter_start = datetime.datetime(2026, 4, 1, 0, 0, tzinfo=SHANGHAI)
    assert quarter_start.astimezone(datetime.UTC).date() == datetime.date(2026, 3, 31)
    assert period_start(Period.QUARTER, timezone.localdate(quarter_start)) == datetime.date(
        2026, 4, 1
    )


def test_custom_range_must_not_end_before_it_starts() -> None:
    with pytest.raises(ValueError):
        custom_range(datetime.date(2026, 5, 2), datetime.date(2026, 5, 1))
    assert custom_range(datetime.date(2026, 5, 1), datetime.date(2026, 5, 1)).days() == 1


def test_a_running_period_counts_members_as_of_today() -> None:
    today = datetime.date(2026, 11, 26)
    assert headcount_day(period_range(Period.MONTH, today), today) == today
    last_month = period_range(Period.MONTH, datetime.date(2026, 10, 5))
    assert headcount_day(last_month, today) == datetime.date(2026, 10, 31)
