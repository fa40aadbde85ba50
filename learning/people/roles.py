"""Roles are Django groups. This module names them and declares their permissions.

The groups are created by a data migration (``0002_roles``); the permissions declared
here are added after every ``migrate`` (see ``learning.apps``), because on a fresh
database permissions only exist once ``post_migrate`` has run. Permissions are only
ever added, never removed, so an administrator's changes in the admin survive.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

MEMBER = "党员"
EDITOR = "编辑"
APPROVER = "审核"
SECRETARY = "支部书记"
ADMINISTRATOR = "管理员"

ROLE_LABELS = {
    MEMBER: _("Member"),
    EDITOR: _("Editor"),
    APPROVER: _("Approver"),
    SECRETARY: _("Branch secretary"),
    ADMINISTRATOR: _("Administrator"),
}

# Wagtail's own migrations create these two groups with page and collection
# permissions; Dangjian adopts them as its editor and approver roles.
WAGTAIL_GROUP_RENAMES = {"Editors": EDITOR, "Moderators": APPROVER}

_CONTENT_PERMISSIONS = [
    "wagtailadmin.access_admin",
    "wagtailimages.add_image",
    "wagtailimages.change_image",
    "wagtailimages.choose_image",
    "wagtaildocs.add_document",
    "wagtaildocs.change_document",
    "wagtaildocs.choose_document",
]

_ASSIGNMENT_PERMISSIONS = [
    "learning.add_assignment",
    "learning.change_assignment",
    "learning.delete_assignment",
    "learning.view_assignment",
]

# The question bank (categories, questions, tags) and its imports and exports. No
# deleting questions: they are retired, so past attempts and statistics stay whole.
_QUESTION_BANK_PERMISSIONS = [
    "quizzes.add_question",
    "quizzes.change_question",
    "quizzes.view_question",
    "quizzes.add_questioncategory",
    "quizzes.change_questioncategory",
    "quizzes.delete_questioncategory",
    "quizzes.view_questioncategory",
    "quizzes.add_questiontag",
    "quizzes.change_questiontag",
    "quizzes.view_questiontag",
]

# Building quizzes (fixed questions, drawing rules, the daily quiz settings). Those who
# may change quizzes see every organisation's results and the statistics
# (quizzes.results.scope.can_see_all_results).
_QUIZ_PERMISSIONS = [
    "quizzes.add_quiz",
    "quizzes.change_quiz",
    "quizzes.delete_quiz",
    "quizzes.view_quiz",
    "quizzes.add_quizquestion",
    "quizzes.change_quizquestion",
    "quizzes.delete_quizquestion",
    "quizzes.view_quizquestion",
    "quizzes.add_quizdrawrule",
    "quizzes.change_quizdrawrule",
    "quizzes.delete_quizdrawrule",
    "quizzes.view_quizdrawrule",
    "quizzes.change_dailyquizsettings",
    "quizzes.view_dailyquizsettings",
]

# Results, grading and accepting fast attempts; a secretary's are limited to their
# subtree by quizzes.results.scope (no quizzes.change_quiz, so never everybody's).
_QUIZ_RESULT_PERMISSIONS = [
    "quizzes.view_attempt",
    "quizzes.change_attempt",
    "quizzes.change_attemptquestion",
]

# "app_label.codename" for single permissions, "app_label.*" for all of an app's.
ROLE_PERMISSIONS: dict[str, list[str]] = {
    MEMBER: [],
    # Editors and approvers assign study to any organisation.
    EDITOR: [
        *_CONTENT_PERMISSIONS,
        *_ASSIGNMENT_PERMISSIONS,
        "learning.assign_any_organization",
        *_QUESTION_BANK_PERMISSIONS,
        *_QUIZ_PERMISSIONS,
        *_QUIZ_RESULT_PERMISSIONS,
    ],
    # Approvers can do what editors do (they stand in for them), the bank included.
    APPROVER: [
        *_CONTENT_PERMISSIONS,
        *_ASSIGNMENT_PERMISSIONS,
        "learning.assign_any_organization",
        *_QUESTION_BANK_PERMISSIONS,
        *_QUIZ_PERMISSIONS,
        *_QUIZ_RESULT_PERMISSIONS,
    ],
    # A secretary's assignments and reports are limited to their subtree (see
    # learning.study.assignments); the same permissions, scoped.
    SECRETARY: [
        "wagtailadmin.access_admin",
        "learning.manage_org_members",
        "learning.view_organization",
        "learning.view_pointsentry",
        # Flags of their subtree only (learning.integrity.selectors).
        "learning.view_integrityflag",
        "learning.review_integrityflag",
        *_ASSIGNMENT_PERMISSIONS,
        *_QUIZ_RESULT_PERMISSIONS,
    ],
    ADMINISTRATOR: [
        "wagtailadmin.access_admin",
        "learning.*",
        "cms.*",
        "quizzes.*",
        "auth.add_group",
        "auth.change_group",
        "auth.delete_group",
        "auth.view_group",
        "wagtailcore.add_site",
        "wagtailcore.change_site",
        "wagtailcore.view_site",
        "wagtailcore.add_workflow",
        "wagtailcore.change_workflow",
        "wagtailcore.add_task",
        "wagtailcore.change_task",
        "wagtailredirects.add_redirect",
        "wagtailredirects.change_redirect",
        "wagtailredirects.delete_redirect",
    ],
}

ALL_ROLES = list(ROLE_PERMISSIONS)
STAFF_ROLES = {EDITOR, APPROVER, SECRETARY, ADMINISTRATOR}
