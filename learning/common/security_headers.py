"""Content-Security-Policy per part of the site, and who may frame a page.

One strict policy (``CONTENT_SECURITY_POLICY``) covers every page; a path prefix may
replace some of its directives (``DANGJIAN_CSP_PATH_DIRECTIVES``: the Wagtail admin needs
inline scripts), and Wagtail's previews keep the page's policy but may be framed by the
admin (``DANGJIAN_CSP_PREVIEW_DIRECTIVES``). A view that other sites may frame says so with
:func:`frameable_by_origins_in`. docs/deployment.md lists the headers and their settings.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from csp.decorators import csp_replace
from csp.middleware import CSPMiddleware, PolicyParts
from django.conf import settings
from django.http import HttpRequest, HttpResponseBase
from django.views.decorators.clickjacking import xframe_options_exempt

View = Callable[..., HttpResponseBase]


class ContentSecurityPolicyMiddleware(CSPMiddleware):
    """django-csp's middleware, with the directives of the first matching path prefix."""

    def get_policy_parts(
        self,
        request: HttpRequest,
        response: HttpResponseBase,
        report_only: bool = False,
    ) -> PolicyParts:
        parts = super().get_policy_parts(request, response, report_only)
        if report_only:
            return parts
        if getattr(request, "is_dummy", False):
            # Wagtail's preview renders a page through the middleware with a made-up
            # request for the page's own URL: the page's policy, framed by the admin.
            parts.replace = {**(parts.replace or {}), **settings.DANGJIAN_CSP_PREVIEW_DIRECTIVES}
            return parts
        for prefix, directives in settings.DANGJIAN_CSP_PATH_DIRECTIVES.items():
            if request.path_info.startswith(prefix):
                # What a view asked for itself (a decorator) is more specific: it wins.
                parts.replace = {**directives, **(parts.replace or {})}
                break
        return parts


def frameable_by_origins_in(setting_name: str) -> Callable[[View], View]:
    """Let the origins listed in a setting frame the view's pages; nobody when it is empty.

    The setting is read on every request, so tests and operators can change it. Framing
    is then governed by CSP ``frame-ancestors`` alone: ``X-Frame-Options`` can name no
    other origin (its ALLOW-FROM is obsolete), so it is left off for such a response.
    """

    def decorator(view: View) -> View:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            origins = getattr(settings, setting_name)
            if not origins:
                return view(request, *args, **kwargs)
            framed = xframe_options_exempt(csp_replace({"frame-ancestors": origins})(view))
            return framed(request, *args, **kwargs)

        return wrapped

    return decorator
