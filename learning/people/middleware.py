"""Middleware that sends members with a temporary password to the change form first."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _


class PasswordChangeRequiredMiddleware:
    """Imported or reset accounts must choose their own password before anything else."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        # The exempt paths first: looking at request.user reads the session from the
        # database, which the health endpoints must not do.
        exempt = settings.DANGJIAN_PASSWORD_CHANGE_EXEMPT_PREFIXES
        if any(request.path.startswith(prefix) for prefix in exempt):
            return self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and user.must_change_password:
            allowed = [reverse("password_change"), reverse("logout")]
            if not any(request.path.startswith(prefix) for prefix in allowed):
                if request.path.startswith("/api/"):
                    # An app cannot follow a redirect to an HTML form: say why, in JSON.
                    return JsonResponse(
                        {
                            "code": "password_change_required",
                            "detail": _("Choose a new password before you continue."),
                        },
                        status=403,
                    )
                return redirect(f"{reverse('password_change')}?required=1")
        return self.get_response(request)
