"""The README's numbers about the demo are what ``seed_demo`` builds from ``demo/data``.

The numbers are read from README.md itself (its "Demo accounts" section, the demo content
line of the feature list and the Chinese quick start), so neither the README nor the data
files can change without the other: edit a data file, and this test says which sentence of
the README to update. "About N" allows ten percent either way.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import transaction

from cms.models import CoursePage, LessonPage, PolicyDocumentPage
from demo import people_data
from learning.models import Assignment, Member, Organization, Screen
from learning.people import roles
from quizzes.models import Attempt, Question, QuestionCategory, Quiz

README = Path(settings.BASE_DIR) / "README.md"
NUMBER_WORDS = {"two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "eight": 8}


def _readme() -> str:
    return README.read_text(encoding="utf-8")


def _section(heading: str, *, lines: bool = False) -> str:
    """The section under ``heading``; its sentences on one line unless ``lines``."""
    text = _readme()
    start = text.index(heading)
    end = text.find("\n### ", start + len(heading))
    section = text[start : end if end != -1 else None]
    return section if lines else " ".join(section.split())


def _number(pattern: str, text: str) -> int:
    """The number the pattern's one group catches, in digits or as an English word."""
    match = re.search(pattern, text)
    assert match, f"README.md no longer says {pattern!r}: update it and this test together"
    value = match.group(1)
    return int(value) if value.isdecimal() else NUMBER_WORDS[value]


def _about(count: int, stated: int) -> bool:
    return 0.9 * stated <= count <= 1.1 * stated


def _accounts_table() -> list[tuple[str, str]]:
    """(username, role) for each row of the README's accounts table, role as in roles.py."""
    rows = re.findall(
        r"^\| `(\w+)` \| (\S+) ", _section("### Demo accounts", lines=True), flags=re.MULTILINE
    )
    assert rows, "README.md has no demo accounts table"
    return rows


@pytest.fixture(scope="module")
def seeded_demo(django_db_setup: None, django_db_blocker) -> Iterator[None]:
    """The demo built from its data files on an empty database, rolled back afterwards.

    One day of activity: it creates the office screen; more days only take longer.
    """
    with django_db_blocker.unblock(), transaction.atomic():
        call_command("seed_demo", password="Demo-pass-2024", activity_days=1, stdout=io.StringIO())
        yield
        transaction.set_rollback(True)


@pytest.fixture
def demo(seeded_demo: None, db: None) -> None:
    return None


def test_organisation_counts(demo: None) -> None:
    text = _section("### Demo accounts")
    general = _number(r"with (\w+) general branches", text)
    branches = _number(r"about (\d+) branches", text)
    members = _number(r"about (\d+) members with Chinese names", text)
    low, high = (int(size) for size in re.search(r"\((\d+) to (\d+) members", text).groups())
    assert Organization.objects.filter(kind=Organization.Kind.GENERAL_BRANCH).count() == general
    branch_rows = Organization.objects.filter(kind=Organization.Kind.BRANCH)
    assert _about(branch_rows.count(), branches)
    assert _about(Member.objects.count(), members)
    sizes = [
        Member.objects.filter(organization__in=branch.subtree()).count() for branch in branch_rows
    ]
    assert (min(sizes), max(sizes)) == (low, high)
    assert "a few party groups" in text
    assert Organization.objects.filter(kind=Organization.Kind.GROUP).exists()


def test_question_bank_counts(demo: None) -> None:
    text = _section("### Demo accounts")
    questions = _number(r"a question bank of (\d+) questions", text)
    categories = _number(r"questions in (\w+) categories \(every question type\)", text)
    assert _number(r"导入 (\d+) 道示范题目", _readme()) == questions
    root = QuestionCategory.get_root_nodes().get(name="示范题库")
    assert root.get_children().count() == categories
    bank = Question.objects.filter(category__path__startswith=root.path)
    assert bank.count() == questions
    for category in root.get_children():
        in_category = bank.filter(category=category)
        assert set(in_category.values_list("type", flat=True)) == set(Question.Type.values)


def test_quiz_counts(demo: None) -> None:
    text = _section("### Demo accounts")
    minutes = _number(r"a (\d+)-minute exam", text)
    takers = _number(r"about (\d+) members have already taken", text)
    for kind in (Quiz.Kind.DAILY, Quiz.Kind.WEEKLY, Quiz.Kind.TOPIC, Quiz.Kind.EXAM):
        assert Quiz.objects.filter(kind=kind).exists(), kind
    assert Quiz.objects.get(kind=Quiz.Kind.EXAM).time_limit_minutes == minutes
    assert _about(Attempt.objects.values("member").distinct().count(), takers)


def test_assignments_and_office_screen(demo: None) -> None:
    text = _section("### Demo accounts")
    assignments = _number(r"the (\w+) demo assignments", text)
    assert "an office screen for the whole committee" in text
    assert Assignment.objects.count() == assignments
    assert Screen.objects.count() == 1


def test_content_counts(demo: None) -> None:
    text = " ".join(_readme().split())
    pattern = (
        r"demo content of (\d+) courses, (\d+) lessons and (\d+) policy documents "
        r"\((\w+) with PDFs\)"
    )
    match = re.search(pattern, text)
    assert match, "README.md no longer states the demo content counts"
    courses, lessons, documents = (int(value) for value in match.groups()[:3])
    with_files = NUMBER_WORDS[match.group(4)]
    assert CoursePage.objects.live().count() == courses
    assert LessonPage.objects.live().count() == lessons
    assert PolicyDocumentPage.objects.live().count() == documents
    live = PolicyDocumentPage.objects.live()
    assert live.filter(original_file__isnull=False).count() == with_files


def test_accounts_table(demo: None) -> None:
    table = _accounts_table()
    assert sorted(username for username, _role in table) == sorted(
        account.username for account in people_data.DEMO_ACCOUNTS
    )
    assert {role for _username, role in table} <= set(roles.ALL_ROLES)
    for username, role in table:
        member = Member.objects.get(username=username)
        if role == roles.SECRETARY:
            assert Organization.objects.filter(secretaries__member=member).exists(), username
        else:
            assert member.groups.filter(name=role).exists(), username
        assert member.is_superuser == (role == roles.ADMINISTRATOR), username
    # The Chinese quick start names them too: 党员 `member`、编辑 `editor`…
    listed = re.search(r"演示账号的密码（(.*?)）", " ".join(_readme().split()))
    assert listed, "the Chinese quick start no longer lists the demo accounts"
    quick_start = re.findall(r"([\u4e00-\u9fff]+) `(\w+)`", listed.group(1))
    assert sorted(quick_start) == sorted((role, username) for username, role in table)
    ordinary = Member.objects.exclude(username__in=[username for username, _role in table])
    assert not ordinary.filter(is_staff=True).exists()
