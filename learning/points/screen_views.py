"""The office screen kiosk: one page per secret link, and its JSON snapshot beside it."""

from __future__ import annotations

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import override
from django.views.decorators.http import require_GET

from learning.common.security_headers import frameable_by_origins_in
from learning.points.screens import page_version, screen_for_token, snapshot_for_token

KIOSK_HEADERS = {
    # The token is the credential: keep it out of referrers, search engines and caches.
    "Referrer-Policy": "no-referrer",
    "X-Robots-Tag": "noindex, nofollow",
}


# Signage players often show the kiosk page inside their own page: only the origins an
# operator lists in SCREEN_FRAME_ANCESTORS may do that (by default nobody).
@require_GET
@frameable_by_origins_in("DANGJIAN_SCREEN_FRAME_ANCESTORS")
def screen_page(request: HttpRequest, token: str) -> HttpResponse:
    """The kiosk page: loads once, then refreshes its data from the snapshot URL."""
    screen = screen_for_token(token)
    if screen is None:
        raise Http404(_("This screen link does not exist or has been switched off."))
    # A kiosk shows the platform's language whatever its browser asks for: the
    # snapshot's labels are in that language too.
    with override(settings.LANGUAGE_CODE):
        response = render(
            request,
            "learning/screen.html",
            {"screen": screen, "page_version": page_version()},
        )
    response["Cache-Control"] = "no-store"
    for header, value in KIOSK_HEADERS.items():
        response[header] = value
    return response


@require_GET
def screen_snapshot_view(request: HttpRequest, token: str) -> HttpResponse:
    """The screen's data as JSON; 304 when the client already has this version."""
    snapshot = snapshot_for_token(token)
    if snapshot is None:
        response: HttpResponse = JsonResponse(
            {"error": "revoked", "message": _("This screen link has been switched off.")},
            status=404,
        )
    else:
        if request.headers.get("If-None-Match") == snapshot.etag:
            response = HttpResponse(status=304)
        else:
            response = HttpResponse(snapshot.body, content_type="application/json")
        response["ETag"] = snapshot.etag
    # Revalidate every time: the ETag makes that cheap.
    response["Cache-Control"] = "no-cache"
    for header, value in KIOSK_HEADERS.items():
        response[header] = value
    return response
