"""The error of the quiz engine's services: a request the member can fix or must accept.

Every service of ``quizzes.taking`` raises ``AttemptError`` with a message for the member
and a stable ``code`` for the API (docs/api.md lists them); views turn it into a message
on the page or a 400 with that code (429 with ``Retry-After`` when the member must wait).
"""

from __future__ import annotations


class AttemptError(Exception):
    """A request the member can fix or must accept; ``message`` is for them."""

    def __init__(self, message: str, code: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        # Seconds until the same request may succeed (``throttled``, ``too_soon``).
        self.retry_after = retry_after
