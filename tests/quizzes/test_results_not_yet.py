"""Quiz results list who has not submitted yet: the quiz's audience within one's scope.

Issue 12: the results of an exam showed the 21 of 192 who had submitted it and never the
171 who had not. The "not yet" list counts per branch and names each member (started or
not), on the page and in the export, and a secretary sees only their own subtree.
"""

from __future__ import annotations

import io
import zipfile

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from quizzes.models import Question, Quiz
from quizzes.results.reports import quiz_results
from quizzes.taking.attempts import attempt_start
from tests.factories.people import MemberFactory, secretary_of
from tests.factories.questions import question_create, single_choice
from tests.factories.quizzes import fixed_quiz, take

pytestmark = pytest.mark.django_db


@pytest.fixture
def questions(db) -> list[Question]:
    return [question_create(single_choice(stem="党的最高领导机关是？"))]


@pytest.fixture
def people(tree):
    found = {
        "zhao": MemberFactory(username="zhao", display_name="赵一", organization=tree.branch_a1),
        "qian": MemberFactory(username="qian", display_name="钱二", organization=tree.group_a1),
        "sun": MemberFactory(username="sun", display_name="孙三", organization=tree.branch_a2),
        "li": MemberFactory(username="li", display_name="李四", organization=tree.branch_b1),
        "gone": MemberFactory(username="gone", display_name="离开", organization=tree.branch_a2),
    }
    found["gone"].is_active = False
    found["gone"].save(update_fields=["is_active"])
    return found


@pytest.fixture
def secretary_b(tree):
    return secretary_of(tree.general_b, "secretary_b", "赵书记")


def _quiz(questions: list[Question], audience=()) -> Quiz:
    return fixed_quiz(questions, attempts_allowed=0, organizations=list(audience))


def _not_yet(results) -> dict[str, bool]:
    return {row.member.username: row.started for row in results.not_yet}


def test_the_audience_members_who_have_not_submitted_are_listed_per_branch(
    tree, people, editor, questions
) -> None:
    quiz = _quiz(questions, audience=[tree.general_a])
    take(quiz, people["zhao"])
    attempt_start(quiz=quiz, member=people["qian"])  # started, not submitted
    results = quiz_results(quiz=quiz, user=editor)
    # 李四 is outside the audience; an inactive member is nobody's business.
    assert _not_yet(results) == {"qian": True, "sun": False}
    counts = {
        row.branch.name: (row.audience, row.submitted, row.not_yet)
        for row in results.not_yet_branches
    }
    assert counts == {"第一党支部": (2, 1, 1), "第二党支部": (1, 0, 1)}
    total = results.not_yet_total
    assert (total.audience, total.submitted, total.not_yet) == (3, 1, 2)


def test_a_quiz_without_an_audience_is_for_everyone_in_scope(
    tree, people, editor, secretary_a, questions
) -> None:
    quiz = _quiz(questions)
    take(quiz, people["li"])
    everyone = _not_yet(quiz_results(quiz=quiz, user=editor))
    assert set(everyone) == {"zhao", "qian", "sun", "editor_user", "secretary_a"}
    mine = _not_yet(quiz_results(quiz=quiz, user=secretary_a))
    assert set(mine) == {"zhao", "qian", "sun", "secretary_a"}


def test_nobody_has_submitted_yet_everyone_is_not_yet(tree, people, secretary_a, questions):
    quiz = _quiz(questions, audience=[tree.branch_a2])
    results = quiz_results(quiz=quiz, user=secretary_a)
    assert results.members == []
    assert _not_yet(results) == {"sun": False}


def test_a_secretary_never_sees_another_subtrees_non_takers_on_the_page_or_in_the_export(
    client, tree, people, secretary_a, secretary_b, questions
) -> None:
    quiz = _quiz(questions, audience=[tree.committee])
    take(quiz, people["zhao"])
    client.force_login(secretary_b)
    page = client.get(reverse("quizzes_quiz_results", args=[quiz.pk]))
    assert page.status_code == 200
    content = page.content.decode()
    assert 'data-testid="not-yet"' in content
    assert "李四" in content and "赵书记" in content
    for outsider in ("钱二", "孙三", "王书记", "第一党支部", "第二党支部"):
        assert outsider not in content
    export = client.get(reverse("quizzes_quiz_results_export", args=[quiz.pk]))
    workbook = load_workbook(io.BytesIO(export.content))
    names = {
        cell
        for sheet in workbook.worksheets
        for row in sheet.iter_rows(values_only=True)
        for cell in row
    }
    assert {"李四", "赵书记", "第三党支部"} <= names
    assert not names & {"钱二", "孙三", "王书记", "赵一", "第一党支部"}


def test_the_export_has_the_not_yet_list_as_text(client, tree, editor, questions) -> None:
    payload = '=HYPERLINK("http://evil.example","点我")'
    MemberFactory(username="evil", display_name=payload, organization=tree.branch_b1)
    started = MemberFactory(username="started", display_name="开始了", organization=tree.branch_b1)
    quiz = _quiz(questions, audience=[tree.general_b])
    attempt_start(quiz=quiz, member=started)
    client.force_login(editor)
    export = client.get(reverse("quizzes_quiz_results_export", args=[quiz.pk]))
    workbook = load_workbook(io.BytesIO(export.content))
    sheet = workbook["未提交"] if "未提交" in workbook.sheetnames else workbook["Not yet submitted"]
    rows = list(sheet.iter_rows(min_row=2, values_only=True))
    assert [(row[0], row[1], row[2]) for row in rows] == [
        (payload, "evil", "第三党支部"),
        ("开始了", "started", "第三党支部"),
    ]
    assert rows[1][4] != rows[0][4]  # started, not started
    with zipfile.ZipFile(io.BytesIO(export.content)) as archive:
        for name in archive.namelist():
            if name.startswith("xl/worksheets/"):
                assert "<f>" not in archive.read(name).decode()


def test_the_not_yet_list_costs_the_same_queries_for_200_members(
    client, tree, editor, questions, django_assert_max_num_queries
) -> None:
    quiz = _quiz(questions)
    for number in range(3):
        MemberFactory(username=f"few{number}", organization=tree.branch_a1)
    client.force_login(editor)
    url = reverse("quizzes_quiz_results", args=[quiz.pk])
    with django_assert_max_num_queries(30) as few:
        client.get(url)
    MemberFactory.create_batch(100, organization=tree.group_a1)
    MemberFactory.create_batch(100, organization=tree.branch_b1)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(url)
    assert len(response.context["results"].not_yet) == 204
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(reverse("quizzes_quiz_results_export", args=[quiz.pk]))


def test_the_results_list_offers_a_published_quiz_nobody_has_submitted_yet(
    client, tree, people, secretary_a, secretary_b, questions
) -> None:
    """Without it, the not-yet list of a quiz nobody has taken could not be reached."""
    mine = fixed_quiz(questions, title="第一总支考试", kind=Quiz.Kind.EXAM)
    mine.organizations.set([tree.branch_a2])
    mine.save()
    above = fixed_quiz(questions, title="全委专项答题", organizations=[tree.committee])
    everyone = fixed_quiz(questions, title="人人可答")
    fixed_quiz(questions, title="第三支部答题", organizations=[tree.branch_b1])
    fixed_quiz(questions, title="草稿测验", is_published=False)
    fixed_quiz(questions, title="某日每日答题", kind=Quiz.Kind.DAILY)
    client.force_login(secretary_a)
    index = client.get(reverse("quizzes_results"))
    listed = {quiz.title: quiz.scoped_attempts for quiz in index.context["page_obj"].object_list}
    assert listed == {"第一总支考试": 0, "全委专项答题": 0, "人人可答": 0}
    page = client.get(reverse("quizzes_quiz_results", args=[mine.pk]))
    assert {row.member.username for row in page.context["results"].not_yet} == {"sun"}
    client.force_login(secretary_b)
    theirs = client.get(reverse("quizzes_results")).context["page_obj"].object_list
    assert {quiz.title for quiz in theirs} == {"全委专项答题", "人人可答", "第三支部答题"}
    assert above.pk and everyone.pk
