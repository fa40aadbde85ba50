"""The points ledger: rules as data, append-only entries, and the totals kept beside them.

``PointsEntry`` rows are never updated or deleted (the model refuses, and a database
trigger installed by a migration refuses too). Every total below is maintained by
``learning.points.ledger.points_award`` in the same transaction as the entry it counts, and
``python manage.py check_ledger`` recomputes them all from the entries.
"""

from __future__ import annotations

from typing import Any

from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.core.validators import MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from wagtail.contrib.settings.models import BaseGenericSetting, register_setting
from wagtail.models import RevisionMixin

from learning.common.languages import in_active_language
from learning.common.periods import Period
from learning.common.text import validate_text
from learning.models.organisations import Member, Organization


class LedgerAppendOnlyError(Exception):
    """Raised when code tries to change or remove a ledger entry."""


class PointsRule(RevisionMixin, models.Model):
    """How many points one kind of study action earns, and how many a day at most."""

    code = models.SlugField(
        _("code"),
        max_length=50,
        unique=True,
        help_text=_("Used by the program to award points; do not change it."),
    )
    name = models.CharField(_("name"), max_length=100, validators=[validate_text])
    name_en = models.CharField(
        _("name in English"),
        max_length=100,
        blank=True,
        validators=[validate_text],
        help_text=_("Shown to members who use the site in English. Empty: the name above."),
    )
    points = models.PositiveIntegerField(
        _("points per unit"),
        validators=[MinValueValidator(1)],
        help_text=_("Points for one unit of the action (one lesson, five minutes, one answer)."),
    )
    max_points_per_award = models.PositiveIntegerField(
        _("most points per award"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
        help_text=_("For awards that depend on a score, e.g. a weekly quiz worth up to 5."),
    )
    daily_cap = models.PositiveIntegerField(
        _("daily cap"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
        help_text=_("Most points a member can earn with this rule on one day. Empty: no cap."),
    )
    is_active = models.BooleanField(
        _("active"), default=True, help_text=_("Inactive rules award nothing.")
    )
    description = models.TextField(
        _("description for members"),
        blank=True,
        validators=[validate_text],
        help_text=_("Shown to members on their points page: how to earn these points."),
    )
    description_en = models.TextField(
        _("description in English"),
        blank=True,
        validators=[validate_text],
        help_text=_("Shown to members who use the site in English. Empty: the description above."),
    )
    sort_order = models.PositiveIntegerField(_("sort order"), default=0)

    class Meta:
        verbose_name = _("points rule")
        verbose_name_plural = _("points rules")
        ordering = ["sort_order", "code"]

    def __str__(self) -> str:
        return self.display_name

    def _display_name(self) -> str:
        """The name in the active language: every page, list and form shows this one."""
        return in_active_language(self.name, self.name_en)

    # The admin's list heads this column like the field it stands for.
    _display_name.short_description = _("name")  # type: ignore[attr-defined]
    display_name = property(_display_name)

    @property
    def display_description(self) -> str:
        """The description in the active language (see ``display_name``)."""
        return in_active_language(self.description, self.description_en)

    def points_for(self, quantity: int) -> int:
        """The points ``quantity`` units are worth before the daily cap."""
        points = self.points * quantity
        if self.max_points_per_award is not None:
            points = min(points, self.max_points_per_award)
        return points


class PointsEntryQuerySet(models.QuerySet["PointsEntry"]):
    def update(self, **kwargs: Any) -> int:
        raise LedgerAppendOnlyError("ledger entries are never updated; add a reversal instead")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise LedgerAppendOnlyError("ledger entries are never deleted; add a reversal instead")


class PointsEntry(models.Model):
    """One award (or reversal) of points. Append-only."""

    # Indexed by (member, local_date) and (branch, -id) below; an award writes every
    # index of this table, so the foreign keys do not get another index each.
    member = models.ForeignKey(
        Member,
        verbose_name=_("member"),
        on_delete=models.PROTECT,
        related_name="points_entries",
        db_index=False,
    )
    organization = models.ForeignKey(
        Organization,
        verbose_name=_("organisation"),
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("Where the member belonged when the points were earned."),
    )
    branch = models.ForeignKey(
        Organization,
        verbose_name=_("branch"),
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("The branch the points count for in rankings, fixed at the moment."),
        db_index=False,
    )
    rule = models.ForeignKey(
        PointsRule, verbose_name=_("rule"), on_delete=models.PROTECT, related_name="entries"
    )
    points = models.IntegerField(_("points"))
    local_date = models.DateField(_("date"))
    source_type = models.ForeignKey(
        ContentType, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    source_id = models.CharField(max_length=64, blank=True, default="")
    source = GenericForeignKey("source_type", "source_id")
    idempotency_key = models.CharField(_("idempotency key"), max_length=200, unique=True)
    created_at = models.DateTimeField(_("recorded at"), db_index=True)
    created_by = models.ForeignKey(
        Member,
        verbose_name=_("recorded by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    note = models.CharField(_("note"), max_length=500, blank=True, validators=[validate_text])
    reverses = models.OneToOneField(
        "self",
        verbose_name=_("reverses"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="reversed_by",
    )

    objects = PointsEntryQuerySet.as_manager()

    class Meta:
        verbose_name = _("points entry")
        verbose_name_plural = _("points ledger")
        ordering = ["-id"]
        permissions = [("reverse_pointsentry", _("Can reverse points entries"))]
        indexes = [
            models.Index(fields=["member", "local_date"]),
            models.Index(fields=["branch", "-id"]),
            models.Index(fields=["local_date"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(points__gt=0) | models.Q(reverses__isnull=False),
                name="points_entry_negative_only_for_reversal",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.member} {self.points:+d} {self.rule} {self.local_date}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise LedgerAppendOnlyError("ledger entries are never updated; add a reversal instead")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise LedgerAppendOnlyError("ledger entries are never deleted; add a reversal instead")


class MemberRuleDayPoints(models.Model):
    """Points one member earned with one rule on one day: what the daily cap checks."""

    # The unique constraint's index starts with the member: no index of its own.
    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="+", db_index=False)
    rule = models.ForeignKey(PointsRule, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    points = models.IntegerField(default=0)
    # What the latest change of the row added. On PostgreSQL an award caps itself and
    # adds its points in one upsert of this row (a capped award adds 0), and reads them
    # back from here: RETURNING shows only the new row, not what was there before.
    last_change = models.IntegerField(default=0, db_default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["member", "rule", "day"], name="member_rule_day_points_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.member_id}/{self.rule_id} {self.day}: {self.points}"


class MemberPeriodPoints(models.Model):
    """A member's net points in one branch for one period (a row per period kind).

    Every award updates six of these rows, and each index is written again on every
    update (``points`` is indexed, so PostgreSQL cannot update in place): the table keeps
    only the indexes its readers need. The unique constraint's index (member, period,
    start, branch) serves "this member's points in a period"; (branch, period, start,
    points) a branch's members; (period, start, points) the highest rows of a period,
    where top-member lists start. The foreign keys get no index of their own.
    """

    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="+", db_index=False)
    branch = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    period = models.CharField(max_length=8, choices=Period.choices)
    start = models.DateField()
    points = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["member", "period", "start", "branch"],
                name="member_period_points_unique",
            )
        ]
        indexes = [
            models.Index(fields=["branch", "period", "start", "points"]),
            models.Index(fields=["period", "start", "points"], name="member_period_top_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.member_id}@{self.branch_id} {self.period} {self.start}: {self.points}"


class MemberYearBranches(models.Model):
    """How many branches a member has earned points in during a year (or ever).

    A member's points in a period are a single ``MemberPeriodPoints`` row unless they
    earned them in several branches, so a top-members list can read the highest rows
    of the period and needs the exact sums of only the members counted here with more
    than one branch (see ``learning.points.member_rankings.member_ranking``). ``start`` is the
    year's first day, or ``ALL_TIME_START`` for all time. The award that creates a
    member's year (or all-time) row for a branch inserts this row or adds one to it,
    so ``branches`` is never less than the branches with rows; it can be more when a
    reversal emptied a row that a later award then fills again.
    """

    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="+", db_index=False)
    start = models.DateField()
    branches = models.IntegerField(default=1)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["member", "start"], name="member_year_branches_unique")
        ]
        indexes = [models.Index(fields=["start", "branches"], name="member_year_branches_idx")]

    def __str__(self) -> str:
        return f"{self.member_id} {self.start}: {self.branches} branch(es)"


class BranchPeriodTotal(models.Model):
    """A branch's net points and number of active members for one period.

    A member is active in a period when their net points there are above zero; a
    reversal that brings them back to zero makes them inactive again.
    """

    branch = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    period = models.CharField(max_length=8, choices=Period.choices)
    start = models.DateField()
    points = models.IntegerField(default=0)
    active_members = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["period", "start", "branch"], name="branch_period_total_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.branch_id} {self.period} {self.start}: {self.points}"


class HeadcountChange(models.Model):
    """Net change of an organisation's member count on one day (joins minus departures).

    An organisation's headcount on day D is the sum of its changes up to D; this keeps
    "members on the period's last day" a sum over a few rows instead of a scan of every
    membership.
    """

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    delta = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "day"], name="headcount_change_unique")
        ]
        indexes = [models.Index(fields=["day", "organization"])]

    def __str__(self) -> str:
        return f"{self.organization_id} {self.day}: {self.delta:+d}"


class OrganizationHeadcount(models.Model):
    """An organisation's members counting every recorded change, and its branch.

    ``members`` is the sum of all the organisation's ``HeadcountChange`` rows, future
    ones included, so its headcount on day D is ``members`` minus the changes after D
    (for a period that contains today, usually none). ``branch`` is the nearest branch
    at or above the organisation in the current tree (empty when there is none): a
    branch ranking adds up its members with one GROUP BY instead of walking paths.
    Both are kept by ``learning.people.headcounts`` (``headcount_record`` in the transaction of
    every membership change, ``headcount_branches_refresh`` when the tree changes).
    """

    organization = models.OneToOneField(
        Organization, primary_key=True, on_delete=models.CASCADE, related_name="+"
    )
    branch = models.ForeignKey(
        Organization, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    members = models.IntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.organization_id} (branch {self.branch_id}): {self.members}"


class BranchListVersion(models.Model):
    """A number that changes with everything a branch ranking reads besides the totals.

    One row. Database triggers (``learning.points.db``, installed by migration 0011) set a new,
    never reused value in the transaction of every write to the organisations, their
    headcounts and headcount changes, and the leaderboard settings, so a process may
    keep a subtree's branch list as long as this number is unchanged. Awards do not
    touch it: rankings read the points themselves on every call.
    """

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    version = models.BigIntegerField()

    def __str__(self) -> str:
        return str(self.version)


@register_setting(icon="pick")
class LeaderboardSettings(BaseGenericSetting):
    """How rankings treat small branches and which metric they show first."""

    class Metric(models.TextChoices):
        PER_MEMBER = "per_member", _("Points per member")
        TOTAL = "total", _("Total points")
        PARTICIPATION = "participation", _("Participation rate")

    min_branch_size = models.PositiveIntegerField(
        _("minimum branch size"),
        default=3,
        help_text=_(
            "Branches with fewer members are still ranked but marked, because a "
            "per-member average of very few people says little."
        ),
    )
    default_metric = models.CharField(
        _("default metric"), max_length=20, choices=Metric.choices, default=Metric.PER_MEMBER
    )

    class Meta:
        verbose_name = _("leaderboard settings")
