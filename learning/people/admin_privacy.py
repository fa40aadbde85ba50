"""Wagtail admin: erasing a member's personal data (administrators only).

The same erasure as ``manage.py member_erase`` (``learning.people.privacy.member_erase``),
from the member's edit page (更多 › 注销个人数据), with a confirmation page. Anyone else
gets 404, as for a member outside their scope: the page names the account.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from learning.models import Member
from learning.people.privacy import member_erase
from learning.people.selectors import user_is_administrator


@require_http_methods(["GET", "POST"])
def member_erase_view(request: HttpRequest, pk: int) -> HttpResponse:
    """GET: what erasing does, and a button; POST: erase, then back to the member list."""
    if not user_is_administrator(request.user):
        raise Http404
    member = get_object_or_404(Member, pk=pk)
    if member.pk == request.user.pk:
        messages.error(request, _("You cannot erase your own account."))
        return redirect("wagtailusers_users:edit", member.pk)
    if request.method == "POST":
        member_erase(member=member, by=request.user)
        messages.success(
            request,
            _("Personal data erased; the account remains as %(name)s.") % {"name": member},
        )
        return redirect("wagtailusers_users:index")
    return render(request, "learning/admin/member_erase.html", {"member": member})
