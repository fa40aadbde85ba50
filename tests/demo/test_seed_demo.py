"""``manage.py seed_demo``: the demo organisation, its accounts, and that it runs only once."""

from __future__ import annotations

import datetime
import io
import random
from collections import Counter
from collections.abc import Iterator

import pytest
from django.contrib.auth import authenticate
from django.contrib.auth.models import Group
from django.contrib.auth.password_validation import validate_password
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction
from django.utils import timezone

from cms.models import HomePage
from demo import people_data
from demo.people import PersonNames, demo_passwords
from learning.common.periods import DateRange
from learning.models import Assignment, Member, Membership, Organization, PointsEntry, Screen
from learning.people import roles
from learning.people.selectors import organizations_visible_to
from learning.points.leaderboards import branch_ranking
from learning.points.ledger_check import ledger_differences
from quizzes.models import Attempt, Question, Quiz

PASSWORD = "Demo-pass-2024"
ACTIVITY_DAYS = 7


@pytest.fixture(scope="module")
def seed_output(django_db_setup: None, django_db_blocker) -> Iterator[str]:
    """Seed once for the module, inside a transaction rolled back after its last test.

    Each test's own ``db`` transaction nests inside this one as a savepoint.
    """
    with django_db_blocker.unblock(), transaction.atomic():
        output = io.StringIO()
        # A week of activity is enough to check it; the default 90 days takes longer.
        call_command("seed_demo", password=PASSWORD, activity_days=ACTIVITY_DAYS, stdout=output)
        yield output.getvalue()
        transaction.set_rollback(True)


@pytest.fixture
def seeded(seed_output: str, db: None) -> str:
    return seed_output


def _subtree_member_count(organization: Organization) -> int:
    return Member.objects.filter(organization__in=organization.subtree()).count()


def test_creates_one_committee_with_general_branches(seeded: str) -> None:
    committees = Organization.objects.filter(kind=Organization.Kind.COMMITTEE)
    assert [committee.code for committee in committees] == [people_data.COMMITTEE_CODE]
    general_branches = Organization.objects.filter(kind=Organization.Kind.GENERAL_BRANCH)
    assert 3 <= general_branches.count() <= 4
    assert all(general.get_parent() == committees[0] for general in general_branches)


def test_branches_have_very_different_sizes(seeded: str) -> None:
    branches = list(Organization.objects.filter(kind=Organization.Kind.BRANCH))
    assert 18 <= len(branches) <= 22
    sizes = [_subtree_member_count(branch) for branch in branches]
    assert all(5 <= size <= 80 for size in sizes), sizes
    assert min(sizes) <= 8
    assert max(sizes) >= 60


def test_party_groups_sit_under_branches(seeded: str) -> None:
    groups = list(Organization.objects.filter(kind=Organization.Kind.GROUP))
    assert groups
    assert {group.get_parent().kind for group in groups} == {Organization.Kind.BRANCH}
    assert all(Member.objects.filter(organization=group).exists() for group in groups)


def test_codes_follow_the_tree(seeded: str) -> None:
    for organization in Organization.objects.exclude(kind=Organization.Kind.COMMITTEE):
        assert organization.code.startswith(organization.get_parent().code + "-")
    assert Organization.objects.filter(code="DW01-ZZB02-ZB09-XZ01").exists()


def test_creates_about_600_members_with_realistic_names(seeded: str) -> None:
    members = list(Member.objects.values_list("display_name", flat=True))
    assert 550 <= len(members) <= 650
    family_names = Counter(name[0] for name in members)
    assert {name for name, _count in family_names.most_common(5)} & {"王", "李", "张"}
    assert any("·" in name for name in members)
    assert len(set(members)) == len(members)


def test_every_member_has_one_current_membership_in_their_organisation(seeded: str) -> None:
    current = Counter(
        Membership.objects.filter(end_date__isnull=True).values_list("member_id", flat=True)
    )
    assert set(current.values()) == {1}
    current_organization = dict(
        Membership.objects.filter(end_date__isnull=True).values_list("member_id", "organization_id")
    )
    for member_id, organization_id in Member.objects.values_list("pk", "organization_id"):
        assert current_organization[member_id] == organization_id


def test_membership_dates_lie_in_the_past_after_joining_the_party(seeded: str) -> None:
    today = timezone.localdate()
    for start_date, party_joined_on in Membership.objects.values_list(
        "start_date", "member__party_joined_on"
    ):
        assert party_joined_on <= start_date <= today


def test_every_member_holds_the_member_role(seeded: str) -> None:
    member_group = Group.objects.get(name=roles.MEMBER)
    assert member_group.user_set.count() == Member.objects.count()


def test_phones_are_valid_and_most_members_have_one(seeded: str) -> None:
    phones = list(Member.objects.exclude(phone=None).values_list("phone", flat=True))
    assert len(phones) > 0.8 * Member.objects.count()
    assert all(phone[:2] in {"13", "15", "18"} and len(phone) == 11 for phone in phones)


@pytest.mark.parametrize(
    ("username", "role"),
    [
        ("editor", roles.EDITOR),
        ("approver", roles.APPROVER),
        ("secretary", roles.SECRETARY),
        ("admin", roles.ADMINISTRATOR),
        ("member", roles.MEMBER),
    ],
)
def test_each_role_has_a_demo_account(seeded: str, username: str, role: str) -> None:
    account = Member.objects.get(username=username)
    assert account.groups.filter(name=role).exists()
    assert account.organization is not None


def test_admin_is_a_superuser(seeded: str) -> None:
    admin = Member.objects.get(username="admin")
    assert admin.is_superuser
    assert admin.is_staff
    assert not Member.objects.filter(is_superuser=True).exclude(pk=admin.pk).exists()


def test_secretary_sees_exactly_their_general_branch(seeded: str) -> None:
    secretary = Member.objects.get(username="secretary")
    [general_branch] = Organization.objects.filter(secretaries__member=secretary)
    assert general_branch.kind == Organization.Kind.GENERAL_BRANCH
    assert secretary.organization.path.startswith(general_branch.path)
    visible = set(organizations_visible_to(secretary).values_list("pk", flat=True))
    assert visible == set(general_branch.subtree().values_list("pk", flat=True))
    member = Member.objects.get(username="member")
    assert member.organization_id in visible


@pytest.mark.parametrize("login", ["member", "13800138000", "m0001", "editor", "admin"])
def test_demo_accounts_log_in_with_the_given_password(seeded: str, login: str) -> None:
    assert authenticate(username=login, password=PASSWORD) is not None
    assert authenticate(username=login, password=PASSWORD + "x") is None


def test_demo_accounts_log_in_through_the_login_pages_with_the_lockout_on(
    seeded: str, client, settings
) -> None:
    settings.AXES_ENABLED = True
    for login in ("member", "13800138000", "m0001"):
        response = client.post("/accounts/login/", {"username": login, "password": PASSWORD})
        assert response.status_code == 302, login
        client.logout()
    # Somebody mistyping a demo password locks only that login, from that address.
    for _attempt in range(settings.AXES_FAILURE_LIMIT):
        client.post("/accounts/login/", {"username": "member", "password": "wrong"})
    assert (
        client.post("/accounts/login/", {"username": "member", "password": PASSWORD}).status_code
        == 429
    )
    for login in ("editor", "admin"):
        response = client.post("/admin/login/", {"username": login, "password": PASSWORD})
        assert response.status_code == 302, login
        client.logout()


def test_output_prints_every_account_with_its_password(seeded: str) -> None:
    for account in people_data.DEMO_ACCOUNTS:
        assert account.username in seeded
    assert seeded.count(PASSWORD) == len(people_data.DEMO_ACCOUNTS) + 1


def test_home_page_intro_is_published(seeded: str) -> None:
    home = HomePage.objects.get()
    assert home.live
    assert "智慧党建" in home.intro
    assert not home.has_unpublished_changes


def test_second_run_changes_nothing(seeded: str) -> None:
    def snapshot() -> dict[str, object]:
        return {
            "members": Member.objects.count(),
            "memberships": Membership.objects.count(),
            "organizations": Organization.objects.count(),
            "group_memberships": Member.groups.through.objects.count(),
            "passwords": dict(Member.objects.values_list("pk", "password")),
            "home_revisions": HomePage.objects.get().revisions.count(),
            "ledger": PointsEntry.objects.count(),
            "screens": Screen.objects.count(),
            "questions": Question.objects.count(),
            "quizzes": Quiz.objects.count(),
            "attempts": Attempt.objects.count(),
            "assignments": Assignment.objects.count(),
        }

    before = snapshot()
    output = io.StringIO()
    call_command("seed_demo", activity_days=ACTIVITY_DAYS, stdout=output)
    assert snapshot() == before
    assert "已存在" in output.getvalue()
    assert "示范题库已存在" in output.getvalue()
    assert PASSWORD not in output.getvalue()


def test_activity_goes_through_the_ledger_and_differs_by_branch(seeded: str) -> None:
    assert PointsEntry.objects.filter(idempotency_key__startswith="demo:").count() > 1000
    assert ledger_differences() == []
    # The last complete days of activity, not the current week: early on a Monday the
    # week holds a few hours only, and every branch's rate is still near zero.
    today = timezone.localdate()
    week = DateRange("custom", today - datetime.timedelta(days=ACTIVITY_DAYS - 1), today)
    committee = Organization.objects.get(code=people_data.COMMITTEE_CODE)
    rates = {row.participation for row in branch_ranking(root=committee, date_range=week)}
    assert max(rates) - min(rates) > 0.3
    # Nothing is recorded in the future.
    assert not PointsEntry.objects.filter(created_at__gt=timezone.now()).exists()


def test_demo_quizzes_and_attempts_are_seeded_and_reported(seeded: str) -> None:
    assert Question.objects.count() >= 280
    assert set(Quiz.objects.values_list("kind", flat=True)) >= {"daily", "topic", "weekly", "exam"}
    assert Attempt.objects.filter(state=Attempt.State.SUBMITTED).count() > 100
    assert f"答题记录 {Attempt.objects.count()} 份" in seeded


def test_demo_assignments_give_members_and_the_secretary_something_to_follow(
    seeded: str,
) -> None:
    from learning.study.assignments import member_assignments

    assert Assignment.objects.count() == 2
    assert "已布置示范学习任务 2 项" in seeded
    committee_wide = Assignment.objects.get(is_required=True)
    assert list(committee_wide.organizations.values_list("code", flat=True)) == [
        people_data.COMMITTEE_CODE
    ]
    member = Member.objects.get(username="member")
    assert member_assignments(member)


def test_output_links_the_demo_office_screen(seeded: str) -> None:
    screen = Screen.objects.get(organization__code=people_data.COMMITTEE_CODE)
    assert f"/screens/{screen.token}/" in seeded


def test_empty_password_is_refused() -> None:
    with pytest.raises(CommandError):
        call_command("seed_demo", password=" ", stdout=io.StringIO())


def test_random_passwords_differ_and_pass_the_validators() -> None:
    passwords = demo_passwords(None)
    chosen = [*passwords.accounts.values(), passwords.ordinary_members]
    assert len(set(chosen)) == len(chosen)
    for password in chosen:
        validate_password(password)


def test_explicit_password_is_used_for_every_account() -> None:
    passwords = demo_passwords("given")
    assert set(passwords.accounts.values()) == {"given"}
    assert passwords.ordinary_members == "given"


def test_names_are_reproducible_from_the_seed() -> None:
    def draw() -> list[str]:
        names = PersonNames(random.Random(people_data.RANDOM_SEED))
        return [names.next(older_generation=index % 3 == 0) for index in range(200)]

    assert draw() == draw()


def test_demo_lesson_completions_in_the_ledger_are_real_lesson_progress(seeded: str) -> None:
    """Issue 12: the ledger showed ~15,000 lesson completions, the report 0 of 192.

    Every ``lesson_completed`` point must come from a lesson the member really completed
    (``LessonProgress.completed_at``), the path that also completes assigned study.
    """
    from learning.models import LessonProgress
    from learning.study.assignment_report import assignment_report

    completions = PointsEntry.objects.filter(rule__code="lesson_completed")
    assert completions.exists()
    completed = LessonProgress.objects.filter(completed_at__isnull=False)
    assert completions.count() == completed.count()
    assert not completions.filter(idempotency_key__startswith="demo:").exists()
    secretary = Member.objects.get(username="secretary")
    course_wide = Assignment.objects.get(is_required=True)
    report = assignment_report(assignment=course_wide, user=secretary)
    assert report.total.assigned > 150
    progressed = report.total.completed + report.total.in_progress
    started = (
        LessonProgress.objects.filter(
            member__in=[row.member for row in report.members],
            lesson_id__in=[lesson_id for lesson_id in _lesson_ids(course_wide)],
        )
        .values("member_id")
        .distinct()
        .count()
    )
    assert progressed == started > 0


def _lesson_ids(assignment: Assignment) -> list[int]:
    from learning.study.pages import lessons_by_page

    return [lesson.pk for lesson in lessons_by_page([assignment.page])[assignment.page_id]]
