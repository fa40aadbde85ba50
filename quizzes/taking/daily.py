"""The daily quiz and the challenge: the two quizzes the platform makes itself.

The daily quiz of a day is made by the beat task just after midnight, or by the first
member who starts it that day (a POST); pages and the API only read it
(``daily_quiz_of``), so a GET never writes. The challenge is the one editors set up, or a
default over the whole bank made when a member first starts one (a POST).
"""

from __future__ import annotations

import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from quizzes.models import DailyQuizSettings, Quiz, QuizDrawRule

# How many questions a challenge draws up front; it ends earlier at the first wrong answer.
CHALLENGE_LENGTH = 30


def daily_quiz_of(day: datetime.date | None = None) -> Quiz | None:
    """The daily quiz of a local day (today by default), if it has been made. Reads only."""
    return Quiz.objects.filter(kind=Quiz.Kind.DAILY, local_date=day or timezone.localdate()).first()


def daily_quiz_make(*, day: datetime.date | None = None) -> Quiz:
    """The daily quiz of a local day, made from the daily quiz settings if not made yet.

    Called by the beat task just after midnight and when a member starts the day's quiz
    (a POST); pages and the API only read it (``daily_quiz_of``): a GET never writes.
    """
    day = day or timezone.localdate()
    found = daily_quiz_of(day)
    if found is not None:
        return found
    config = DailyQuizSettings.current()
    zone = timezone.get_current_timezone()
    start = datetime.datetime.combine(day, datetime.time.min, tzinfo=zone)
    try:
        with transaction.atomic():
            quiz = Quiz.objects.create(
                title=_("Daily quiz %(day)s") % {"day": day.isoformat()},
                kind=Quiz.Kind.DAILY,
                is_published=True,
                local_date=day,
                opens_at=start,
                closes_at=start + datetime.timedelta(days=1),
                time_limit_minutes=config.time_limit_minutes,
                attempts_allowed=1,
                review=Quiz.Review.AFTER_EACH,
                shuffle_options=True,
            )
            QuizDrawRule.objects.create(
                quiz=quiz, category=config.category, count=config.question_count
            )
    except IntegrityError:
        return Quiz.objects.get(kind=Quiz.Kind.DAILY, local_date=day)
    return quiz


def challenge_quiz() -> Quiz:
    """The challenge editors set up, or a default one over the whole bank."""
    found = (
        Quiz.objects.filter(kind=Quiz.Kind.CHALLENGE, is_published=True)
        .order_by("-created_at")
        .first()
    )
    if found is not None:
        return found
    with transaction.atomic():
        quiz = Quiz.objects.create(
            title=_("Challenge"),
            kind=Quiz.Kind.CHALLENGE,
            is_published=True,
            attempts_allowed=0,
            review=Quiz.Review.AFTER_EACH,
            shuffle_options=True,
        )
        QuizDrawRule.objects.create(quiz=quiz, count=CHALLENGE_LENGTH)
    return quiz
