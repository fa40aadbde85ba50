"""Wagtail admin for points: rules (with revision history), the ledger, office screens.

The ledger browser is read-only for everyone, superusers included: its permission
policy refuses add, change and delete, so Wagtail offers no such buttons or views;
a correction is a reversal, made from its own confirmation page with a reason.
"""

from __future__ import annotations

from typing import Any

import django_filters
from django import forms
from django.contrib import messages
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from wagtail.admin.filters import DateRangePickerWidget, WagtailFilterSet
from wagtail.admin.panels import FieldPanel, FieldRowPanel, MultiFieldPanel
from wagtail.admin.ui.tables import Column, DateColumn
from wagtail.admin.views import generic
from wagtail.admin.viewsets.model import ModelViewSet
from wagtail.admin.widgets.button import ListingButton
from wagtail.permission_policies import ModelPermissionPolicy
from wagtail.snippets.views.snippets import SnippetViewSet

from learning.models import Member, Organization, PointsEntry, PointsRule, Screen
from learning.models.screens import new_screen_token
from learning.people.selectors import organizations_visible_to
from learning.points.ledger import points_reverse

# --- Rules -----------------------------------------------------------------------


class PointsRuleViewSet(SnippetViewSet):
    """Rules are edited, never added or removed here: the code refers to them by code."""

    model = PointsRule
    icon = "pick"
    menu_label = gettext_lazy("Points rules")
    menu_order = 300
    add_to_admin_menu = True
    list_display = [
        "display_name",
        "code",
        "points",
        "max_points_per_award",
        "daily_cap",
        "is_active",
    ]
    list_filter = ["is_active"]
    search_fields = ["name", "name_en", "code"]
    copy_view_enabled = False
    panels = [
        FieldPanel("name"),
        FieldPanel("name_en"),
        FieldPanel("code", read_only=True),
        FieldRowPanel(
            [FieldPanel("points"), FieldPanel("max_points_per_award"), FieldPanel("daily_cap")]
        ),
        FieldPanel("is_active"),
        FieldPanel("description"),
        FieldPanel("description_en"),
        FieldPanel("sort_order"),
    ]


class NoAddDeletePolicy(ModelPermissionPolicy):
    """Model permissions, except that nobody adds or deletes through the admin."""

    def user_has_permission(self, user: Member | AnonymousUser, action: str) -> bool:
        if action in ("add", "delete"):
            return False
        return super().user_has_permission(user, action)


# --- Ledger ----------------------------------------------------------------------


class ReadOnlyLedgerPolicy(ModelPermissionPolicy):
    """Viewing follows model permissions; adding, changing and deleting never happen."""

    def user_has_permission(self, user: Member | AnonymousUser, action: str) -> bool:
        if action in ("add", "change", "delete"):
            return False
        return super().user_has_permission(user, action)


class LedgerFilterSet(WagtailFilterSet):
    member = django_filters.CharFilter(
        label=gettext_lazy("Member"),
        method="filter_member",
        help_text=gettext_lazy("Name or username"),
    )
    organization = django_filters.ModelChoiceFilter(
        label=gettext_lazy("Organisation"),
        queryset=Organization.objects.none(),
        method="filter_organization",
    )
    rule = django_filters.ModelChoiceFilter(
        label=gettext_lazy("Rule"), queryset=PointsRule.objects.order_by("sort_order")
    )
    local_date = django_filters.DateFromToRangeFilter(
        label=gettext_lazy("Date"), widget=DateRangePickerWidget
    )

    class Meta:
        model = PointsEntry
        fields = ["member", "organization", "rule", "local_date"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        user = getattr(self.request, "user", None)
        if user is not None:
            self.filters["organization"].queryset = organizations_visible_to(user).order_by("path")

    def filter_member(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(member__display_name__icontains=value) | queryset.filter(
            member__username__iexact=value
        )

    def filter_organization(
        self, queryset: QuerySet, name: str, value: Organization | None
    ) -> QuerySet:
        if value is None:
            return queryset
        return queryset.filter(organization__path__startswith=value.path)


class PointsColumn(Column):
    def get_value(self, instance: PointsEntry) -> str:
        return f"{instance.points:+d}"


class LedgerIndexView(generic.IndexView):
    def get_base_queryset(self) -> QuerySet[PointsEntry]:
        visible = organizations_visible_to(self.request.user)
        return (
            PointsEntry.objects.filter(organization__in=visible)
            .select_related("member", "organization", "rule", "reverses")
            .order_by("-id")
        )

    def get_list_more_buttons(self, instance: PointsEntry) -> list[Any]:
        buttons = super().get_list_more_buttons(instance)
        if _can_reverse(self.request.user) and instance.points > 0 and not instance.reverses_id:
            buttons.append(
                ListingButton(
                    _("Reverse"),
                    url=reverse("ledger:reverse", args=[instance.pk]),
                    icon_name="undo",
                    priority=40,
                )
            )
        return buttons


class LedgerInspectView(generic.InspectView):
    def get_object(self, queryset: QuerySet | None = None) -> PointsEntry:
        entry = super().get_object(queryset)
        if (
            not organizations_visible_to(self.request.user)
            .filter(pk=entry.organization_id)
            .exists()
        ):
            raise PermissionDenied
        return entry


def _can_reverse(user: Member | AnonymousUser) -> bool:
    return user.is_authenticated and user.has_perm("learning.reverse_pointsentry")


class ReversalForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("Reason"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy("Recorded in the ledger and shown to the member."),
    )


def ledger_reverse_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Confirm and record a reversal of one entry, with a required reason."""
    if not _can_reverse(request.user):
        raise PermissionDenied
    visible = organizations_visible_to(request.user)
    entry = get_object_or_404(
        PointsEntry.objects.select_related("member", "rule"), pk=pk, organization__in=visible
    )
    form = ReversalForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            points_reverse(entry=entry, reason=form.cleaned_data["reason"], by=request.user)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(
                request,
                _("%(points)d points of %(member)s were reversed.")
                % {"points": entry.points, "member": entry.member},
            )
            return redirect("ledger:index")
    return render(request, "learning/admin/ledger_reverse.html", {"entry": entry, "form": form})


class LedgerViewSet(ModelViewSet):
    model = PointsEntry
    icon = "list-ul"
    menu_label = gettext_lazy("Points ledger")
    menu_order = 310
    add_to_admin_menu = True
    index_view_class = LedgerIndexView
    inspect_view_class = LedgerInspectView
    inspect_view_enabled = True
    copy_view_enabled = False
    filterset_class = LedgerFilterSet
    list_per_page = 50
    list_display = [
        "local_date",
        "member",
        "organization",
        "rule",
        PointsColumn("points", label=gettext_lazy("Points")),
        "note",
        DateColumn("created_at", label=gettext_lazy("Recorded at")),
    ]
    inspect_view_fields = [
        "member",
        "organization",
        "branch",
        "rule",
        "points",
        "local_date",
        "created_at",
        "created_by",
        "note",
        "reverses",
        "idempotency_key",
    ]
    # Never used (the policy refuses add and change) but required by ModelViewSet.
    form_fields = ["note"]

    def get_urlpatterns(self) -> list[Any]:
        return [
            *super().get_urlpatterns(),
            path("reverse/<int:pk>/", ledger_reverse_view, name="reverse"),
        ]


# --- Screens ---------------------------------------------------------------------


class ScreenForm(forms.ModelForm):
    class Meta:
        model = Screen
        fields = [
            "name",
            "organization",
            "is_active",
            "period",
            "metric",
            "show_branch_ranking",
            "show_top_members",
            "show_today",
            "show_activity",
            "show_member_names",
            "theme",
            "refresh_seconds",
        ]


class ScreenEditView(generic.EditView):
    template_name = "learning/admin/screen_edit.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["screen_url"] = self.request.build_absolute_uri(self.object.get_absolute_url())
        context["rotate_url"] = reverse("screens:rotate", args=[self.object.pk])
        return context


def screen_rotate_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Give a screen a new secret link; the old one stops working at once."""
    policy = ModelPermissionPolicy(Screen)
    if not policy.user_has_permission(request.user, "change"):
        raise PermissionDenied
    screen = get_object_or_404(Screen, pk=pk)
    if request.method == "POST":
        screen.token = new_screen_token()
        screen.save(update_fields=["token", "updated_at"])
        messages.success(
            request,
            _("The screen has a new link. Open it on the screen; the old link no longer works."),
        )
        return redirect("screens:edit", pk)
    return render(request, "learning/admin/screen_rotate.html", {"screen": screen})


class ScreenViewSet(ModelViewSet):
    model = Screen
    icon = "desktop"
    menu_label = gettext_lazy("Office screens")
    menu_order = 320
    add_to_admin_menu = True
    form_class = ScreenForm
    edit_view_class = ScreenEditView
    copy_view_enabled = False
    list_display = ["name", "organization", "is_active", "period", "metric", "refresh_seconds"]
    list_filter = ["is_active", "period"]
    search_fields = ["name", "organization__name"]
    panels = [
        FieldPanel("name"),
        FieldPanel("organization"),
        FieldPanel("is_active"),
        FieldRowPanel([FieldPanel("period"), FieldPanel("metric")]),
        MultiFieldPanel(
            [
                FieldPanel("show_branch_ranking"),
                FieldPanel("show_top_members"),
                FieldPanel("show_today"),
                FieldPanel("show_activity"),
                FieldPanel("show_member_names"),
            ],
            heading=gettext_lazy("Panels"),
        ),
        FieldRowPanel([FieldPanel("theme"), FieldPanel("refresh_seconds")]),
    ]

    def get_urlpatterns(self) -> list[Any]:
        return [
            *super().get_urlpatterns(),
            path("rotate/<int:pk>/", screen_rotate_view, name="rotate"),
        ]
