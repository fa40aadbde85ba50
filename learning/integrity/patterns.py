"""Study patterns that become flags: the nightly job's signals (not refusals).

The heartbeats keep the numbers on ``StudyDay`` as they credit study
(``learning.study.progress``); once a day ``study_patterns_flag`` reads the day before:

- **Hours at machine-regular intervals**: a run of credited heartbeats of at least
  ``DANGJIAN_REGULAR_RUN_MINUTES`` without a pause, its intervals within
  ``DANGJIAN_REGULAR_SPREAD_MS`` of each other. The lesson page counts a member as active
  only within 90 s of a touch, scroll or key, so such a run needs a person to interact at
  least every 90 s for hours on end, or a script.
- **Study through the night**: at least ``DANGJIAN_NIGHT_MINUTES`` of study between 00:00
  and 05:00 on at least ``DANGJIAN_NIGHT_DAYS`` of the last ``DANGJIAN_NIGHT_WINDOW_DAYS``
  days, one of them this ISO week; one flag per member per week, and nights a reviewer
  has already decided on are not counted again.

Nothing is held (study points are awarded as the study happens): dismissing changes
nothing; confirming reverses the ``study_time`` points of the days concerned, with the
reviewer's reason. Raising is idempotent, so the job may run twice.
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db.models import Count, Q
from django.utils.translation import gettext as _

from learning.integrity.services import flag_raise
from learning.integrity.subjects import SubjectType, subject_key, subject_type_register
from learning.models import IntegrityFlag, Member, PointsEntry, StudyDay
from learning.points.ledger import points_reverse

STUDY_DAY = "study-day"
STUDY_NIGHTS = "study-nights"

Kind = IntegrityFlag.Kind


def study_patterns_flag(*, day: datetime.date) -> int:
    """Raise the flags of ``day``'s study patterns; how many were new."""
    return _regular_runs(day) + _nights(day)


def _regular_runs(day: datetime.date) -> int:
    days = StudyDay.objects.filter(
        day=day,
        longest_run_seconds__gte=settings.DANGJIAN_REGULAR_RUN_MINUTES * 60,
        longest_run_beats__gte=2,
        longest_run_gap_spread_ms__lte=settings.DANGJIAN_REGULAR_SPREAD_MS,
    ).select_related("member")
    raised = 0
    for study_day in days:
        _flag, created = flag_raise(
            member=study_day.member,
            kind=Kind.REGULAR_BEATS,
            subject_key=subject_key(STUDY_DAY, day.isoformat()),
            subject_label=_("Study on %(day)s") % {"day": day.isoformat()},
            evidence={
                "run_minutes": study_day.longest_run_seconds // 60,
                "spread_ms": study_day.longest_run_gap_spread_ms,
                "beats": study_day.longest_run_beats,
                "dates": [day.isoformat()],
            },
        )
        raised += created
    return raised


def _nights(day: datetime.date) -> int:
    window = settings.DANGJIAN_NIGHT_WINDOW_DAYS
    start = day - datetime.timedelta(days=window - 1)
    night = Q(night_seconds__gte=settings.DANGJIAN_NIGHT_MINUTES * 60)
    members = (
        StudyDay.objects.filter(night, day__gte=start, day__lte=day)
        .values("member_id")
        .annotate(nights=Count("pk"))
        .filter(nights__gte=settings.DANGJIAN_NIGHT_DAYS)
    )
    counts = {row["member_id"]: row["nights"] for row in members}
    if not counts:
        return 0
    year, week, _weekday = day.isocalendar()
    raised = 0
    for member in Member.objects.filter(pk__in=counts):
        decided = {
            date
            for flag in IntegrityFlag.objects.filter(member=member, kind=Kind.NIGHT_STUDY)
            .exclude(status=IntegrityFlag.Status.OPEN)
            .only("evidence")
            for date in _dates(flag)
        }
        nights = [
            night
            for night in StudyDay.objects.filter(night, member=member, day__gte=start, day__lte=day)
            .order_by("day")
            .values_list("day", flat=True)
            if night not in decided  # nights a reviewer has judged are not judged again
        ]
        this_week = any(night.isocalendar()[:2] == (year, week) for night in nights)
        if len(nights) < settings.DANGJIAN_NIGHT_DAYS or not this_week:
            continue
        _flag, created = flag_raise(
            member=member,
            kind=Kind.NIGHT_STUDY,
            subject_key=subject_key(STUDY_NIGHTS, f"{year}-W{week:02d}"),
            subject_label=_("Study at night up to %(day)s") % {"day": day.isoformat()},
            evidence={
                "nights": len(nights),
                "days": window,
                "dates": [night.isoformat() for night in nights],
            },
        )
        raised += created
    return raised


def _dates(flag: IntegrityFlag) -> list[datetime.date]:
    values = (flag.evidence or {}).get("dates") or []
    dates = []
    for value in values if isinstance(values, list) else []:
        try:
            dates.append(datetime.date.fromisoformat(str(value)))
        except ValueError:
            continue
    return dates


def _dismissed(flag: IntegrityFlag, by: Member) -> None:
    """Nothing was held: the study stands as awarded."""


def _confirmed(flag: IntegrityFlag, by: Member) -> None:
    """The ``study_time`` points of the flagged days are reversed with the reason."""
    reason = _("Integrity review: %(note)s") % {"note": flag.review_note}
    entries = PointsEntry.objects.filter(
        member_id=flag.member_id,
        rule__code="study_time",
        local_date__in=_dates(flag),
        reverses__isnull=True,
        reversed_by__isnull=True,
    ).order_by("pk")
    for entry in entries:
        points_reverse(entry=entry, reason=reason, by=by)


def _context(flag: IntegrityFlag) -> list[tuple[str, str]]:
    """The member's study over the 30 days before: days, minutes a day, longest run."""
    dates = _dates(flag) or [flag.raised_at.date()]
    end = min(dates)
    days = StudyDay.objects.filter(
        member_id=flag.member_id,
        day__gte=end - datetime.timedelta(days=30),
        day__lt=end,
        seconds__gt=0,
    )
    rows = list(days.values_list("seconds", "longest_run_seconds", "night_seconds"))
    if not rows:
        return [(_("Days of study in the 30 days before"), "0")]
    minutes = sum(row[0] for row in rows) / 60 / len(rows)
    return [
        (_("Days of study in the 30 days before"), str(len(rows))),
        (_("Minutes of study a day usually"), f"{minutes:.0f}"),
        (_("Longest run usually (minutes)"), f"{max(row[1] for row in rows) / 60:.0f}"),
        (_("Days with night study"), str(sum(1 for row in rows if row[2]))),
    ]


def study_subjects_register() -> None:
    for prefix in (STUDY_DAY, STUDY_NIGHTS):
        subject_type_register(
            SubjectType(prefix=prefix, dismissed=_dismissed, confirmed=_confirmed, context=_context)
        )
