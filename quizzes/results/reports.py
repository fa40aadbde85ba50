"""Quiz results for the admin: who may see which attempts, the grading queue, results per
branch and per member with their ``.xlsx`` export, and cached quiz statistics.

Scope follows the rest of the admin (docs/roles.md): administrators and those who build
quizzes (``quizzes.change_quiz``: editors, approvers) see every attempt; a branch secretary
sees the attempts made by members of their subtree — by the organisation the member
belonged to *when the attempt started* (``Attempt.organization``), so a transfer does not
move old results between branches.

Statistics are computed by ``quizzes.results.statistics`` from a matrix of marks (attempt ×
question) in a Celery task and kept in the Django cache under a key made of the quiz and
a stamp of its attempts, so a new submission or a graded answer makes a fresh key and the
stale figures are never shown as current.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from django.core.cache import cache
from django.db import transaction
from django.db.models import Count, Exists, Max, OuterRef, Q, QuerySet
from django.db.models.fields.json import KT
from django.utils import timezone
from django.utils.translation import gettext as _

from learning.common.spreadsheets import (
    member_cells,
    member_header,
    sheet_add,
    sheet_append,
    sheet_table,
    workbook_bytes,
    workbook_new,
)
from learning.models import Member, Organization
from learning.people.selectors import (
    organizations_visible_to,
    secretary_roots,
    touching_subtrees_q,
    user_is_administrator,
)
from quizzes.models import Attempt, AttemptQuestion, Question, Quiz
from quizzes.results.statistics import AttemptMarks, quiz_statistics
from quizzes.taking.attempts import LISTED_KINDS
from quizzes.taking.scoring import grade_from_attempts, round_for_display

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

logger = logging.getLogger(__name__)

# Those who build quizzes see all of their results, like administrators.
ALL_RESULTS_PERMISSION = "quizzes.change_quiz"
VIEW_RESULTS_PERMISSION = "quizzes.view_attempt"
GRADE_PERMISSION = "quizzes.change_attemptquestion"
ACCEPT_FAST_PERMISSION = "quizzes.change_attempt"

# Statistics stay in the cache this long; a changed stamp makes them unused sooner.
STATISTICS_TTL = 7 * 24 * 3600
# While a recompute is queued, page loads do not queue another one for the same stamp.
STATISTICS_PENDING_TTL = 10 * 60


# --- Scope -------------------------------------------------------------------------------


def _active(user: Member | AnonymousUser) -> bool:
    return bool(user.is_authenticated and user.is_active)


def can_see_all_results(user: Member | AnonymousUser) -> bool:
    """Administrators and quiz builders see every attempt of every organisation."""
    if not _active(user):
        return False
    return user_is_administrator(user) or user.has_perm(ALL_RESULTS_PERMISSION)


_SCOPE_CACHE_ATTRIBUTE = "_quiz_results_scope"


def results_scope_paths(user: Member | AnonymousUser) -> list[str] | None:
    """``None`` for everything, else the tree paths of the top of a secretary's subtrees.

    An empty list means nothing at all (a member, or a secretary with no organisation).
    Kept on the user object, like Django's permission cache: the admin menu asks on every
    page, several times, and the answer cannot change within a request.
    """
    cached = getattr(user, _SCOPE_CACHE_ATTRIBUTE, False)
    if cached is not False:
        return cached
    paths = _scope_paths(user)
    if user.is_authenticated:
        setattr(user, _SCOPE_CACHE_ATTRIBUTE, paths)
    return paths


def _scope_paths(user: Member | AnonymousUser) -> list[str] | None:
    if can_see_all_results(user):
        return None
    if not _active(user) or not organizations_visible_to(user).exists():
        return []
    return list(secretary_roots(user).values_list("path", flat=True))


def _in_scope(paths: list[str], prefix: str) -> Q:
    condition = Q(pk__in=[])
    for path in paths:
        condition |= Q(**{f"{prefix}organization__path__startswith": path})
    return condition


def attempts_visible_to(user: Member | AnonymousUser) -> QuerySet[Attempt]:
    """The attempts ``user`` may see results of (needs ``quizzes.view_attempt``)."""
    if not _active(user) or not user.has_perm(VIEW_RESULTS_PERMISSION):
        return Attempt.objects.none()
    paths = results_scope_paths(user)
    if paths is None:
        return Attempt.objects.all()
    if not paths:
        return Attempt.objects.none()
    return Attempt.objects.filter(_in_scope(paths, ""))


def can_view_results(user: Member | AnonymousUser) -> bool:
    if not _active(user) or not user.has_perm(VIEW_RESULTS_PERMISSION):
        return False
    return results_scope_paths(user) != []


def can_grade(user: Member | AnonymousUser) -> bool:
    if not _active(user) or not user.has_perm(GRADE_PERMISSION):
        return False
    return results_scope_paths(user) != []


def can_accept_fast(user: Member | AnonymousUser) -> bool:
    if not _active(user) or not user.has_perm(ACCEPT_FAST_PERMISSION):
        return False
    return results_scope_paths(user) != []


def grading_queue_for(user: Member | AnonymousUser) -> QuerySet[AttemptQuestion]:
    """Answers waiting for a person's mark, oldest submission first, within ``user``'s scope."""
    if not can_grade(user):
        return AttemptQuestion.objects.none()
    queue = AttemptQuestion.objects.filter(
        state=AttemptQuestion.State.NEEDS_GRADING, attempt__state=Attempt.State.SUBMITTED
    )
    paths = results_scope_paths(user)
    if paths is not None:
        queue = queue.filter(_in_scope(paths, "attempt__"))
    return queue.select_related(
        "attempt__quiz", "attempt__member", "attempt__organization"
    ).order_by("attempt__submitted_at", "attempt_id", "position")


# Quizzes members are expected to take (the kinds their quiz page lists) appear in the
# results before anyone has submitted, so their not-yet list can be reached. The daily
# quiz (one a day), practice and the challenge are listed once somebody has taken them.
EXPECTED_KINDS = LISTED_KINDS


def _expected_in_scope(user: Member | AnonymousUser) -> Q:
    """Published quizzes of ``EXPECTED_KINDS`` whose audience reaches ``user``'s scope.

    A quiz reaches a secretary's subtree when it has no audience (everyone), or an
    audience organisation inside the subtree or above it (a committee-wide exam).
    """
    expected = Q(is_published=True, kind__in=EXPECTED_KINDS)
    paths = results_scope_paths(user)
    if paths is None:
        return expected
    if not paths:
        return Q(pk__in=[])
    audience = Quiz.organizations.through.objects.filter(quiz=OuterRef("pk"))
    touching = audience.filter(touching_subtrees_q(paths, prefix="organization__"))
    return expected & (~Exists(audience) | Exists(touching))


def quizzes_with_results_for(user: Member | AnonymousUser) -> QuerySet[Quiz]:
    """Quizzes with submitted attempts in ``user``'s scope, and the published quizzes meant
    for members in it that nobody has submitted yet (counted as ``scoped_attempts``, with
    those ``waiting`` for grading and those ``held`` as too fast)."""
    if not can_view_results(user):
        return Quiz.objects.none()
    attempts = attempts_visible_to(user).filter(state=Attempt.State.SUBMITTED)
    return (
        Quiz.objects.filter(Q(pk__in=attempts.values("quiz_id")) | _expected_in_scope(user))
        .annotate(
            scoped_attempts=Count(
                "attempts", filter=Q(attempts__in=attempts.values("pk")), distinct=True
            ),
            waiting=Count(
                "attempts",
                filter=Q(attempts__in=attempts.filter(needs_grading=True).values("pk")),
                distinct=True,
            ),
            held=Count(
                "attempts",
                filter=Q(attempts__in=attempts.filter(too_fast=True).values("pk")),
                distinct=True,
            ),
        )
        .order_by("-created_at", "-pk")
    )


# --- Results per branch and per member ----------------------------------------------------


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
        return [attempt for attempt in self.attempts if attempt.too_fast]


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


def _branch_of(
    organization: Organization | None, by_path: dict[str, Organization]
) -> Organization | None:
    """The nearest branch at or above ``organization`` (a party group rolls up to its branch)."""
    if organization is None:
        return None
    for path in reversed(organization.ancestor_paths()):
        candidate = by_path.get(path)
        if candidate is not None and candidate.kind == Organization.Kind.BRANCH:
            return candidate
    return organization


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
    paths = {
        path
        for attempt in attempts
        if attempt.organization is not None
        for path in attempt.organization.ancestor_paths()
    }
    by_path = {org.path: org for org in Organization.objects.filter(path__in=paths)}
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
        row.branch = _branch_of(attempt.organization, by_path)
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


def audience_members(quiz: Quiz, user: Member | AnonymousUser) -> QuerySet[Member]:
    """The active members ``quiz`` is meant for that ``user`` may see results of.

    The audience is the quiz's organisations and everything below them (none: everyone);
    membership is by the member's current organisation. Empty without the right to see
    results.
    """
    if not _active(user) or not user.has_perm(VIEW_RESULTS_PERMISSION):
        return Member.objects.none()
    members = Member.objects.filter(is_active=True, organization__isnull=False)
    paths = results_scope_paths(user)
    if paths is not None:
        if not paths:
            return Member.objects.none()
        members = members.filter(_in_scope(paths, ""))
    audience = list(quiz.organizations.values_list("path", flat=True))
    if audience:
        members = members.filter(_in_scope(audience, ""))
    return members


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
    paths = {path for org in organizations.values() for path in org.ancestor_paths()}
    by_path = {org.path: org for org in Organization.objects.filter(path__in=paths)}
    branches: dict[int, BranchAudience] = {}
    for organization_id, count in audience.items():
        branch = _branch_of(organizations[organization_id], by_path)
        row = branches.setdefault(branch.pk, BranchAudience(branch=branch))
        row.audience += count
        results.not_yet_total.audience += count
    for member in waiting:
        branch = _branch_of(member.organization, by_path)
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


def _number(value: Decimal | None) -> float | None:
    # openpyxl writes Decimal as text in some readers; a float keeps the cell numeric.
    return None if value is None else float(value)


def quiz_results_xlsx(results: QuizResults) -> bytes:
    """The results as a workbook: branches, members, attempts, and what was exported."""
    from openpyxl.styles import Font

    quiz = results.quiz
    workbook, branches = workbook_new(_("Branches"))
    sheet_append(
        branches,
        [_("Branch"), _("Attempts"), _("Members"), _("Mean score (%)"), _("Pass rate (%)")],
    )
    for row, rate in [*results.branch_rows(), (results.total, results.total_pass_rate)]:
        name = _("Total") if row is results.total else (row.branch.name if row.branch else "—")
        sheet_append(branches, [name, row.attempts, row.members, _number(row.mean), _number(rate)])

    members = sheet_add(workbook, _("Members"))
    sheet_append(
        members,
        [
            *member_header(),
            _("Attempts"),
            _("Best score (%)"),
            _("Grade (%)"),
            _("Passed"),
            _("Waiting for grading"),
            _("Flagged as too fast"),
        ],
    )
    for row in results.members:
        sheet_append(
            members,
            [
                *member_cells(row.member, row.branch, row.organization),
                len(row.attempts),
                _number(row.best),
                _number(row.grade),
                "" if row.passed is None else (_("Yes") if row.passed else _("No")),
                row.waiting,
                len(row.flagged),
            ],
        )

    attempts = sheet_add(workbook, _("Attempts"))
    sheet_append(
        attempts,
        [
            _("Member"),
            _("Username"),
            _("Attempt"),
            _("Submitted at"),
            _("Score"),
            _("Full marks"),
            _("Score (%)"),
            _("Waiting for grading"),
            _("Flagged as too fast"),
        ],
    )
    for row in results.members:
        for attempt in row.attempts:
            percent = attempt_percent(attempt)
            submitted = (
                timezone.localtime(attempt.submitted_at).replace(tzinfo=None, microsecond=0)
                if attempt.submitted_at
                else None
            )
            sheet_append(
                attempts,
                [
                    row.member.display_name or row.member.username,
                    row.member.username,
                    attempt.number,
                    submitted,
                    _number(attempt.score),
                    _number(attempt.max_score),
                    _number(percent),
                    _("Yes") if attempt.needs_grading else "",
                    _("Yes") if attempt.too_fast else "",
                ],
            )
            if submitted:
                attempts.cell(row=attempts.max_row, column=4).number_format = "yyyy-mm-dd hh:mm"

    _not_yet_sheets(workbook, results)

    about = sheet_add(workbook, _("About"))
    for label, value in [
        (_("Quiz"), quiz.title),
        (_("Kind"), str(quiz.get_kind_display())),
        (_("Grading method"), str(quiz.get_grading_method_display())),
        (_("Pass mark (%)"), quiz.pass_percent if quiz.pass_percent is not None else "—"),
        (_("Exported at"), timezone.localtime().replace(tzinfo=None, microsecond=0)),
    ]:
        sheet_append(about, [label, value])

    for sheet in workbook.worksheets:
        if sheet is about:
            continue
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for column in "ABCDEFGHIJ":
            sheet.column_dimensions[column].width = 16
    about.column_dimensions["A"].width = 18
    about.column_dimensions["B"].width = 40
    return workbook_bytes(workbook)


def _not_yet_sheets(workbook: Any, results: QuizResults) -> None:
    """Who has not submitted yet: counts per branch, then one row per member."""
    counts = sheet_add(workbook, _("Not yet by branch"))
    sheet_append(
        counts, [_("Branch"), _("Audience members"), _("Submitted"), _("Not yet submitted")]
    )
    for row in [*results.not_yet_branches, results.not_yet_total]:
        name = _("Total") if row.branch is None else row.branch.name
        sheet_append(counts, [name, row.audience, row.submitted, row.not_yet])
    sheet_table(
        workbook,
        _("Not yet submitted"),
        [*member_header(), _("State")],
        (
            [
                *member_cells(row.member, row.branch, row.organization),
                _("Started, not submitted") if row.started else _("Not started"),
            ]
            for row in results.not_yet
        ),
    )


# --- Statistics ------------------------------------------------------------------------------


def _statistics_key(quiz_id: int, stamp: str) -> str:
    return f"quizzes:statistics:{quiz_id}:{stamp}"


def _statistics_latest_key(quiz_id: int) -> str:
    return f"quizzes:statistics:{quiz_id}:latest"


def _statistics_pending_key(quiz_id: int, stamp: str) -> str:
    return f"quizzes:statistics:{quiz_id}:{stamp}:pending"


def statistics_stamp(quiz: Quiz) -> str:
    """A short fingerprint of what the statistics read: it changes when an attempt is
    submitted or an answer is graded (grading changes marks without a new submission)."""
    submitted = Attempt.objects.filter(quiz=quiz, state=Attempt.State.SUBMITTED).aggregate(
        count=Count("pk"), last=Max("submitted_at")
    )
    graded = AttemptQuestion.objects.filter(
        attempt__quiz=quiz, state=AttemptQuestion.State.GRADED
    ).aggregate(count=Count("pk"), last=Max("graded_at"))
    parts = [
        submitted["count"],
        submitted["last"].isoformat() if submitted["last"] else "",
        graded["count"],
        graded["last"].isoformat() if graded["last"] else "",
    ]
    return hashlib.sha256(":".join(map(str, parts)).encode()).hexdigest()[:16]


LETTERS = "ABCDEFGHIJ"


def _float(value: float | None, places: int = 2) -> float | None:
    return None if value is None else round(value, places)


def statistics_input(
    quiz: Quiz,
) -> tuple[list[AttemptMarks], dict[tuple[int, int], Decimal], dict[tuple[int, int], Any]]:
    """The marks of ``quiz``'s scored attempts for ``quizzes.results.statistics``.

    Returns the attempts (marks and chosen options per question), each question's full
    mark, and one frozen snapshot per question for the labels. A question is keyed by
    ``(question id, version)`` from its snapshot, so answers to an edited wording are kept
    apart and a question drawn by a rule is one column whatever its position; an attempt
    that did not get a question leaves its cell empty. Attempts still waiting for a
    short answer's mark are left out: their totals are not known yet.

    Three queries whatever the size: the marks (without the snapshots, which are large),
    then one snapshot per question.
    """
    rows = (
        AttemptQuestion.objects.filter(
            attempt__quiz=quiz,
            attempt__state=Attempt.State.SUBMITTED,
            attempt__needs_grading=False,
        )
        .annotate(
            snapshot_id=KT("snapshot__id"),
            snapshot_version=KT("snapshot__version"),
            snapshot_type=KT("snapshot__type"),
        )
        .values_list(
            "pk",
            "attempt_id",
            "position",
            "snapshot_id",
            "snapshot_version",
            "snapshot_type",
            "max_mark",
            "mark",
            "response",
        )
        .order_by("attempt_id", "position")
    )
    marks: dict[int, dict[tuple[int, int], Decimal]] = {}
    choices: dict[int, dict[tuple[int, int], list[int]]] = {}
    max_marks: dict[tuple[int, int], Decimal] = {}
    first_item: dict[tuple[int, int], int] = {}
    first_position: dict[tuple[int, int], int] = {}
    for pk, attempt_id, position, qid, version, kind, max_mark, mark, response in rows:
        key = (int(qid), int(version))
        if key not in max_marks:
            max_marks[key] = max_mark
            first_item[key] = pk
        first_position[key] = min(first_position.get(key, position), position)
        value = mark or Decimal(0)
        if max_mark != max_marks[key] and max_mark:
            # The quiz's mark for this question changed between attempts: compare shares.
            value = value * max_marks[key] / max_mark
        marks.setdefault(attempt_id, {})[key] = value
        if kind in (Question.Type.SINGLE, Question.Type.MULTIPLE) and isinstance(response, dict):
            chosen = response.get("choices") or []
            choices.setdefault(attempt_id, {})[key] = [c for c in chosen if isinstance(c, int)]
    order = sorted(max_marks, key=lambda key: (first_position[key], key))
    snapshots = {
        item.pk: item.snapshot
        for item in AttemptQuestion.objects.filter(pk__in=first_item.values()).only("snapshot")
    }
    attempts = [
        AttemptMarks(marks=marks[attempt_id], choices=choices.get(attempt_id, {}))
        for attempt_id in marks
    ]
    return (
        attempts,
        {key: max_marks[key] for key in order},
        {key: snapshots[first_item[key]] for key in order},
    )


def _statistics_data(quiz: Quiz) -> dict[str, Any]:
    """Compute the statistics and shape them as plain data for the cache and the page."""
    attempts, max_marks, snapshots = statistics_input(quiz)
    options = {
        key: [choice["id"] for choice in snapshot.get("choices", [])]
        for key, snapshot in snapshots.items()
        if snapshot.get("choices")
    }
    result = quiz_statistics(attempts, max_marks, options=options)
    full_marks = float(sum(max_marks.values(), Decimal(0)))
    questions = []
    for number, item in enumerate(result.questions, start=1):
        snapshot = snapshots[item.question]
        texts = {
            choice["id"]: (index, choice)
            for index, choice in enumerate(snapshot.get("choices", []))
        }
        frequencies = []
        for frequency in item.options:
            index, choice = texts.get(frequency.option, (None, None))
            frequencies.append(
                {
                    "letter": LETTERS[index] if index is not None and index < 10 else "?",
                    "text": choice["text"] if choice else str(frequency.option),
                    "is_correct": bool(choice and choice.get("is_correct")),
                    "count": frequency.count,
                    "percent": _float(frequency.share * 100, 1),
                }
            )
        questions.append(
            {
                "number": number,
                "question_id": item.question[0],
                "version": item.question[1],
                "stem": snapshot.get("stem", ""),
                "type": snapshot.get("type", ""),
                "attempts": item.attempts,
                "max_mark": _float(item.max_mark),
                "facility": _float(item.facility_index),
                "sd": _float(item.standard_deviation),
                "discrimination": _float(item.discrimination_index),
                "efficiency": _float(item.discriminative_efficiency),
                "options": frequencies,
            }
        )
    return {
        "attempts": result.attempts,
        "full_marks": _float(full_marks) if result.attempts else None,
        "mean": _float(result.mean),
        "median": _float(result.median),
        "sd": _float(result.standard_deviation),
        "skewness": _float(result.skewness, 3),
        "kurtosis": _float(result.kurtosis, 3),
        "cic": _float(result.internal_consistency),
        "error_ratio": _float(result.error_ratio),
        "standard_error": _float(result.standard_error),
        "drawn": any(item["attempts"] != result.attempts for item in questions),
        "questions": questions,
    }


@dataclass(frozen=True)
class StatisticsState:
    """What the statistics page shows: ``data`` (or None), whether it is current, and
    whether a recompute is on its way."""

    data: dict[str, Any] | None
    fresh: bool
    pending: bool


def quiz_statistics_for(*, quiz: Quiz) -> StatisticsState:
    """The cached statistics of ``quiz``; queues a recompute when they are missing or stale.

    Stale figures (from before the latest submission) are still returned, marked as not
    fresh, so the page has something to show while the task runs.
    """
    stamp = statistics_stamp(quiz)
    data = cache.get(_statistics_key(quiz.pk, stamp))
    if data is not None:
        return StatisticsState(data=data, fresh=True, pending=False)
    _enqueue(quiz.pk, stamp, force=False)
    data = cache.get(_statistics_key(quiz.pk, stamp))
    if data is not None:
        # An eager task (tests, development) has already run.
        return StatisticsState(data=data, fresh=True, pending=False)
    return StatisticsState(
        data=cache.get(_statistics_latest_key(quiz.pk)), fresh=False, pending=True
    )


def quiz_statistics_request(*, quiz: Quiz, force: bool = False) -> None:
    """Queue a recompute of ``quiz``'s statistics (``force``: even if they are current)."""
    stamp = statistics_stamp(quiz)
    if force:
        cache.delete(_statistics_key(quiz.pk, stamp))
    _enqueue(quiz.pk, stamp, force=force)


def _enqueue(quiz_id: int, stamp: str, *, force: bool) -> None:
    # cache.add is atomic: of several page loads only the first queues the task.
    pending_key = _statistics_pending_key(quiz_id, stamp)
    if force:
        cache.set(pending_key, True, STATISTICS_PENDING_TTL)
    elif not cache.add(pending_key, True, STATISTICS_PENDING_TTL):
        return
    from quizzes.tasks import quiz_statistics_recompute

    transaction.on_commit(lambda: quiz_statistics_recompute.delay(quiz_id))


def quiz_statistics_compute(*, quiz_id: int) -> dict[str, Any] | None:
    """Compute ``quiz``'s statistics now and cache them under the current stamp.

    Safe to run twice: the second run stores the same figures again.
    """
    quiz = Quiz.objects.filter(pk=quiz_id).first()
    if quiz is None:
        return None
    # The stamp is read first: an attempt submitted while we compute makes a newer
    # stamp, so these figures can never pass as including it.
    stamp = statistics_stamp(quiz)
    data = _statistics_data(quiz)
    data["stamp"] = stamp
    data["computed_at"] = timezone.now()
    cache.set(_statistics_key(quiz.pk, stamp), data, STATISTICS_TTL)
    cache.set(_statistics_latest_key(quiz.pk), data, STATISTICS_TTL)
    cache.delete(_statistics_pending_key(quiz.pk, stamp))
    logger.info("statistics of quiz %s computed over %d attempts", quiz.pk, data["attempts"])
    return data
