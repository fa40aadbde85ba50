"""Leaderboard periods in local time: pure functions, no database.

A "day" is a calendar day in ``Asia/Shanghai``; a week starts on Monday; quarters start
in January, April, July and October. Every award is counted in one row per period kind
(day, week, month, quarter, year, all time), keyed by the period's first day.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db import models
from django.utils.translation import gettext_lazy as _

# All-time totals are keyed by a fixed start date that precedes every award.
ALL_TIME_START = datetime.date(2000, 1, 1)


class Period(models.TextChoices):
    DAY = "day", _("Today")
    WEEK = "week", _("This week")
    MONTH = "month", _("This month")
    QUARTER = "quarter", _("This quarter")
    YEAR = "year", _("This year")
    ALL = "all", _("All time")


STORED_PERIODS: tuple[str, ...] = tuple(Period.values)


@dataclass(frozen=True)
class DateRange:
    """An inclusive range of local dates; ``kind`` is a ``Period`` value or ``"custom"``."""

    kind: str
    start: datetime.date
    end: datetime.date

    @property
    def is_stored(self) -> bool:
        """True when totals for exactly this range are kept (not a custom range)."""
        return self.kind in STORED_PERIODS

    def days(self) -> int:
        return (self.end - self.start).days + 1


def period_start(kind: str, day: datetime.date) -> datetime.date:
    """The first day of the period of ``kind`` that contains ``day``."""
    if kind == Period.DAY:
        return day
    if kind == Period.WEEK:
        return day - datetime.timedelta(days=day.weekday())
    if kind == Period.MONTH:
        return day.replace(day=1)
    if kind == Period.QUARTER:
        return day.replace(month=(day.month - 1) // 3 * 3 + 1, day=1)
    if kind == Period.YEAR:
        return day.replace(month=1, day=1)
    if kind == Period.ALL:
        return ALL_TIME_START
    raise ValueError(f"unknown period kind: {kind!r}")


def period_end(kind: str, day: datetime.date) -> datetime.date:
    """The last day of the period of ``kind`` that contains ``day`` (all time: ``day``)."""
    start = period_start(kind, day)
    if kind == Period.DAY:
        return start
    if kind == Period.WEEK:
        return start + datetime.timedelta(days=6)
    if kind == Period.MONTH:
        return _add_months(start, 1) - datetime.timedelta(days=1)
    if kind == Period.QUARTER:
        return _add_months(start, 3) - datetime.timedelta(days=1)
    if kind == Period.YEAR:
        return start.replace(year=start.year + 1) - datetime.timedelta(days=1)
    return day


def period_range(kind: str, day: datetime.date) -> DateRange:
    """The whole period of ``kind`` that contains ``day``."""
    return DateRange(kind=kind, start=period_start(kind, day), end=period_end(kind, day))


def custom_range(start: datetime.date, end: datetime.date) -> DateRange:
    """Any inclusive range of days; raises ``ValueError`` when it ends before it starts."""
    if end < start:
        raise ValueError("the range ends before it starts")
    return DateRange(kind="custom", start=start, end=end)


def period_starts_for(day: datetime.date) -> list[tuple[str, datetime.date]]:
    """Each stored period kind with the start of its period containing ``day``."""
    return [(kind, period_start(kind, day)) for kind in STORED_PERIODS]


def headcount_day(date_range: DateRange, today: datetime.date) -> datetime.date:
    """The day whose membership counts for a range: its last day, or today if still running."""
    return min(date_range.end, today)


def _add_months(day: datetime.date, months: int) -> datetime.date:
    month_index = day.month - 1 + months
    return day.replace(year=day.year + month_index // 12, month=month_index % 12 + 1, day=1)
