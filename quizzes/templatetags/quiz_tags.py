"""Template tags other apps' pages use to show the member's quizzes (the home page)."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils import timezone

from quizzes.models import Attempt, Quiz

register = template.Library()


@register.simple_tag(takes_context=True)
def daily_quiz_status(context: dict[str, Any]) -> dict[str, Any] | None:
    """Today's daily quiz for the member: None when logged out, else its state."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return None
    # Only read: the quiz section (or the beat task) makes the day's quiz.
    attempt = (
        Attempt.objects.filter(
            quiz__kind=Quiz.Kind.DAILY, quiz__local_date=timezone.localdate(), member=user
        )
        .order_by("-number")
        .first()
    )
    return {
        "attempt": attempt,
        "done": bool(attempt and attempt.is_submitted),
        "started": attempt is not None,
    }
