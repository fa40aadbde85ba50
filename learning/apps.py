"""App configuration for ``learning`` and the member-aware Wagtail users admin."""

from __future__ import annotations

from django.apps import AppConfig
from django.db.backends.signals import connection_created
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _
from wagtail.users.apps import WagtailUsersAppConfig


class LearningConfig(AppConfig):
    default = True
    name = "learning"
    verbose_name = _("Learning")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from learning.integrity.patterns import study_subjects_register
        from learning.people.permissions import roles_sync_permissions_after_migrate
        from learning.points.db import ledger_guards_after_migrate, register_sqlite_functions

        connection_created.connect(register_sqlite_functions, dispatch_uid="learning_sqlite_fns")
        post_migrate.connect(ledger_guards_after_migrate, dispatch_uid="learning_ledger_guards")

        post_migrate.connect(
            roles_sync_permissions_after_migrate, dispatch_uid="learning_roles_sync"
        )
        # Study days are the subject of the nightly job's flags (learning.integrity).
        study_subjects_register()

        # What each layer holds about a member, for the export and erasure
        # (learning.people.privacy), in the order the export lists it.
        from learning.integrity.personal_data import integrity_section_register
        from learning.points.personal_data import ledger_section_register
        from learning.study.personal_data import study_sections_register

        ledger_section_register()
        study_sections_register()
        integrity_section_register()


class MembersAdminConfig(WagtailUsersAppConfig):
    """Wagtail's users app with Dangjian's member admin in place of its user admin.

    One place manages accounts: administrators see everyone and assign roles; a branch
    secretary sees and edits only the members of their own subtree.
    """

    default = False
    user_viewset = "learning.people.admin_views.MemberViewSet"

    def ready(self) -> None:
        super().ready()
        from wagtail.permissions import register_permission_policy

        from learning.models import Member
        from learning.people.permissions import MemberPermissionPolicy

        # Replaces the plain model policy Wagtail registered a line above.
        register_permission_policy(Member, MemberPermissionPolicy(Member))

        from learning.models import PointsEntry, PointsRule
        from learning.points.admin_points import NoAddDeletePolicy, ReadOnlyLedgerPolicy

        register_permission_policy(PointsRule, NoAddDeletePolicy(PointsRule))
        register_permission_policy(PointsEntry, ReadOnlyLedgerPolicy(PointsEntry))

        from learning.models import Assignment
        from learning.study.admin_assignments import AssignmentPermissionPolicy

        register_permission_policy(Assignment, AssignmentPermissionPolicy(Assignment))
