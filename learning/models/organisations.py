"""Who learns: the organisation tree, members, their membership history and roles."""

from __future__ import annotations

import datetime

from django.contrib.auth.models import AbstractUser, UserManager
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from treebeard.mp_tree import MP_Node

from learning.common.text import validate_text

PHONE_PATTERN = r"^1[3-9]\d{9}$"
phone_validator = RegexValidator(
    PHONE_PATTERN, _("Enter an 11-digit mainland mobile number, e.g. 13800138000.")
)


class Organization(MP_Node):
    """A node of the party organisation tree (committee → general branch → branch → group)."""

    class Kind(models.TextChoices):
        COMMITTEE = "committee", _("Party committee")
        GENERAL_BRANCH = "general_branch", _("General branch")
        BRANCH = "branch", _("Branch")
        GROUP = "group", _("Party group")

    name = models.CharField(_("name"), max_length=100, validators=[validate_text])
    code = models.CharField(
        _("code"),
        max_length=40,
        unique=True,
        validators=[
            RegexValidator(
                r"^[A-Za-z0-9_-]+$", _("Use letters, digits, hyphens and underscores only.")
            )
        ],
        help_text=_("A short unique code used in imports and reports, e.g. DW01-ZB03."),
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    sort_order = models.PositiveIntegerField(_("sort order"), default=0)
    is_active = models.BooleanField(_("active"), default=True)
    hide_member_names = models.BooleanField(
        _("hide member names in rankings"),
        default=False,
        help_text=_(
            "Rankings and office screens for this organisation and everything below it "
            "show only totals, never individual names."
        ),
    )

    node_order_by = ["sort_order", "code"]

    class Meta:
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")

    def __str__(self) -> str:
        return self.name

    def path_display(self, separator: str = " › ") -> str:
        """The names from the root down to this organisation, e.g. 某党委 › 第一党总支."""
        names = [ancestor.name for ancestor in self.get_ancestors()]
        names.append(self.name)
        return separator.join(names)

    def ancestor_paths(self) -> list[str]:
        """The paths of this organisation and of every organisation above it, root first."""
        return [self.path[:end] for end in range(self.steplen, len(self.path) + 1, self.steplen)]

    def subtree(self) -> models.QuerySet[Organization]:
        """This organisation and every organisation below it."""
        return Organization.objects.filter(path__startswith=self.path, depth__gte=self.depth)


class MemberManager(UserManager["Member"]):
    def get_by_natural_key(self, username: str | None) -> Member:
        return self.get(**{self.model.USERNAME_FIELD: username})


class Member(AbstractUser):
    """A user of the platform. Every person who logs in is a member of one organisation.

    ``first_name``/``last_name`` stay from ``AbstractUser`` because Wagtail's user forms
    expect them; Dangjian uses the single ``display_name`` (Chinese names do not split
    into given and family names reliably).
    """

    display_name = models.CharField(
        pgettext_lazy("person", "name"), max_length=100, validators=[validate_text]
    )
    phone = models.CharField(
        _("mobile phone"),
        max_length=11,
        null=True,
        blank=True,
        unique=True,
        validators=[phone_validator],
        help_text=_("Optional. Members can log in with it instead of the username."),
    )
    organization = models.ForeignKey(
        Organization,
        verbose_name=_("organisation"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="members",
    )
    party_joined_on = models.DateField(_("date joined the party"), null=True, blank=True)
    must_change_password = models.BooleanField(
        _("must change password"),
        default=False,
        help_text=_("Set for imported accounts; cleared when the member sets a password."),
    )

    objects = MemberManager()

    class Meta:
        verbose_name = _("member")
        verbose_name_plural = _("members")
        permissions = [
            ("manage_org_members", _("Can manage members of the organisations assigned to them")),
        ]

    def __str__(self) -> str:
        return self.display_name or self.username

    def get_full_name(self) -> str:
        return self.display_name or self.username

    def get_short_name(self) -> str:
        return self.display_name or self.username

    def clean(self) -> None:
        super().clean()
        # An empty string is not a phone number; keep NULL so uniqueness holds.
        if self.phone == "":
            self.phone = None


class Membership(models.Model):
    """One period of a member belonging to one organisation: [start_date, end_date)."""

    member = models.ForeignKey(
        Member, verbose_name=_("member"), on_delete=models.CASCADE, related_name="memberships"
    )
    organization = models.ForeignKey(
        Organization,
        verbose_name=_("organisation"),
        on_delete=models.PROTECT,
        related_name="memberships",
    )
    start_date = models.DateField(_("from"))
    end_date = models.DateField(
        _("until"), null=True, blank=True, help_text=_("Exclusive; empty while current.")
    )
    note = models.CharField(_("note"), max_length=200, blank=True, validators=[validate_text])
    created_by = models.ForeignKey(
        Member,
        verbose_name=_("recorded by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        ordering = ["member", "start_date", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["member"],
                condition=Q(end_date__isnull=True),
                name="membership_one_current_per_member",
            ),
            models.CheckConstraint(
                condition=Q(end_date__isnull=True) | Q(end_date__gt=models.F("start_date")),
                name="membership_ends_after_start",
            ),
        ]
        indexes = [models.Index(fields=["organization", "start_date", "end_date"])]

    def __str__(self) -> str:
        return f"{self.member} @ {self.organization} ({self.start_date}–{self.end_date or ''})"

    def covers(self, day: datetime.date) -> bool:
        return self.start_date <= day and (self.end_date is None or day < self.end_date)


class OrganizationSecretary(models.Model):
    """A secretary's assignment: they see and manage this organisation's whole subtree."""

    member = models.ForeignKey(
        Member,
        verbose_name=_("secretary"),
        on_delete=models.CASCADE,
        related_name="secretary_of",
    )
    organization = models.ForeignKey(
        Organization,
        verbose_name=_("organisation"),
        on_delete=models.CASCADE,
        related_name="secretaries",
    )
    created_at = models.DateTimeField(_("assigned at"), auto_now_add=True)

    class Meta:
        verbose_name = _("secretary assignment")
        verbose_name_plural = _("secretary assignments")
        constraints = [
            models.UniqueConstraint(
                fields=["member", "organization"], name="secretary_unique_assignment"
            )
        ]

    def __str__(self) -> str:
        return f"{self.member} → {self.organization}"
