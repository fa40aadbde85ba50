"""The ``learning`` models: organisations and members, the points ledger, office screens."""

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
from learning.models.screens import Screen

__all__ = [
    "PHONE_PATTERN",
    "BranchPeriodTotal",
    "HeadcountChange",
    "LeaderboardSettings",
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
    "phone_validator",
]
