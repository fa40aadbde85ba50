"""The ``learning`` models: organisations, members, study and assignments, points, screens."""

from learning.models.assignments import Assignment
from learning.models.audit import SubtreeLogEntry
from learning.models.integrity import IntegrityFlag
from learning.models.organisations import (
    PHONE_PATTERN,
    Member,
    MemberManager,
    Membership,
    Organization,
    OrganizationSecretary,
    phone_validator,
)
from learning.models.points import (
    BranchPeriodTotal,
    HeadcountChange,
    LeaderboardSettings,
    MemberPeriodPoints,
    MemberRuleDayPoints,
    Period,
    PointsEntry,
    PointsRule,
)
from learning.models.progress import LessonProgress, StudyClock, StudyDay
from learning.models.screens import Screen
from learning.models.tasks import UnsentTask

__all__ = [
    "PHONE_PATTERN",
    "Assignment",
    "BranchPeriodTotal",
    "HeadcountChange",
    "IntegrityFlag",
    "LeaderboardSettings",
    "LessonProgress",
    "Member",
    "MemberManager",
    "MemberPeriodPoints",
    "MemberRuleDayPoints",
    "Membership",
    "Organization",
    "OrganizationSecretary",
    "Period",
    "PointsEntry",
    "PointsRule",
    "Screen",
    "StudyClock",
    "StudyDay",
    "SubtreeLogEntry",
    "UnsentTask",
    "phone_validator",
]
