"""The administrators' warning on the admin home when background tasks wait to be queued."""

from __future__ import annotations

from typing import Any

from django.db.models import Max, Min
from wagtail.admin.ui.components import Component

from learning.common.enqueue import unsent_tasks
from learning.models import Member, UnsentTask


class UnsentTasksPanel(Component):
    """How many tasks the broker refused, since when, and the last error."""

    name = "unsent_tasks"
    order = 10
    template_name = "learning/admin/unsent_tasks_panel.html"

    def __init__(self, count: int) -> None:
        self.count = count

    def get_context_data(self, parent_context: Any = None) -> dict[str, Any]:
        span = unsent_tasks().aggregate(first=Min("created_at"), last=Max("last_tried_at"))
        latest = UnsentTask.objects.order_by("-last_tried_at", "-pk").only("error").first()
        return {
            "count": self.count,
            "first": span["first"],
            "last": span["last"],
            "error": latest.error if latest else "",
        }


def unsent_tasks_panel_for(user: Member) -> UnsentTasksPanel | None:
    """The panel for an administrator while tasks wait; None otherwise (one query)."""
    if not user.has_perm("learning.view_unsenttask"):
        return None
    count = UnsentTask.objects.count()
    return UnsentTasksPanel(count) if count else None
