"""Tell an approver what their approval did: approved, published, or sent back.

Wagtail confirms nothing when a page is approved from the dashboard's "awaiting your
review" list, and in the page editor it says only "Page '…' has been updated". Both
requests go through this middleware: it notes the page's current task before the view
runs and, when that task was finished by this user during the request, adds one message
saying what happened (replacing the editor's "has been updated").
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.contenttypes.models import ContentType
from django.http import HttpRequest, HttpResponse
from django.urls import Resolver404, resolve
from django.utils import translation
from django.utils.html import escape
from django.utils.translation import gettext as _
from wagtail.models import Page, TaskState, WorkflowState

DASHBOARD_ACTION = "wagtailadmin_pages:workflow_action"
EDIT_VIEW = "wagtailadmin_pages:edit"


def workflow_outcome_message(*, task_state: TaskState, page: Page) -> str | None:
    """What finishing ``task_state`` did to ``page``, in words (None if it is not finished)."""
    title = page.get_admin_display_title()
    if task_state.status == TaskState.STATUS_REJECTED:
        return _("“%(title)s” was sent back to its editor for changes.") % {"title": title}
    if task_state.status != TaskState.STATUS_APPROVED:
        return None
    workflow_state = task_state.workflow_state
    if workflow_state.status == WorkflowState.STATUS_APPROVED:
        if page.live and not page.has_unpublished_changes:
            return _("“%(title)s” was approved and published.") % {"title": title}
        revision = page.get_latest_revision()
        if page.go_live_at or (revision and revision.approved_go_live_at):
            return _("“%(title)s” was approved; it will be published at the scheduled time.") % {
                "title": title
            }
        return _("“%(title)s” was approved.") % {"title": title}
    return _("“%(title)s” was approved at “%(task)s” and goes on to the next review step.") % {
        "title": title,
        "task": task_state.task.name,
    }


def _page_action(request: HttpRequest) -> int | None:
    """The page id when this request may finish a workflow task, else None."""
    if request.method != "POST":
        return None
    try:
        match = resolve(request.path_info)
    except Resolver404:
        return None
    if match.view_name == DASHBOARD_ACTION:
        return int(match.kwargs["page_id"])
    if match.view_name == EDIT_VIEW and request.POST.get("action-workflow-action"):
        return int(match.kwargs["page_id"])
    return None


def _drop_updated_message(request: HttpRequest, page: Page) -> None:
    """Remove the editor's "Page '…' has been updated." queued by this request."""
    updated = escape(
        _("Page '%(page_title)s' has been updated.")
        % {"page_title": page.get_admin_display_title()}
    )
    storage = messages.get_messages(request)
    kept = [message for message in storage if updated not in str(message.message)]
    # Iterating marked them all as read; add back the others.
    for message in kept:
        messages.add_message(request, message.level, message.message, message.extra_tags)


def _user_language(user: Any) -> str:
    """The language the admin speaks to ``user`` (their preference, else the request's)."""
    from wagtail.users.models import UserProfile

    return UserProfile.get_for_user(user).get_preferred_language()


class WorkflowOutcomeMessageMiddleware:
    """Adds the approval outcome to the messages of the request that approved."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        page_id = _page_action(request)
        user = getattr(request, "user", None)
        if page_id is None or user is None or not user.is_authenticated:
            return self.get_response(request)
        current = (
            TaskState.objects.filter(
                workflow_state__base_content_type=ContentType.objects.get_for_model(Page),
                workflow_state__object_id=str(page_id),
                status=TaskState.STATUS_IN_PROGRESS,
            )
            .values_list("pk", flat=True)
            .first()
        )
        response = self.get_response(request)
        if current is None:
            return response
        task_state = TaskState.objects.select_related("workflow_state", "task").get(pk=current)
        if (
            task_state.status == TaskState.STATUS_IN_PROGRESS
            or task_state.finished_by_id != user.pk
        ):
            return response
        page = Page.objects.get(pk=page_id).specific_deferred
        with translation.override(_user_language(user)):
            text = workflow_outcome_message(task_state=task_state, page=page)
            if text is None:
                return response
            _drop_updated_message(request, page)
            messages.success(request, text)
        return response
