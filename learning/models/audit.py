"""The audit log of members and organisations, seen by a secretary only for their subtree.

Wagtail keeps every model's audit entries (created, edited, failed logins, passwords
set by someone else …) in one table and shows an entry to anyone who holds any
permission on its model. A secretary holds member and organisation permissions for
their subtree only, so Wagtail's rule would show them the whole organisation's history
(names, and the addresses failed logins came from) in the site history report. These
entries live in their own table whose ``viewable_by_user`` follows the subtree.
"""

from __future__ import annotations

from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import CharField, Q
from django.db.models.functions import Cast
from django.utils.translation import gettext_lazy as _
from wagtail.models.audit_log import BaseLogEntry, ModelLogEntryManager


class SubtreeLogEntryManager(ModelLogEntryManager):
    def viewable_by_user(self, user: Any) -> models.QuerySet[SubtreeLogEntry]:
        # Imported here: the selectors import the models package this module is part of.
        from learning.models.organisations import Member, Organization
        from learning.people.selectors import (
            members_visible_to,
            organizations_visible_to,
            user_is_administrator,
        )

        if user_is_administrator(user):
            return self.all()
        members = ContentType.objects.get_for_model(Member)
        organizations = ContentType.objects.get_for_model(Organization)
        visible_members = members_visible_to(user).annotate(key=Cast("pk", CharField()))
        visible_organizations = organizations_visible_to(user).annotate(key=Cast("pk", CharField()))
        return self.filter(
            Q(content_type=members, object_id__in=visible_members.values("key"))
            | Q(content_type=organizations, object_id__in=visible_organizations.values("key"))
        )


class SubtreeLogEntry(BaseLogEntry):
    """One audit-log entry about a member or an organisation (see the module docstring)."""

    object_id = models.CharField(max_length=255, db_index=True)

    objects = SubtreeLogEntryManager()

    class Meta(BaseLogEntry.Meta):
        ordering = ["-timestamp", "-id"]
        verbose_name = _("member or organisation log entry")
        verbose_name_plural = _("member and organisation log entries")

    def __str__(self) -> str:
        return f"SubtreeLogEntry {self.pk}: {self.action} on {self.object_id}"
