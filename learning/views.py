"""Member-facing pages of the learning app: my account, my study, my points."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from learning import roles, services
from learning.forms import LoginForm, MemberPasswordChangeForm
from learning.selectors import user_role_names


class LoginView(auth_views.LoginView):
    form_class = LoginForm
    template_name = "registration/login.html"
    redirect_authenticated_user = True


@login_required
def password_change(request: HttpRequest) -> HttpResponse:
    """Change one's own password; required first for imported or reset accounts."""
    form = MemberPasswordChangeForm(request.user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        services.member_set_password(
            member=request.user, password=form.cleaned_data["new_password1"]
        )
        update_session_auth_hash(request, request.user)
        messages.success(request, _("Your password has been changed."))
        return redirect("learning:account")
    required = request.user.must_change_password
    return render(
        request, "registration/password_change.html", {"form": form, "required": required}
    )


@login_required
def account(request: HttpRequest) -> HttpResponse:
    """My account: name, organisation path, roles, and links to settings."""
    member = request.user
    role_names = user_role_names(member)
    context = {
        "member": member,
        "organization_path": member.organization.path_display() if member.organization else "",
        "role_labels": [roles.ROLE_LABELS.get(name, name) for name in role_names],
        "can_use_admin": member.has_perm("wagtailadmin.access_admin"),
    }
    return render(request, "learning/account.html", context)


@login_required
def learn(request: HttpRequest) -> HttpResponse:
    """My learning: assigned study and progress (filled by the study-content issue)."""
    return render(request, "learning/learn.html", {})


@login_required
def points(request: HttpRequest) -> HttpResponse:
    """My points and leaderboards (filled by the points-ledger issue)."""
    return render(request, "learning/points.html", {})


logout_view = auth_views.LogoutView.as_view()
login_view = LoginView.as_view()
