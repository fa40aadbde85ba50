"""Wagtail admin: failed and locked logins, and unlocking them (administrators only).

Lists the names with failed logins within the cool-off (``AXES_COOLOFF_TIME``); a
locked one can be unlocked at once instead of waiting. Each unlock is recorded in the
member's audit log. ``manage.py axes_reset_username <username>`` does the same from a shell.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods
from wagtail.admin.menu import MenuItem

from learning.people.auth import login_failures_recent, login_unlock
from learning.people.permissions import can_unlock_logins


class LoginLockoutsMenuItem(MenuItem):
    def is_shown(self, request: HttpRequest) -> bool:
        return can_unlock_logins(request.user)


@require_http_methods(["GET", "POST"])
def login_lockouts_view(request: HttpRequest) -> HttpResponse:
    """The list of recent failed logins; POST ``username`` unlocks that name."""
    if not can_unlock_logins(request.user):
        raise PermissionDenied
    if request.method == "POST":
        username = request.POST.get("username", "").strip()
        if not username:
            messages.error(request, _("Choose a login to unlock."))
        elif login_unlock(username=username, by=request.user):
            messages.success(request, _("%(name)s can log in again.") % {"name": username})
        else:
            messages.warning(
                request, _("%(name)s had no failed logins to clear.") % {"name": username}
            )
        return redirect("learning_login_lockouts")
    context = {
        "logins": login_failures_recent(),
        "cool_off_minutes": int(settings.AXES_COOLOFF_TIME.total_seconds() // 60),
    }
    return render(request, "learning/admin/login_lockouts.html", context)
