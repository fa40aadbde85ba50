"""A person's pace: verdicts only for questions served, after reading them, at a human rate.

A verdict (right or wrong, with the correct answer) is what an answer-key harvester
wants; a person gets one after reading a question the page showed them. So:

- **Served first.** Practice gives a verdict only with the token the server issued when
  it showed that question to that member (``served_token``, signed with the secret key,
  so any web server can check it and nothing is stored). Questions of an attempt are
  served by the attempt itself.
- **Read first.** No verdict sooner than ``reading_seconds`` after the question was
  served (in an attempt: after it started, or after the previous verdict): its stem and
  options at ``DANGJIAN_READING_CHARS_PER_SECOND`` characters a second, several times a
  careful reader's pace, never under ``DANGJIAN_READING_FLOOR_SECONDS``. The pages wait
  and send again by themselves, so a member never sees this refusal.
- **At a human rate.** At most ``DANGJIAN_VERDICT_LIMIT`` verdicts per member in
  ``DANGJIAN_VERDICT_WINDOW`` (practice, the wrong-answer book and checks together, web
  and API alike); then 429 with ``Retry-After``.

docs/integrity.md explains each rule and its setting.
"""

from __future__ import annotations

import datetime
import math
from typing import Any

from django.conf import settings
from django.core import signing
from django.utils import timezone
from django.utils.html import strip_tags
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from learning.common.throttle import throttle_count
from learning.models import Member
from quizzes.taking.errors import AttemptError

SERVED_SALT = "quizzes.practice.served"


def question_characters(snapshot: dict[str, Any]) -> int:
    """The characters a person reads in a question: its stem and options, no tags or spaces."""
    characters = len("".join(strip_tags(snapshot.get("stem") or "").split()))
    for choice in snapshot.get("choices") or []:
        characters += len("".join(str(choice.get("text") or "").split()))
    return characters


def reading_seconds(snapshot: dict[str, Any]) -> float:
    """The least time a person needs to read a question: stem and options, with a floor."""
    return max(
        settings.DANGJIAN_READING_FLOOR_SECONDS,
        question_characters(snapshot) / max(1, settings.DANGJIAN_READING_CHARS_PER_SECOND),
    )


def reading_check(
    snapshot: dict[str, Any], *, since: datetime.datetime, now: datetime.datetime
) -> None:
    """Refuse (``too_soon``) a verdict sooner than the question's reading time after ``since``."""
    left = reading_seconds(snapshot) - (now - since).total_seconds()
    if left > 0:
        raise AttemptError(
            _("Read the whole question before confirming your answer."),
            "too_soon",
            retry_after=round(left, 2),
        )


def verdict_count(member: Member) -> None:
    """Count one verdict for ``member``; refuse (``throttled``) above the limit."""
    count, seconds_left = throttle_count(
        scope="verdicts", key=str(member.pk), window=settings.DANGJIAN_VERDICT_WINDOW
    )
    if count <= settings.DANGJIAN_VERDICT_LIMIT:
        return
    minutes = max(1, math.ceil(seconds_left / 60))
    raise AttemptError(
        ngettext(
            "You have checked many answers in a short time. Take a short break: you can go "
            "on in %(minutes)d minute.",
            "You have checked many answers in a short time. Take a short break: you can go "
            "on in %(minutes)d minutes.",
            minutes,
        )
        % {"minutes": minutes},
        "throttled",
        retry_after=seconds_left,
    )


def served_token(member: Member, question_id: int, *, at: datetime.datetime | None = None) -> str:
    """The token that says the server showed ``question_id`` to ``member`` (now, or ``at``)."""
    moment = (at or timezone.now()).timestamp()
    return signing.dumps(
        {"m": member.pk, "q": question_id, "t": round(moment, 3)}, salt=SERVED_SALT
    )


def served_at(token: Any, member: Member, question_id: int) -> datetime.datetime:
    """When ``question_id`` was served to ``member``, from its token; refused otherwise."""
    not_served = AttemptError(
        _("This question was not shown to you; open it again to practise it."), "not_served"
    )
    if not isinstance(token, str) or len(token) > 200:
        raise not_served
    try:
        payload = signing.loads(
            token,
            salt=SERVED_SALT,
            max_age=settings.DANGJIAN_SERVED_MAX_AGE.total_seconds(),
        )
    except signing.BadSignature:
        raise not_served from None
    if not isinstance(payload, dict) or payload.get("m") != member.pk:
        raise not_served
    if payload.get("q") != question_id or not isinstance(payload.get("t"), int | float):
        raise not_served
    return datetime.datetime.fromtimestamp(payload["t"], tz=datetime.UTC)
