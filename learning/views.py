"""Member-facing pages of the learning app: my account, my study, my points."""

from __future__ import annotations

import datetime
from collections.abc import Iterator

from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from learning.common.periods import Period, custom_range
from learning.common.throttle import throttle_count
from learning.forms import (
    LeaderboardForm,
    LoginForm,
    MemberPasswordChangeForm,
    PointsHistoryFilterForm,
)
from learning.models import LeaderboardSettings, Organization, PointsEntry
from learning.people import roles, services
from learning.people.privacy import member_data_export
from learning.people.selectors import user_role_names
from learning.points.leaderboards import branch_ranking, leaderboard_range, names_hidden
from learning.points.member_rankings import member_rank_in, member_ranking
from learning.study.my_learning import member_learning_summary
from learning.study.my_points import member_branch, member_points_summary
from learning.study.pages import course_index_page


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


# A member downloads their data a few times, not in a loop: each download reads all of it.
DATA_DOWNLOADS_PER_HOUR = 5


@require_safe
@login_required
def account_data(request: HttpRequest) -> HttpResponse:
    """My data: everything stored about the signed-in member, as a JSON download.

    There is no member in the URL: whoever asks gets their own data, nobody else's.
    """
    count, seconds_left = throttle_count(
        scope="member-data", key=str(request.user.pk), window=datetime.timedelta(hours=1)
    )
    if count > DATA_DOWNLOADS_PER_HOUR:
        response = HttpResponse(
            _("You have downloaded your data several times this hour. Please try again later."),
            status=429,
            content_type="text/plain; charset=utf-8",
        )
        response["Retry-After"] = str(seconds_left)
        return response
    language = translation.get_language()

    # The response reads this after the view has returned: keep the page's language.
    def chunks() -> Iterator[bytes]:
        with translation.override(language):
            for chunk in member_data_export(member=request.user):
                yield chunk.encode("utf-8")

    response = StreamingHttpResponse(chunks(), content_type="application/json; charset=utf-8")
    filename = f"my-data-{timezone.localdate().isoformat()}.json"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response


@login_required
def learn(request: HttpRequest) -> HttpResponse:
    """My learning: my assignments, courses in progress and completed, study time by week."""
    context = {
        "summary": member_learning_summary(request.user),
        "courses_page": course_index_page(),
    }
    return render(request, "learning/learn.html", context)


HISTORY_PAGE_SIZE = 20
MEMBER_RANKING_SIZE = 20


@login_required
def points(request: HttpRequest) -> HttpResponse:
    """My points: today and total, each rule against its daily cap, my ranks, history."""
    member = request.user
    summary = member_points_summary(member=member)
    form = PointsHistoryFilterForm(request.GET or None)
    entries = (
        PointsEntry.objects.filter(member=member)
        .select_related("rule", "reverses")
        .order_by("-local_date", "-id")
    )
    if form.is_bound and form.is_valid():
        if form.cleaned_data["rule"]:
            entries = entries.filter(rule=form.cleaned_data["rule"])
        if form.cleaned_data["date_from"]:
            entries = entries.filter(local_date__gte=form.cleaned_data["date_from"])
        if form.cleaned_data["date_to"]:
            entries = entries.filter(local_date__lte=form.cleaned_data["date_to"])
    elif form.is_bound:
        entries = entries.none()
    page = Paginator(entries, HISTORY_PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "summary": summary,
        "form": form,
        "page": page,
        "filtered": form.is_bound,
        "query": query.urlencode(),
    }
    return render(request, "learning/points.html", context)


@login_required
def leaderboards(request: HttpRequest) -> HttpResponse:
    """Branch ranking (and member ranking where names are shown) for a chosen period."""
    member = request.user
    if member.organization is None:
        return render(request, "learning/leaderboards.html", {"no_organization": True})
    scopes = [
        organization
        for organization in Organization.objects.filter(
            path__in=member.organization.ancestor_paths()
        ).order_by("depth")
        if organization.kind != Organization.Kind.GROUP
    ] or [member.organization]
    settings = LeaderboardSettings.load(request_or_site=request)
    form = LeaderboardForm(
        request.GET or None,
        scopes=scopes,
        initial={"metric": settings.default_metric, "scope": scopes[0].pk},
    )
    period, metric, scope = Period.WEEK, settings.default_metric, scopes[0]
    date_range = leaderboard_range(period)
    if form.is_bound and form.is_valid():
        period = form.cleaned_data["period"] or period
        metric = form.cleaned_data["metric"] or metric
        scope = form.cleaned_data["scope"] or scope
        date_range = leaderboard_range(period)
        if form.cleaned_data["date_from"]:
            date_range = custom_range(form.cleaned_data["date_from"], form.cleaned_data["date_to"])
            period = "custom"
    branch = member_branch(member)
    ranking = branch_ranking(
        root=scope, date_range=date_range, metric=metric, min_size=settings.min_branch_size
    )
    member_rows = (
        member_ranking(root=branch, date_range=date_range, limit=MEMBER_RANKING_SIZE)
        if branch
        else []
    )
    context = {
        "form": form,
        "period": period,
        "period_label": Period(period).label if period in Period.values else _("Custom range"),
        "metric": metric,
        "metric_label": LeaderboardSettings.Metric(metric).label,
        "date_range": date_range,
        "scope": scope,
        "ranking": ranking,
        "best": ranking[0].metric_value if ranking else 0,
        "my_branch": branch,
        "member_rows": member_rows,
        "names_hidden": branch is not None and names_hidden(branch),
        "my_rank": member_rank_in(member=member, root=branch, date_range=date_range)
        if branch
        else None,
        "min_size": settings.min_branch_size,
    }
    return render(request, "learning/leaderboards.html", context)


logout_view = auth_views.LogoutView.as_view()
login_view = LoginView.as_view()
