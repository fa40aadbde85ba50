"""Wagtail admin: the integrity review queue, and deciding a flag.

Secretaries see the flags of their subtree, administrators all (``flags_visible_to``);
anyone else gets 403, a flag outside the reviewer's scope 404. A decision is a POST
(``flag_decide``): dismiss awards the held points, confirm (with a reason) leaves them
unawarded and reverses points already awarded. Both are in the member's audit log.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods
from wagtail.admin.menu import MenuItem

from learning.integrity.explanations import flag_evidence_rows, flag_explanation
from learning.integrity.selectors import can_review_flags, flags_visible_to
from learning.integrity.services import CONFIRM, DISMISS, FlagDecisionError, flag_decide
from learning.integrity.subjects import SubjectType, subject_type_of
from learning.models import IntegrityFlag

FLAGS_PER_PAGE = 50
STATUS_FILTERS = ("open", "dismissed", "confirmed", "all")


class IntegrityMenuItem(MenuItem):
    def is_shown(self, request: HttpRequest) -> bool:
        return can_review_flags(request.user)


def _rows(flags: list[IntegrityFlag]) -> list[dict[str, Any]]:
    """Each flag with its sentence and the link to its subject (one query a subject type)."""
    groups: dict[str, tuple[SubjectType, list[IntegrityFlag]]] = {}
    for flag in flags:
        subject_type = subject_type_of(flag)
        if subject_type is not None:
            groups.setdefault(subject_type.prefix, (subject_type, []))[1].append(flag)
    urls: dict[int, str] = {}
    for subject_type, group in groups.values():
        urls.update(subject_type.urls(group))
    return [
        {"flag": flag, "explanation": flag_explanation(flag), "subject_url": urls.get(flag.pk)}
        for flag in flags
    ]


def flags_view(request: HttpRequest) -> HttpResponse:
    """The queue: open flags first by default, filtered by status and kind."""
    if not can_review_flags(request.user):
        raise PermissionDenied
    visible = flags_visible_to(request.user)
    status = request.GET.get("status", "open")
    if status not in STATUS_FILTERS:
        status = "open"
    kind = request.GET.get("kind", "")
    if kind not in IntegrityFlag.Kind.values:
        kind = ""
    flags = visible.select_related("member", "organization", "reviewed_by")
    if status != "all":
        flags = flags.filter(status=status)
    if kind:
        flags = flags.filter(kind=kind)
    page = Paginator(flags.order_by("-raised_at", "-pk"), FLAGS_PER_PAGE).get_page(
        request.GET.get("p")
    )
    counts = visible.aggregate(
        open=Count("pk", filter=Q(status=IntegrityFlag.Status.OPEN)), all=Count("pk")
    )
    return render(
        request,
        "learning/admin/integrity_flags.html",
        {
            "rows": _rows(list(page.object_list)),
            "page_obj": page,
            "status": status,
            "kind": kind,
            "statuses": [
                ("open", _("Waiting for review")),
                ("dismissed", _("Dismissed")),
                ("confirmed", _("Confirmed")),
                ("all", _("All")),
            ],
            "kinds": IntegrityFlag.Kind.choices,
            "counts": counts,
        },
    )


@require_http_methods(["GET", "POST"])
def flag_view(request: HttpRequest, pk: int) -> HttpResponse:
    """One flag with its evidence beside the member's normal pattern; POST decides it."""
    if not can_review_flags(request.user):
        raise PermissionDenied
    flag = get_object_or_404(
        flags_visible_to(request.user).select_related("member", "organization", "reviewed_by"),
        pk=pk,
    )
    note = ""
    if request.method == "POST":
        decision = request.POST.get("decision", "")
        note = request.POST.get("note", "")
        try:
            flag_decide(flag=flag, by=request.user, decision=decision, note=note)
        except FlagDecisionError as error:
            messages.error(request, error.message)
        else:
            if decision == DISMISS:
                messages.success(request, _("Dismissed: the study counts as it is."))
            elif decision == CONFIRM:
                messages.success(request, _("Confirmed: the points are not counted."))
            return redirect(reverse("learning_integrity_flags"))
        flag.refresh_from_db()
    subject_type = subject_type_of(flag)
    others = (
        flags_visible_to(request.user)
        .filter(member=flag.member)
        .exclude(pk=flag.pk)
        .aggregate(
            total=Count("pk"),
            dismissed=Count("pk", filter=Q(status=IntegrityFlag.Status.DISMISSED)),
            confirmed=Count("pk", filter=Q(status=IntegrityFlag.Status.CONFIRMED)),
        )
    )
    return render(
        request,
        "learning/admin/integrity_flag.html",
        {
            **_rows([flag])[0],
            "evidence": flag_evidence_rows(flag),
            "pattern": subject_type.context(flag) if subject_type else [],
            "others": others,
            "note": note,
        },
        status=400 if request.method == "POST" else 200,
    )
