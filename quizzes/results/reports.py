"""Quiz results for the admin: per member and per branch, and who has not submitted yet.

``quiz_results`` reads the submitted attempts a user may see (``quizzes.results.scope``)
and grades each member as the quiz grades; ``QuizResults`` holds the figures and the two
branch tables the page and the workbook (``quizzes.results.results_xlsx``) both show.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from typing import TYPE_CHECKING

from django.db.models import Count, Exists, OuterRef
from django.utils.translation import gettext as _

from learning.common.report_tables import BranchTable, BranchTableRow, Cell, Percent
from learning.models import Member, Organization
from learning.people.selectors import nearest_branch, organizations_above
from quizzes.models import Attempt, Quiz
from quizzes.results.scope import attempts_visible_to, audience_members
from quizzes.taking.grades import grade_from_attempts, round_for_display

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser


def attempt_fraction(attempt: Attempt) -> Fraction | None:
    """The attempt's share of full marks in %, exact (None while it cannot be scored)."""
    if attempt.score is None or not attempt.max_score or attempt.needs_grading:
        return None
    return Fraction(attempt.score) * 100 / Fraction(attempt.max_score)


def attempt_percent(attempt: Attempt) -> Decimal | None:
    """``attempt_fraction`` rounded for display (2 places, half up)."""
    share = attempt_fraction(attempt)
    return None if share is None else round_for_display(share)


@dataclass
class MemberResult:
    """One member's submitted attempts at a quiz and their grade."""

    member: Member
    organization: Organization | None
    branch: Organization | None
    attempts: list[Attempt] = field(default_factory=list)
    grade: Decimal | None = None
    # Unrounded, for pass/fail and means: 59.996 % is not a pass at 60 %.
    grade_exact: Decimal | None = None
    best: Decimal | None = None
    passed: bool | None = None

    @property
    def waiting(self) -> int:
        return sum(1 for attempt in self.attempts if attempt.needs_grading)

    @property
    def flagged(self) -> list[Attempt]:
        return [attempt for attempt in self.attempts if attempt.is_held]


@dataclass
class BranchResult:
    """Totals for one branch (or the whole scope when ``branch`` is None)."""

    branch: Organization | None
    attempts: int = 0
    members: int = 0
    graded_members: int = 0
    grade_total: Decimal = Decimal(0)
    passed_members: int = 0

    def add(self, row: MemberResult) -> None:
        self.attempts += len(row.attempts)
        self.members += 1
        if row.grade_exact is not None:
            self.graded_members += 1
            self.grade_total += row.grade_exact
        if row.passed:
            self.passed_members += 1

    @property
    def mean(self) -> Decimal | None:
        """The mean of the members' grades (%), over members with a grade."""
        if not self.graded_members:
            return None
        return round_for_display(Fraction(self.grade_total) / self.graded_members)

    def pass_rate(self, quiz: Quiz) -> Decimal | None:
        """Share (%) of graded members whose grade reaches the pass mark."""
        if quiz.pass_percent is None or not self.graded_members:
            return None
        return round_for_display(Fraction(self.passed_members * 100, self.graded_members))


@dataclass(frozen=True)
class NotYetRow:
    """A member of the quiz's audience, in scope, who has not submitted an attempt."""

    member: Member
    organization: Organization
    branch: Organization
    # An attempt is in progress (started, not submitted).
    started: bool


@dataclass
class BranchAudience:
    """Of one branch's current members in the quiz's audience: who submitted, who not yet."""

    branch: Organization | None
    audience: int = 0
    not_yet: int = 0

    @property
    def submitted(self) -> int:
        return self.audience - self.not_yet


@dataclass
class QuizResults:
    quiz: Quiz
    branches: list[BranchResult] = field(default_factory=list)
    members: list[MemberResult] = field(default_factory=list)
    total: BranchResult = field(default_factory=lambda: BranchResult(branch=None))
    not_yet: list[NotYetRow] = field(default_factory=list)
    not_yet_branches: list[BranchAudience] = field(default_factory=list)
    not_yet_total: BranchAudience = field(default_factory=lambda: BranchAudience(branch=None))

    @property
    def total_pass_rate(self) -> Decimal | None:
        return self.total.pass_rate(self.quiz)

    def branch_rows(self) -> list[tuple[BranchResult, Decimal | None]]:
        return [(row, row.pass_rate(self.quiz)) for row in self.branches]

    def branch_table(self) -> BranchTable:
        """Per branch: attempts, members, mean score and pass rate, then the total."""

        def cells(row: BranchResult, rate: Decimal | None) -> tuple[Cell, ...]:
            return (row.attempts, row.members, Percent(row.mean), Percent(rate))

        counts = (_("Attempts"), _("Members"))
        return BranchTable(
            first_heading=_("Branch"),
            headings=(*counts, _("Mean score"), _("Pass rate")),
            sheet_headings=(*counts, _("Mean score (%)"), _("Pass rate (%)")),
            rows=tuple(
                BranchTableRow(row.branch.name if row.branch else "—", cells(row, rate))
                for row, rate in self.branch_rows()
            ),
            total=BranchTableRow(_("Total"), cells(self.total, self.total_pass_rate)),
            testid="results-branches",
        )

    def not_yet_branch_table(self) -> BranchTable:
        """Of the audience in scope, per branch: members, submitted, not yet, then the total."""

        def cells(row: BranchAudience) -> tuple[Cell, ...]:
            return (row.audience, row.submitted, row.not_yet)

        return BranchTable(
            first_heading=_("Branch"),
            headings=(_("Audience members"), _("Submitted"), _("Not yet submitted")),
            rows=tuple(
                BranchTableRow(row.branch.name if row.branch else "—", cells(row))
                for row in self.not_yet_branches
            ),
            total=BranchTableRow(_("Total"), cells(self.not_yet_total)),
            testid="not-yet-branches",
        )


def _member_grade(quiz: Quiz, attempts: Sequence[Attempt]) -> Decimal | None:
    """The grade (%) over the fully scored attempts, oldest first, as the quiz grades."""
    scores = [attempt_fraction(attempt) for attempt in attempts]
    return grade_from_attempts(quiz.grading_method, [s for s in scores if s is not None])


def quiz_results(*, quiz: Quiz, user: Member | AnonymousUser) -> QuizResults:
    """The submitted attempts at ``quiz`` that ``user`` may see, per member and per branch,
    and who has not submitted one yet (``quiz_not_yet``).

    A member's grade follows the quiz's grading method over their attempts that are fully
    scored (an attempt waiting for a short answer's mark does not count yet). A member is
    listed under the branch of their latest attempt. A fixed number of queries.
    """
    results = QuizResults(quiz=quiz)
    _not_yet_fill(results, user)
    attempts = list(
        attempts_visible_to(user)
        .filter(quiz=quiz, state=Attempt.State.SUBMITTED)
        .select_related("member", "organization")
        .order_by("member_id", "number")
    )
    if not attempts:
        return results
    by_path = organizations_above(
        attempt.organization for attempt in attempts if attempt.organization is not None
    )
    rows: dict[int, MemberResult] = {}
    for attempt in attempts:
        row = rows.get(attempt.member_id)
        if row is None:
            row = rows[attempt.member_id] = MemberResult(
                member=attempt.member, organization=None, branch=None
            )
        row.attempts.append(attempt)
        # Attempts come in number order: the last one seen is the latest.
        row.organization = attempt.organization
        row.branch = (
            nearest_branch(attempt.organization, by_path)
            if attempt.organization is not None
            else None
        )
    branches: dict[int | None, BranchResult] = {}
    for row in rows.values():
        row.grade_exact = _member_grade(quiz, row.attempts)
        row.grade = None if row.grade_exact is None else round_for_display(row.grade_exact)
        percents = [p for p in (attempt_fraction(a) for a in row.attempts) if p is not None]
        row.best = round_for_display(max(percents)) if percents else None
        if quiz.pass_percent is not None and row.grade_exact is not None:
            row.passed = row.grade_exact >= quiz.pass_percent
        key = row.branch.pk if row.branch else None
        branches.setdefault(key, BranchResult(branch=row.branch)).add(row)
        results.total.add(row)
    results.members = sorted(
        rows.values(),
        key=lambda row: (
            row.organization.path if row.organization else "",
            row.member.display_name or row.member.username,
        ),
    )
    results.branches = sorted(
        branches.values(), key=lambda row: row.branch.path if row.branch else ""
    )
    return results


def _not_yet_fill(results: QuizResults, user: Member | AnonymousUser) -> None:
    """Fill ``results.not_yet``: the audience in scope without a submitted attempt.

    Three queries whatever the number of members: the audience counted per organisation,
    the members not yet submitted with their organisation, and the organisations above.
    """
    quiz = results.quiz
    members = audience_members(quiz, user)
    submitted = Attempt.objects.filter(
        quiz=quiz, member=OuterRef("pk"), state=Attempt.State.SUBMITTED
    )
    in_progress = Attempt.objects.filter(
        quiz=quiz, member=OuterRef("pk"), state=Attempt.State.IN_PROGRESS
    )
    audience = dict(
        members.values("organization_id")
        .annotate(count=Count("pk"))
        .order_by()
        .values_list("organization_id", "count")
    )
    if not audience:
        return
    waiting = list(
        members.exclude(Exists(submitted))
        .annotate(started=Exists(in_progress))
        .select_related("organization")
        .order_by("organization__path", "display_name", "username")
    )
    organizations = {
        org.pk: org
        for org in Organization.objects.filter(pk__in=list(audience)).only(
            "path", "depth", "kind", "name"
        )
    }
    by_path = organizations_above(organizations.values())
    branches: dict[int, BranchAudience] = {}
    for organization_id, count in audience.items():
        branch = nearest_branch(organizations[organization_id], by_path)
        row = branches.setdefault(branch.pk, BranchAudience(branch=branch))
        row.audience += count
        results.not_yet_total.audience += count
    for member in waiting:
        branch = nearest_branch(member.organization, by_path)
        results.not_yet.append(
            NotYetRow(
                member=member,
                organization=member.organization,
                branch=branch,
                started=member.started,
            )
        )
        branches[branch.pk].not_yet += 1
        results.not_yet_total.not_yet += 1
    results.not_yet_branches = sorted(branches.values(), key=lambda row: row.branch.path)
