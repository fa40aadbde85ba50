"""The member's quiz pages: what reaches the browser, who sees what, and query bounds."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from quizzes.models import Attempt, Quiz, QuizDrawRule, WrongAnswer
from quizzes.taking.attempts import attempt_start
from quizzes.taking.daily import daily_quiz_make
from quizzes.taking.pacing import served_token
from tests.factories.people import DEFAULT_PASSWORD, MemberFactory
from tests.factories.questions import (
    bank_of_each_type,
    fill_blank,
    multiple_choice,
    question_create,
    single_choice,
)
from tests.factories.quizzes import fixed_quiz, right_answer, wrong_answer

pytestmark = pytest.mark.django_db

SECRET_EXPLANATION = "解析：见党章第十条。"


@pytest.fixture
def member(tree):
    return MemberFactory(username="li", organization=tree.branch_a1)


@pytest.fixture
def logged_in(client, member):
    assert client.login(username=member.username, password=DEFAULT_PASSWORD)
    return client


@pytest.fixture
def quiz(db):
    bank = bank_of_each_type()
    bank["fill_blank"] = question_create(
        fill_blank(stem="浙江嘉兴南湖的一艘____见证了中国共产党的诞生。", answers=("红船",))
    )
    for question in bank.values():
        question.explanation = SECRET_EXPLANATION
        question.save()
    return fixed_quiz(list(bank.values()), time_limit_minutes=20, title="党章知识测验")


def save(client, attempt, position, response, seq):
    return client.post(
        reverse("quizzes:save", args=[attempt.pk]),
        data=json.dumps({"position": position, "response": response, "seq": seq}),
        content_type="application/json",
    )


def test_the_quiz_index_lists_the_daily_quiz_and_open_quizzes(
    logged_in, member, quiz, django_assert_max_num_queries
):
    daily_quiz_make()  # made once a day, by the beat task or the first member to start it
    response = logged_in.get(reverse("quizzes:index"))
    page = response.content.decode()
    assert response.status_code == 200
    assert "党章知识测验" in page
    assert 'data-testid="daily-quiz"' in page
    with django_assert_max_num_queries(12) as few:
        logged_in.get(reverse("quizzes:index"))
    # More quizzes, some with attempts, cost no more queries.
    for number in range(6):
        more = fixed_quiz([], title=f"测验{number}")
        QuizDrawRule.objects.create(quiz=more, count=1)
        attempt_start(quiz=more, member=member)
    with django_assert_max_num_queries(len(few)):
        assert "测验5" in logged_in.get(reverse("quizzes:index")).content.decode()


def test_answers_and_explanations_never_reach_the_page_before_submitting(logged_in, member, quiz):
    response = logged_in.post(reverse("quizzes:start", args=[quiz.pk]))
    attempt = Attempt.objects.get(member=member)
    assert response.url == reverse("quizzes:attempt", args=[attempt.pk])
    page = logged_in.get(response.url).content.decode()
    assert "党章知识测验" in page
    assert SECRET_EXPLANATION not in page
    assert "is_correct" not in page and "is-right" not in page
    assert "红船" not in page  # the fill-in answer
    assert "true_false_answer" not in page
    saved = save(logged_in, attempt, 1, wrong_answer(attempt.questions.get(position=1).snapshot), 1)
    body = saved.content.decode()
    assert saved.status_code == 200 and json.loads(body)["ok"]
    assert SECRET_EXPLANATION not in body and "correct" not in body.replace('"ok"', "")


def test_after_submitting_the_review_shows_answers_and_explanations(logged_in, member, quiz):
    attempt = attempt_start(quiz=quiz, member=member)
    for item in attempt.questions.all():
        save(logged_in, attempt, item.position, right_answer(item.snapshot), 1)
    response = logged_in.post(reverse("quizzes:submit", args=[attempt.pk]))
    assert response.url == reverse("quizzes:result", args=[attempt.pk])
    page = logged_in.get(response.url).content.decode()
    assert SECRET_EXPLANATION in page
    assert 'data-testid="score"' in page


def test_a_review_policy_of_never_keeps_the_answers_hidden(logged_in, member, quiz):
    quiz.review = Quiz.Review.NEVER
    quiz.save()
    attempt = attempt_start(quiz=quiz, member=member)
    logged_in.post(reverse("quizzes:submit", args=[attempt.pk]))
    page = logged_in.get(reverse("quizzes:result", args=[attempt.pk])).content.decode()
    assert SECRET_EXPLANATION not in page


def test_another_members_attempt_is_not_found(client, member, quiz, tree):
    attempt = attempt_start(quiz=quiz, member=member)
    other = MemberFactory(username="wang", organization=tree.branch_a1)
    assert client.login(username=other.username, password=DEFAULT_PASSWORD)
    for name in ("attempt", "result"):
        assert client.get(reverse(f"quizzes:{name}", args=[attempt.pk])).status_code == 404
    answer = right_answer(attempt.questions.get(position=1).snapshot)
    assert save(client, attempt, 1, answer, 1).status_code == 404
    assert client.post(reverse("quizzes:submit", args=[attempt.pk])).status_code == 404
    attempt.refresh_from_db()
    assert attempt.state == Attempt.State.IN_PROGRESS
    assert attempt.questions.get(position=1).response is None


def test_bad_saves_get_clear_errors(logged_in, member, quiz):
    attempt = attempt_start(quiz=quiz, member=member)
    url = reverse("quizzes:save", args=[attempt.pk])
    not_json = logged_in.post(url, data="{{{", content_type="application/json")
    assert not_json.status_code == 400
    bad = save(logged_in, attempt, 1, {"choices": ["A"]}, 1)
    assert bad.status_code == 400 and json.loads(bad.content)["message"]
    stale_first = save(
        logged_in, attempt, 1, right_answer(attempt.questions.get(position=1).snapshot), 3
    )
    assert json.loads(stale_first.content)["stale"] is False
    stale = save(logged_in, attempt, 1, None, 2)
    assert json.loads(stale.content)["stale"] is True


def test_attempt_page_and_save_have_bounded_queries(
    logged_in, member, quiz, django_assert_max_num_queries
):
    attempt = attempt_start(quiz=quiz, member=member)
    with django_assert_max_num_queries(14):
        assert logged_in.get(reverse("quizzes:attempt", args=[attempt.pk])).status_code == 200
    with django_assert_max_num_queries(10):
        save(logged_in, attempt, 2, wrong_answer(attempt.questions.get(position=2).snapshot), 1)
    with django_assert_max_num_queries(16):
        logged_in.post(reverse("quizzes:submit", args=[attempt.pk]))


def test_wrong_answer_book_practice_over_json(logged_in, member, db):
    question = question_create(single_choice())
    quiz = fixed_quiz([question])
    attempt = attempt_start(quiz=quiz, member=member)
    save(logged_in, attempt, 1, wrong_answer(attempt.questions.get().snapshot), 1)
    logged_in.post(reverse("quizzes:submit", args=[attempt.pk]))
    entry = WrongAnswer.objects.get(member=member)
    page = logged_in.get(reverse("quizzes:wrong_practise", args=[entry.pk]))
    assert page.status_code == 200
    right_id = next(c.pk for c in question.choices.all() if c.is_correct)
    url = reverse("quizzes:wrong_practise", args=[entry.pk])
    for _ in range(2):
        verdict = logged_in.post(
            url,
            data=json.dumps(
                {"response": {"choices": [right_id]}, "served": page.context["served"]}
            ),
            content_type="application/json",
        ).json()
    assert verdict["correct"] and verdict["mastered"]
    assert logged_in.get(reverse("quizzes:wrong_book")).status_code == 200


def test_practice_by_category_records_nothing(logged_in, member, db):
    question = question_create(single_choice())
    category = question.category
    page = logged_in.get(reverse("quizzes:practice", args=[category.pk]))
    assert page.status_code == 200
    assert question.stem in page.content.decode()
    wrong_id = next(c.pk for c in question.choices.all() if not c.is_correct)
    verdict = logged_in.post(
        reverse("quizzes:practice", args=[category.pk]),
        data=json.dumps(
            {
                "question": question.pk,
                "response": {"choices": [wrong_id]},
                "served": page.context["served"],
            }
        ),
        content_type="application/json",
    ).json()
    assert verdict["correct"] is False and verdict["correct_answer"] == "1921"
    assert not WrongAnswer.objects.exists() and not Attempt.objects.exists()


def test_quiz_pages_need_a_login(client, quiz):
    response = client.get(reverse("quizzes:index"))
    assert response.status_code == 302 and "login" in response.url


def test_a_questions_image_is_shown_in_the_attempt_and_in_practice(logged_in, member, db):
    import io

    from django.core.files.images import ImageFile
    from PIL import Image as PillowImage
    from wagtail.images.models import Image

    buffer = io.BytesIO()
    PillowImage.new("RGB", (40, 30), "red").save(buffer, "PNG")
    image = Image.objects.create(title="会址", file=ImageFile(buffer, name="site.png"))
    question = question_create(single_choice())
    question.image = image
    question.save()
    attempt = attempt_start(quiz=fixed_quiz([question]), member=member)
    page = logged_in.get(reverse("quizzes:attempt", args=[attempt.pk])).content.decode()
    assert 'class="quiz-question__image"' in page
    practice = logged_in.get(reverse("quizzes:practice", args=[question.category_id]))
    assert 'class="quiz-question__image"' in practice.content.decode()


def test_the_pages_check_with_seq_makes_its_slower_save_stale_not_a_conflict(logged_in, member, db):
    for n in range(3):
        question_create(single_choice(stem=f"快答{n}：中国共产党成立于哪一年？"))
    attempt = attempt_start(quiz=daily_quiz_make(), member=member)
    item = attempt.questions.get(position=1)
    checked = logged_in.post(
        reverse("quizzes:check", args=[attempt.pk]),
        data=json.dumps({"position": 1, "seq": 2, "response": right_answer(item.snapshot)}),
        content_type="application/json",
    )
    assert checked.status_code == 200 and checked.json()["ok"]
    late = save(logged_in, attempt, 1, wrong_answer(item.snapshot), 1)
    assert late.status_code == 200
    assert late.json() | {"saved_at": None} == {
        "ok": True,
        "stale": True,
        "checked": True,
        "seq": 2,
        "saved_at": None,
    }
    item.refresh_from_db()
    assert item.response == right_answer(item.snapshot)
    refused = logged_in.post(
        reverse("quizzes:check", args=[attempt.pk]),
        data=json.dumps({"position": 2, "seq": "2", "response": right_answer(item.snapshot)}),
        content_type="application/json",
    )
    assert refused.status_code == 400 and refused.json()["code"] == "bad_seq"


# --- One name for the right answer in every view (issue 12) ------------------------------


MONTHS = ("一个月", "三个月", "六个月", "十二个月")


def shuffled_mistakes(logged_in, member) -> tuple[Attempt, dict[str, Any]]:
    """A shuffled quiz whose two choice questions were answered wrongly and submitted; the
    attempt showed each question's options in reverse bank order."""
    single = question_create(
        single_choice(stem="预备党员的预备期为多长时间？", options=MONTHS, correct=3)
    )
    multiple = question_create(multiple_choice(stem="下列属于“四个意识”的有？", correct=(0, 3)))
    quiz = fixed_quiz([single, multiple], shuffle_options=True, review=Quiz.Review.AFTER_SUBMIT)
    attempt = attempt_start(quiz=quiz, member=member)
    for item in attempt.questions.all():
        item.choice_order = list(reversed(item.choice_order))
        item.save(update_fields=["choice_order"])
        save(logged_in, attempt, item.position, wrong_answer(item.snapshot), 1)
    logged_in.post(reverse("quizzes:submit", args=[attempt.pk]))
    return attempt, {"single": single, "multiple": multiple}


def stated_answer(html: str) -> list[str]:
    """The right answers a page states, as the member reads them."""
    marker = "正确答案：</strong>"
    return [part.split("</p>")[0] for part in html.split(marker)[1:]]


def test_the_result_and_the_wrong_answer_book_name_the_same_right_answer(logged_in, member, db):
    attempt, questions = shuffled_mistakes(logged_in, member)
    result = logged_in.get(reverse("quizzes:result", args=[attempt.pk])).content.decode()
    assert stated_answer(result) == ["十二个月", "政治意识；品牌意识"]
    for key, expected in (("single", "十二个月"), ("multiple", "政治意识；品牌意识")):
        question = questions[key]
        entry = WrongAnswer.objects.get(member=member, question=question)
        wrong_id = next(c.pk for c in question.choices.all() if not c.is_correct)
        verdict = logged_in.post(
            reverse("quizzes:wrong_practise", args=[entry.pk]),
            data=json.dumps(
                {"response": {"choices": [wrong_id]}, "served": served_token(member, question.pk)}
            ),
            content_type="application/json",
        ).json()
        assert verdict["correct_answer"] == expected
    single = questions["single"]
    wrong_id = next(c.pk for c in single.choices.all() if not c.is_correct)
    practised = logged_in.post(
        reverse("quizzes:practice", args=[single.category.pk]),
        data=json.dumps(
            {
                "question": single.pk,
                "response": {"choices": [wrong_id]},
                "served": served_token(member, single.pk),
            }
        ),
        content_type="application/json",
    ).json()
    assert practised["correct_answer"] == "十二个月"


def test_the_api_review_and_book_name_the_right_answer_by_its_text(member, db):
    from rest_framework.test import APIClient

    api = APIClient()
    assert api.login(username=member.username, password=DEFAULT_PASSWORD)
    attempt, questions = shuffled_mistakes(api, member)
    review = api.get(reverse("quizzes_api:attempt", args=[attempt.pk])).json()
    named = [question["feedback"]["correct_answer"] for question in review["questions"]]
    assert named == ["十二个月", "政治意识；品牌意识"]
    entry = WrongAnswer.objects.get(member=member, question=questions["single"])
    wrong_id = next(c.pk for c in questions["single"].choices.all() if not c.is_correct)
    verdict = api.post(
        reverse("quizzes_api:wrong_answer_practise", args=[entry.pk]),
        {"response": {"choices": [wrong_id]}, "served": served_token(member, entry.question_id)},
        format="json",
    ).json()
    assert verdict["correct_answer"] == "十二个月"


def test_the_quiz_index_makes_nothing_and_starting_today_s_quiz_makes_it(logged_in, member, db):
    response = logged_in.get(reverse("quizzes:index"))
    assert response.status_code == 200
    assert 'data-testid="daily-quiz"' in response.content.decode()
    assert not Quiz.objects.filter(kind=Quiz.Kind.DAILY).exists(), "a GET never writes"

    response = logged_in.post(reverse("quizzes:daily_start"))

    daily = Quiz.objects.get(kind=Quiz.Kind.DAILY)
    assert daily.local_date == timezone.localdate()
    assert response.status_code == 302
