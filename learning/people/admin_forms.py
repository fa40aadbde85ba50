"""Forms for the Wagtail admin: members (scoped for secretaries) and organisations."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.models import Group
from django.utils.translation import gettext_lazy as _
from wagtail.users.forms import UserCreationForm, UserEditForm, UserForm

from learning.models import Member, Organization
from learning.people.permissions import can_assign_roles
from learning.people.selectors import organizations_visible_to

MEMBER_FIELDS = [
    "username",
    "display_name",
    "phone",
    "organization",
    "party_joined_on",
    "email",
    "is_active",
    "is_superuser",
    "groups",
]


class OrganizationChoiceField(forms.ModelChoiceField):
    """Organisations in tree order, indented by depth so the hierarchy is readable."""

    def label_from_instance(self, obj: Organization) -> str:
        return f"{'　' * (obj.depth - 1)}{obj.name}（{obj.code}）"


class MemberFormMixin(forms.Form):
    """Shared behaviour: one name field, scoped organisations, roles only for admins."""

    first_name = None
    last_name = None
    email = forms.EmailField(required=False, label=_("Email"))

    def _scope_to(self, user: Member) -> None:
        self.fields["organization"] = OrganizationChoiceField(
            queryset=organizations_visible_to(user).order_by("path"),
            label=_("organisation"),
            required=not can_assign_roles(user),
            initial=self.fields["organization"].initial,
        )
        self.fields["groups"].queryset = Group.objects.order_by("name")
        self.fields["groups"].label = _("Roles")
        if not can_assign_roles(user):
            # Secretaries manage ordinary members; they never grant roles.
            self.fields.pop("groups", None)
            self.fields.pop("is_superuser", None)

    def clean_phone(self) -> str | None:
        return self.cleaned_data.get("phone") or None

    def clean_organization(self) -> Organization | None:
        organization = self.cleaned_data.get("organization")
        if (
            organization is not None
            and not organization.is_active
            and "organization" in self.changed_data
        ):
            raise forms.ValidationError(_("The organisation is no longer active."))
        return organization


class MemberCreateForm(MemberFormMixin, UserCreationForm):
    def __init__(self, *args: Any, for_user: Member, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._scope_to(for_user)

    class Meta(UserCreationForm.Meta):
        model = Member
        fields = MEMBER_FIELDS
        widgets = {"groups": forms.CheckboxSelectMultiple}


class MemberEditForm(MemberFormMixin, UserEditForm):
    def __init__(self, *args: Any, for_user: Member, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._scope_to(for_user)

    def save(self, commit: bool = True) -> Member:
        # Everything but the password: the view sets that through the service, which makes
        # a password chosen by someone else temporary and records who chose it.
        return super(UserForm, self).save(commit=commit)

    class Meta(UserEditForm.Meta):
        model = Member
        fields = [*MEMBER_FIELDS]
        widgets = {"groups": forms.CheckboxSelectMultiple}


class OrganizationForm(forms.ModelForm):
    """Organisation fields plus its place in the tree (the parent)."""

    parent = OrganizationChoiceField(
        queryset=Organization.objects.order_by("path"),
        required=False,
        label=_("parent organisation"),
        help_text=_("Leave empty only for the top-level committee."),
    )

    class Meta:
        model = Organization
        fields = ["name", "code", "kind", "parent", "sort_order", "is_active", "hide_member_names"]

    def __init__(self, *args: Any, for_user: Member | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["parent"].initial = self.instance.get_parent()
            # A node cannot move below itself.
            self.fields["parent"].queryset = Organization.objects.exclude(
                path__startswith=self.instance.path
            ).order_by("path")
