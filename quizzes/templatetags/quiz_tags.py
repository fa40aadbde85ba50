"""Template tags other apps' pages use to show the member's quizzes (the home page)."""

from __future__ import annotations

from typing import Any

from django import template

from quizzes.attempts import daily_quiz_for
from quizzes.models import Attempt

register = template.Library()


@register.simple_tag(takes_context=True)
def daily_quiz_status(context: dict[str, Any]) -> dict[str, Any] | None:
    """Today's daily quiz for the member: None when logged out, else its state."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return None
    quiz = daily_quiz_for()
    attempt = Attempt.objects.filter(quiz=quiz, member=user).order_by("-number").first()
    return {
        "quiz": quiz,
        "attempt": attempt,
        "done": bool(attempt and attempt.is_submitted),
        "started": attempt is not None,
    }
