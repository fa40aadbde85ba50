"""The member import pages of the Wagtail admin: upload, check, import all or nothing."""

from __future__ import annotations

import base64
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from wagtail.admin.menu import MenuItem
from wagtail.permissions import policy_registry

from learning.common.sheets import file_too_large_message
from learning.common.spreadsheets import XLSX_CONTENT_TYPE
from learning.common.uploads import UploadLimit, limit_uploads
from learning.models import Member
from learning.people.member_import import (
    MAX_UPLOAD_BYTES,
    initial_credentials_xlsx,
    member_import_template,
    members_import,
)
from learning.people.selectors import organizations_visible_to


def _can_add_members(request: HttpRequest) -> bool:
    return policy_registry.get_by_type(Member).user_has_permission(request.user, "add")


def _require_member_add_permission(request: HttpRequest) -> None:
    if not _can_add_members(request):
        raise PermissionDenied


class MemberImportMenuItem(MenuItem):
    def is_shown(self, request: HttpRequest) -> bool:
        return _can_add_members(request)


@csrf_exempt
def member_import_view(request: HttpRequest) -> HttpResponse:
    """Upload an .xlsx of members: check everything, then import all rows or none.

    The upload is bounded before it is stored (``limit_uploads``), so the CSRF check,
    which reads the body, runs after the limit is in place, in ``_member_import``.
    """
    limit = limit_uploads(request, max_bytes=MAX_UPLOAD_BYTES)
    return _member_import(request, limit)


@csrf_protect
def _member_import(request: HttpRequest, limit: UploadLimit) -> HttpResponse:
    _require_member_add_permission(request)
    context: dict[str, Any] = {"template_url": reverse("learning_member_import_template")}
    if request.method == "POST":
        upload = request.FILES.get("file")
        dry_run = bool(request.POST.get("dry_run"))
        if limit.exceeded or (upload is not None and upload.size > MAX_UPLOAD_BYTES):
            context["error"] = file_too_large_message(MAX_UPLOAD_BYTES)
        elif upload is None:
            context["error"] = _("Choose an .xlsx file to upload.")
        else:
            # No shared password from the page: each member gets one of their own, so
            # that an imported member cannot log in as a colleague (docs/security.md).
            result = members_import(
                file=upload,
                created_by=request.user,
                allowed_organizations=organizations_visible_to(request.user),
                dry_run=dry_run,
            )
            context["result"] = result
            if result.credentials:
                # Shown this once: the sheet travels inside the page, never stored.
                sheet = initial_credentials_xlsx(result.credentials)
                context["credentials_href"] = "data:{};base64,{}".format(
                    XLSX_CONTENT_TYPE, base64.b64encode(sheet).decode("ascii")
                )
                context["credentials_filename"] = "initial-passwords-{}.xlsx".format(
                    timezone.localtime().strftime("%Y%m%d-%H%M")
                )
    response = render(request, "learning/admin/member_import.html", context)
    # The page may hold initial passwords: never keep it in a cache or the history.
    add_never_cache_headers(response)
    return response


def member_import_template_view(request: HttpRequest) -> HttpResponse:
    """The blank .xlsx import sheet with an example row and instructions."""
    _require_member_add_permission(request)
    response = HttpResponse(
        member_import_template(),
        content_type=XLSX_CONTENT_TYPE,
    )
    response["Content-Disposition"] = 'attachment; filename="member-import-template.xlsx"'
    return response
