"""Secretary scope: the secretary of 第一党总支 against everything of 第二党总支.

``secretary_a`` knows the ids of a member, an attempt waiting for grading and flagged as
too fast, a study assignment, a ledger entry, a secretary appointment, an office screen
and an organisation of the other general branch, and tries every admin route that takes
such an id: open, edit, delete, copy, history, grade, accept, reverse, rotate, report and
export. A scoped lookup answers 404 (docs/roles.md); a route the role has no permission
for at all is refused the way Wagtail refuses (403, or a redirect to the dashboard). No
response names the other branch's people, and the database is exactly as before.

Reads that are allowed but scoped (results, their export, the grading queue, the
assignment report and its export, the ledger, the member list) show none of them.

The bulk-action confirmation pages (issue 11, finding 7) are tried in
``tests/learning/test_admin_scope_leaks.py``.
"""

from __future__ import annotations

import datetime
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone
from openpyxl import load_workbook

from learning.models import (
    Assignment,
    Member,
    Organization,
    OrganizationSecretary,
    PointsEntry,
    Screen,
)
from learning.people import services
from learning.points.ledger import points_award
from quizzes.models import Attempt, AttemptQuestion, Quiz
from quizzes.taking.attempts import attempt_answer_save, attempt_start
from quizzes.taking.submitting import attempt_submit
from tests.conftest import Tree
from tests.factories.pages import add_course
from tests.factories.people import MemberFactory
from tests.factories.questions import question_create, short_answer, single_choice
from tests.factories.quizzes import fixed_quiz, right_answer
from tests.factories.study import assign
from tests.security.conftest import signed_in

pytestmark = pytest.mark.django_db

# Names that must never reach secretary_a: people and things of 第二党总支 only.
THEIR_SECRETARY = "赵书记"
THEIR_ASSIGNMENT = "外支专题学习"
THEIR_SCREEN = "二总支大厅屏幕"
THEIR_ANSWER = "外支成员的简答内容"
SECRETS = ("外支丙", "outsider", THEIR_SECRETARY, THEIR_ASSIGNMENT, THEIR_SCREEN, THEIR_ANSWER)


class Theirs:
    """What belongs to 第二党总支's subtree, each part made when an attack first needs it
    (a test makes only what it attacks, which keeps the table fast)."""

    def __init__(self, tree: Tree, member: Member) -> None:
        self.tree = tree
        self.member = member

    @cached_property
    def secretary(self) -> Member:
        return MemberFactory(
            username="secretary_b", display_name=THEIR_SECRETARY, organization=self.tree.general_b
        )

    @cached_property
    def appointment(self) -> OrganizationSecretary:
        return services.secretary_assign(member=self.secretary, organization=self.tree.general_b)

    @cached_property
    def quiz(self) -> Quiz:
        return fixed_quiz(
            [question_create(single_choice()), question_create(short_answer())],
            title="党章测验",
            attempts_allowed=0,
            min_seconds_per_question=60,
        )

    @cached_property
    def attempt(self) -> Attempt:
        """Submitted, flagged as too fast, and waiting for a mark on its short answer."""
        attempt = attempt_start(quiz=self.quiz, member=self.member)
        for item in attempt.questions.all():
            response = right_answer(item.snapshot)
            if "text" in response:
                response = {"text": THEIR_ANSWER}
            attempt_answer_save(
                attempt=attempt,
                member=self.member,
                position=item.position,
                response=response,
                seq=1,
            )
        attempt = attempt_submit(attempt=attempt, member=self.member)
        assert attempt.too_fast and attempt.needs_grading
        return attempt

    @cached_property
    def item(self) -> AttemptQuestion:
        return AttemptQuestion.objects.get(attempt=self.attempt, state="needs_grading")

    @cached_property
    def course(self) -> Any:
        return add_course("党史学习", ["第一课"])

    def _assign(self, organization: Organization, title: str) -> Assignment:
        today = timezone.localdate()
        return assign(
            self.course, [organization], today, today + datetime.timedelta(days=7), title=title
        )

    @cached_property
    def assignment(self) -> Assignment:
        return self._assign(self.tree.branch_b1, THEIR_ASSIGNMENT)

    @cached_property
    def committee_assignment(self) -> Assignment:
        return self._assign(self.tree.committee, "全委学习")

    @cached_property
    def entry(self) -> PointsEntry:
        points_award(member=self.member, rule_code="exam_passed", key="outsider:exam")
        return PointsEntry.objects.get(member=self.member)

    @cached_property
    def screen(self) -> Screen:
        return Screen.objects.create(name=THEIR_SCREEN, organization=self.tree.general_b)

    def everything(self) -> Theirs:
        for part in ("appointment", "item", "assignment", "committee_assignment", "entry"):
            getattr(self, part)
        self.screen  # noqa: B018 - made on first access
        return self


@pytest.fixture
def theirs(tree: Tree, outsider: Member, secretary_a: Member) -> Theirs:
    return Theirs(tree, outsider)


def state_of(theirs: Theirs) -> dict[str, Any]:
    """Everything of 第二党总支 an admin request could change."""
    return {
        "members": list(
            Member.objects.order_by("pk").values_list(
                "pk",
                "username",
                "display_name",
                "password",
                "is_active",
                "is_superuser",
                "organization",
                "must_change_password",
                "phone",
            )
        ),
        "roles": sorted(theirs.member.groups.values_list("name", flat=True)),
        "attempts": list(
            Attempt.objects.order_by("pk").values_list(
                "pk", "state", "score", "passed", "too_fast", "needs_grading", "points"
            )
        ),
        "items": list(
            AttemptQuestion.objects.order_by("pk").values_list(
                "pk", "state", "mark", "grader_comment", "graded_by"
            )
        ),
        "assignments": list(
            Assignment.objects.order_by("pk").values_list(
                "pk", "title", "start_date", "due_date", "is_required", "organizations"
            )
        ),
        "ledger": list(PointsEntry.objects.order_by("pk").values_list("pk", "points", "reverses")),
        "organizations": list(
            Organization.objects.order_by("pk").values_list(
                "pk", "name", "code", "path", "is_active", "hide_member_names"
            )
        ),
        "secretaries": list(
            OrganizationSecretary.objects.order_by("pk").values_list("pk", "member", "organization")
        ),
        "screens": list(Screen.objects.order_by("pk").values_list("pk", "token", "is_active")),
    }


# --- Attacks by id -------------------------------------------------------------------------

# 404: the object is looked up in the secretary's scope (docs/roles.md, docs/quizzes.md).
SCOPED = "404"
# The role holds no permission for the route at all: Wagtail's refusal.
NO_PERMISSION = "refused"


@dataclass(frozen=True)
class Attack:
    route: str
    method: str
    target: Callable[[Theirs], int]
    expected: str
    data: Callable[[Theirs], dict[str, Any]] | None = None

    @property
    def id(self) -> str:
        return f"{self.route}-{self.method}"


def _member(t: Theirs) -> int:
    return t.member.pk


def _member_takeover(t: Theirs) -> dict[str, Any]:
    return {
        "username": "taken_over",
        "display_name": "改名",
        "password1": "Taken-over-2026",
        "password2": "Taken-over-2026",
        "organization": t.tree.branch_a1.pk,
        "is_active": "on",
    }


def _grade(t: Theirs) -> dict[str, Any]:
    return {f"item-{t.item.pk}-percent": "100", f"item-{t.item.pk}-comment": "改分"}


def _assignment_form(t: Theirs) -> dict[str, Any]:
    return {
        "page": t.assignment.page_id,
        "title": "改过的任务",
        "organizations": [t.tree.branch_a1.pk],
        "start_date": t.assignment.start_date.isoformat(),
        "due_date": t.assignment.due_date.isoformat(),
        "note": "",
    }


def _organization_form(t: Theirs) -> dict[str, Any]:
    return {
        "name": "改名",
        "code": "HACK",
        "kind": Organization.Kind.GENERAL_BRANCH,
        "parent": t.tree.general_a.pk,
        "sort_order": 0,
        "is_active": "",
    }


def _appointment_form(t: Theirs) -> dict[str, Any]:
    return {"member": t.secretary.pk, "organization": t.tree.general_a.pk}


def _screen_form(t: Theirs) -> dict[str, Any]:
    return {"name": "改名", "organization": t.tree.general_a.pk, "refresh_seconds": 30}


def _crud(
    namespace: str,
    target: Callable[[Theirs], int],
    expected: str,
    form: Callable[[Theirs], dict[str, Any]],
    *,
    views: tuple[str, ...] = ("edit", "delete", "history", "history_results", "usage"),
) -> list[Attack]:
    attacks = []
    for view in views:
        route = f"{namespace}:{view}"
        attacks.append(Attack(route, "get", target, expected))
        data = form if view in ("edit", "copy", "reverse") else (lambda t: {})
        if view in ("edit", "delete", "copy", "reverse", "rotate"):
            attacks.append(Attack(route, "post", target, expected, data))
    return attacks


ATTACKS = [
    # Members (copy is switched off, see below).
    *_crud("wagtailusers_users", _member, SCOPED, _member_takeover),
    # Quiz results and grading.
    Attack("quizzes_grade", "post", lambda t: t.item.pk, SCOPED, _grade),
    Attack("quizzes_attempt_accept_fast", "post", lambda t: t.attempt.pk, SCOPED, lambda t: {}),
    Attack("quizzes_quiz_statistics", "get", lambda t: t.quiz.pk, NO_PERMISSION),
    Attack("quizzes_quiz_statistics", "post", lambda t: t.quiz.pk, NO_PERMISSION, lambda t: {}),
    # Study assignments wholly inside the other subtree.
    *_crud(
        "assignments",
        lambda t: t.assignment.pk,
        SCOPED,
        _assignment_form,
        views=("edit", "delete", "copy", "history", "history_results", "usage"),
    ),
    # The ledger: secretaries may browse their own subtree's entries, nothing else.
    *_crud(
        "ledger",
        lambda t: t.entry.pk,
        NO_PERMISSION,
        lambda t: {"note": "改", "reason": "作废"},
        views=("edit", "delete", "history", "history_results", "usage", "inspect", "reverse"),
    ),
    # The organisation tree, appointments and screens are the administrator's.
    *_crud(
        "organizations",
        lambda t: t.tree.general_b.pk,
        NO_PERMISSION,
        _organization_form,
        views=("edit", "delete", "history", "history_results", "usage", "inspect"),
    ),
    *_crud("secretaries", lambda t: t.appointment.pk, NO_PERMISSION, _appointment_form),
    *_crud(
        "screens",
        lambda t: t.screen.pk,
        NO_PERMISSION,
        _screen_form,
        views=("edit", "delete", "history", "history_results", "usage", "rotate"),
    ),
]


def assert_refused(response: Any, expected: str) -> None:
    if expected == SCOPED:
        assert response.status_code == 404
        return
    if response.status_code == 302:
        assert response["Location"] == reverse("wagtailadmin_home")
    else:
        assert response.status_code in (403, 404)


def assert_names_none_of_them(content: bytes) -> None:
    text = content.decode(errors="replace")
    for secret in SECRETS:
        assert secret not in text, secret


@pytest.mark.parametrize("attack", ATTACKS, ids=[attack.id for attack in ATTACKS])
def test_a_secretary_cannot_reach_another_subtree_by_id(
    attack: Attack, theirs: Theirs, secretary_a: Member
) -> None:
    client = signed_in(secretary_a)
    url = reverse(attack.route, args=[attack.target(theirs)])
    data = attack.data(theirs) if attack.data else {}
    before = state_of(theirs)

    response = client.post(url, data) if attack.method == "post" else client.get(url)

    assert_refused(response, attack.expected)
    assert_names_none_of_them(response.content)
    assert state_of(theirs) == before


def test_the_assignment_report_export_never_holds_another_subtree(
    theirs: Theirs, secretary_a: Member
) -> None:
    client = signed_in(secretary_a)
    export = reverse("assignments:report_export")
    assert client.get(export, {"assignment": theirs.assignment.pk}).status_code == 404
    committee_wide = client.get(export, {"assignment": theirs.committee_assignment.pk})
    assert committee_wide.status_code == 200
    assert_workbook_names_none_of_them(committee_wide.content)


def assert_workbook_names_none_of_them(content: bytes) -> None:
    workbook = load_workbook(io.BytesIO(content), read_only=True)
    for sheet in workbook.worksheets:
        for row in sheet.iter_rows(values_only=True):
            for value in row:
                for secret in (*SECRETS, "第三党支部", "第二党总支"):
                    assert secret not in str(value or ""), (sheet.title, value)


# --- Scoped reads ----------------------------------------------------------------------------


def _scoped_pages(theirs: Theirs) -> list[tuple[str, dict[str, Any]]]:
    # Searches use part of a name: the page shows the query back, which is no leak.
    return [
        (reverse("wagtailusers_users:index"), {}),
        (reverse("wagtailusers_users:index"), {"q": "外支"}),
        (reverse("wagtailusers_users:index_results"), {"q": "outsi"}),
        (reverse("wagtailusers_users:index"), {"organization": theirs.tree.general_b.pk}),
        (reverse("quizzes_results"), {}),
        (reverse("quizzes_quiz_results", args=[theirs.quiz.pk]), {}),
        (reverse("quizzes_grading"), {}),
        (reverse("quizzes_grading"), {"quiz": theirs.quiz.pk}),
        (reverse("assignments:index"), {}),
        (reverse("assignments:report"), {"assignment": theirs.assignment.pk}),
        (reverse("assignments:report"), {"assignment": theirs.committee_assignment.pk}),
        (reverse("ledger:index"), {}),
        (reverse("ledger:index_results"), {"member": "外支"}),
        (reverse("ledger:index"), {"organization": theirs.tree.general_b.pk}),
        (reverse("organizations:index"), {}),
    ]


def test_scoped_lists_reports_and_results_show_none_of_another_subtree(
    theirs: Theirs, secretary_a: Member
) -> None:
    theirs.everything()
    client = signed_in(secretary_a)
    before = state_of(theirs)
    for url, query in _scoped_pages(theirs):
        response = client.get(url, query)
        assert response.status_code == 200, url
        assert_names_none_of_them(response.content)
        assert "第三党支部" not in response.content.decode(), url
    export = client.get(reverse("quizzes_quiz_results_export", args=[theirs.quiz.pk]))
    assert export.status_code == 200
    assert_workbook_names_none_of_them(export.content)
    assert state_of(theirs) == before


def test_a_secretary_cannot_appoint_themself_to_another_subtree(
    theirs: Theirs, secretary_a: Member
) -> None:
    theirs.appointment  # noqa: B018 - made on first access
    client = signed_in(secretary_a)
    before = state_of(theirs)
    response = client.post(
        reverse("secretaries:add"),
        {"member": secretary_a.pk, "organization": theirs.tree.general_b.pk},
    )
    assert_refused(response, NO_PERMISSION)
    response = client.post(reverse("organizations:add"), _organization_form(theirs))
    assert_refused(response, NO_PERMISSION)
    assert state_of(theirs) == before


def test_members_cannot_be_copied(theirs: Theirs, administrator: Member) -> None:
    """Wagtail's copy view answered 500 and would have bypassed ``member_create``."""
    client = signed_in(administrator)
    assert client.get(f"/admin/users/copy/{theirs.member.pk}/").status_code == 404
    listing = client.get(reverse("wagtailusers_users:index")).content.decode()
    assert "/admin/users/copy/" not in listing


# --- No admin route with an id escapes the table ---------------------------------------------

# Routes with an id that are not the subtree's.
NOT_ATTACKED: dict[str, str] = {}
SCOPED_NAMESPACES = (
    "wagtailusers_users",
    "assignments",
    "ledger",
    "organizations",
    "secretaries",
    "screens",
)
RESULTS_ROUTES = ("quizzes_grade", "quizzes_quiz_results", "quizzes_attempt_accept_fast")


def _admin_routes() -> Iterator[tuple[str, URLPattern]]:
    def walk(patterns: list[Any], namespace: str | None) -> Iterator[tuple[str, URLPattern]]:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                yield from walk(pattern.url_patterns, pattern.namespace or namespace)
            elif pattern.name:
                yield (f"{namespace}:{pattern.name}" if namespace else pattern.name), pattern

    yield from walk(get_resolver().url_patterns, None)


def test_every_admin_route_of_the_subtree_with_an_id_is_attacked() -> None:
    attacked = {attack.route for attack in ATTACKS}
    # Results pages and their export are scoped reads, tried above.
    covered = (
        attacked
        | set(NOT_ATTACKED)
        | {
            "quizzes_quiz_results",
            "quizzes_quiz_results_export",
        }
    )
    for name, pattern in _admin_routes():
        if "pk" not in pattern.pattern.converters:
            continue
        if name.split(":")[0] in SCOPED_NAMESPACES or name.startswith(RESULTS_ROUTES):
            assert name in covered, f"{name} takes an id but is not attacked"


def test_the_same_routes_answer_inside_the_subtree(tree: Tree, secretary_a: Member) -> None:
    """The 404s above are the scope: the same requests for 第一党总支 go through.

    (Before this suite the member history answered 404 to everyone, administrators
    included, so its 404 for an outsider proved nothing.)
    """
    ours = Theirs(tree, MemberFactory(username="insider", organization=tree.branch_a2))
    ours.assignment = ours._assign(tree.branch_a1, "本支部学习")
    client = signed_in(secretary_a)
    for route in ("edit", "history", "history_results"):
        url = reverse(f"wagtailusers_users:{route}", args=[ours.member.pk])
        assert client.get(url).status_code == 200, route
    # (The assignment's history and usage answer 500 to everyone: see below.)
    assert client.get(reverse("assignments:edit", args=[ours.assignment.pk])).status_code == 200
    graded = client.post(reverse("quizzes_grade", args=[ours.item.pk]), _grade(ours))
    accepted = client.post(reverse("quizzes_attempt_accept_fast", args=[ours.attempt.pk]))
    assert graded.status_code == accepted.status_code == 302
    ours.item.refresh_from_db()
    ours.attempt.refresh_from_db()
    assert ours.item.state == AttemptQuestion.State.GRADED
    assert not ours.attempt.is_held


@pytest.mark.parametrize("route", ["history", "history_results", "usage"])
def test_an_assignment_inside_the_subtree_shows_its_history_and_usage(
    route: str, tree: Tree, secretary_a: Member
) -> None:
    ours = Theirs(tree, MemberFactory(username="insider", organization=tree.branch_a2))
    assignment = ours._assign(tree.branch_a1, "本支部学习")
    response = signed_in(secretary_a).get(reverse(f"assignments:{route}", args=[assignment.pk]))
    assert response.status_code == 200
