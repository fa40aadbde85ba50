"""Moments and spans for test data: a local time in Shanghai, a number of days, minutes from now."""

from __future__ import annotations

import datetime
import zoneinfo

from django.utils import timezone

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")


def at(day: datetime.date, hour: int = 10) -> datetime.datetime:
    """``hour`` o'clock on ``day``, Shanghai time."""
    return datetime.datetime.combine(day, datetime.time(hour), tzinfo=SHANGHAI)


def days(n: int) -> datetime.timedelta:
    return datetime.timedelta(days=n)


def later(minutes: float) -> datetime.datetime:
    """``minutes`` from now (before now when negative)."""
    return timezone.now() + datetime.timedelta(minutes=minutes)
