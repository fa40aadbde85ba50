"""Template context shared by every member-facing page."""

from __future__ import annotations

from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

NAV_ITEMS = [
    ("home", "/", _("Home"), "home"),
    ("learn", "learning:learn", _("Study"), "book"),
    ("quiz", "quizzes:index", _("Quiz"), "quiz"),
    ("points", "learning:points", _("Points"), "star"),
    ("me", "learning:account", _("Me"), "user"),
]


def navigation(request: HttpRequest) -> dict[str, object]:
    """The bottom navigation, with the section of the current page marked."""
    items = []
    current = None
    for key, target, label, icon in NAV_ITEMS:
        url = target if target.startswith("/") else reverse(target)
        items.append({"key": key, "url": url, "label": label, "icon": icon})
        if url != "/" and request.path.startswith(url):
            current = key
    if current is None and request.path == "/":
        current = "home"
    return {"nav_items": items, "nav_current": current}
