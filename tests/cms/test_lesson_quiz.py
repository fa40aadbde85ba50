"""A lesson can offer a lesson quiz at its end; members start it from the lesson."""

from __future__ import annotations

import pytest
from django.urls import reverse

from quizzes.models import Attempt, Quiz
from tests.factories.pages import add_course, add_lesson
from tests.factories.people import MemberFactory
from tests.factories.questions import question_create, single_choice
from tests.factories.quizzes import fixed_quiz

pytestmark = pytest.mark.django_db


def test_a_lesson_offers_its_published_quiz_and_the_member_can_take_it(client, content, tree):
    quiz = fixed_quiz([question_create(single_choice())], kind=Quiz.Kind.LESSON, title="第一课小测")
    lesson = add_lesson(add_course(), "第一课", quiz=quiz)
    member = MemberFactory(organization=tree.branch_a1)
    client.force_login(member)
    page = client.get(lesson.url).content.decode()
    assert "第一课小测" in page
    assert reverse("quizzes:start", args=[quiz.pk]) in page
    response = client.post(reverse("quizzes:start", args=[quiz.pk]))
    attempt = Attempt.objects.get(member=member, quiz=quiz)
    assert response.url == reverse("quizzes:attempt", args=[attempt.pk])


def test_an_unpublished_lesson_quiz_is_not_offered(client, content, tree):
    quiz = fixed_quiz([question_create(single_choice())], kind=Quiz.Kind.LESSON, is_published=False)
    lesson = add_lesson(add_course(), "第二课", quiz=quiz)
    client.force_login(MemberFactory(organization=tree.branch_a1))
    assert 'data-testid="lesson-quiz"' not in client.get(lesson.url).content.decode()


def test_home_shows_todays_daily_quiz_and_when_it_is_done(client, content, tree):
    from quizzes.taking.attempts import attempt_start
    from quizzes.taking.daily import daily_quiz_make
    from quizzes.taking.submitting import attempt_submit

    for number in range(5):
        question_create(single_choice(stem=f"第{number}题：党的根本宗旨是什么？"))
    member = MemberFactory(organization=tree.branch_a1)
    client.force_login(member)
    before = client.get(content.home.url).content.decode()
    assert 'data-testid="home-daily-quiz"' in before and "is-done" not in before
    attempt_submit(attempt=attempt_start(quiz=daily_quiz_make(), member=member), member=member)
    after = client.get(content.home.url).content.decode()
    assert "task-daily is-done" in after
