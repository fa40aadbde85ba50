"""Integrity flags on attempts: raised at submit, held points, review, scope (docs/integrity.md).

The bots here are the project's own scripted clients: plain HTTP with a member's password,
the clock moved by hand (``time_machine``) so a bot's pace is exact.
"""

from __future__ import annotations

import datetime
import json
from typing import Any

import pytest
import time_machine
from django.core.exceptions import PermissionDenied
from django.test import Client
from django.urls import reverse

from learning.integrity.services import CONFIRM, DISMISS, FlagDecisionError, flag_decide
from learning.models import IntegrityFlag, PointsEntry, SubtreeLogEntry
from learning.people import audit
from quizzes.models import Attempt, Question, Quiz
from quizzes.taking.attempts import attempt_start
from quizzes.taking.integrity import attempt_subject_key, plausible_seconds
from quizzes.taking.submitting import attempt_submit
from tests.factories.people import DEFAULT_PASSWORD, MemberFactory
from tests.factories.questions import question_create, single_choice
from tests.factories.quizzes import answer_all, fixed_quiz, right_answer, take, wrong_answer

pytestmark = pytest.mark.django_db

START = datetime.datetime(2026, 12, 7, 9, 0, tzinfo=datetime.UTC)
STEM = "在中国共产党第{number}次学习中，下列哪一项最准确地表述了党的根本宗旨？"
OPTIONS = ("全心全意为人民服务", "实现共产主义", "坚持党的领导", "发展社会生产力")


@pytest.fixture
def clock():
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


@pytest.fixture
def questions(db) -> list[Question]:
    return [
        question_create(single_choice(stem=STEM.format(number=number), options=OPTIONS, correct=0))
        for number in range(10)
    ]


@pytest.fixture
def quiz(questions) -> Quiz:
    return fixed_quiz(questions, title="党的宗旨专项测验")


@pytest.fixture
def paced_quiz(questions) -> Quiz:
    # The quiz's own floor is the old flat 2 s per question the bots paced themselves to.
    return fixed_quiz(questions, title="党的宗旨限时测验", min_seconds_per_question=2)


@pytest.fixture
def zhao(tree):
    return MemberFactory(username="zhao", display_name="赵党员", organization=tree.branch_a1)


@pytest.fixture
def qian(tree):
    return MemberFactory(username="qian", display_name="钱党员", organization=tree.branch_a1)


@pytest.fixture
def outsider(tree):
    return MemberFactory(username="sun", display_name="孙党员", organization=tree.branch_b1)


def _client(member) -> Client:
    client = Client()
    assert client.login(username=member.username, password=DEFAULT_PASSWORD)
    return client


def _bot_takes(client: Client, quiz: Quiz, clock: Any, seconds_per_question: float) -> Attempt:
    """Start over HTTP, save the right answer to each question at a fixed pace, submit."""
    assert client.post(reverse("quizzes:start", args=[quiz.pk])).status_code == 302
    attempt = Attempt.objects.filter(quiz=quiz).latest("pk")
    for item in attempt.questions.order_by("position"):
        clock.shift(seconds_per_question)
        saved = client.post(
            reverse("quizzes:save", args=[attempt.pk]),
            data=json.dumps(
                {"position": item.position, "response": right_answer(item.snapshot), "seq": 1}
            ),
            content_type="application/json",
        )
        assert saved.status_code == 200
    assert client.post(reverse("quizzes:submit", args=[attempt.pk])).status_code == 302
    attempt.refresh_from_db()
    return attempt


def _flag(attempt: Attempt, kind: str) -> IntegrityFlag:
    return IntegrityFlag.objects.get(subject_key=attempt_subject_key(attempt.pk), kind=kind)


@pytest.mark.paced
def test_a_bot_at_the_old_fixed_pace_is_flagged_and_its_points_held(zhao, paced_quiz, clock):
    """2 s a question plus 1.5 s beat the old flat check; the questions' length does not."""
    attempt = _bot_takes(_client(zhao), paced_quiz, clock, seconds_per_question=3.5)
    assert attempt.score == attempt.max_score  # every answer right
    assert attempt.is_held and attempt.too_fast and attempt.points == 0
    assert attempt.result_state == Attempt.ResultState.HELD
    assert not PointsEntry.objects.filter(member=zhao).exists()
    flag = _flag(attempt, IntegrityFlag.Kind.TOO_FAST)
    per_question = plausible_seconds(attempt.questions.first().snapshot, 2)
    assert per_question > 3.5
    assert flag.evidence == {
        "answered": 10,
        "seconds": 35,
        "plausible_seconds": pytest.approx(10 * per_question, abs=1),
    }
    assert flag.is_open and flag.organization == zhao.organization
    result = _client(zhao).get(reverse("quizzes:result", args=[attempt.pk]))
    assert "待审核" in result.content.decode()


@pytest.mark.paced
def test_a_member_reading_at_a_person_s_pace_is_not_flagged(zhao, paced_quiz, clock):
    attempt = _bot_takes(_client(zhao), paced_quiz, clock, seconds_per_question=9)
    assert not attempt.is_held and attempt.points > 0
    assert not IntegrityFlag.objects.exists()


@pytest.mark.paced
def test_dismissing_awards_the_held_points_exactly_once(zhao, paced_quiz, clock, secretary_a):
    attempt = _bot_takes(_client(zhao), paced_quiz, clock, seconds_per_question=3)
    flag = _flag(attempt, IntegrityFlag.Kind.TOO_FAST)
    secretary = _client(secretary_a)
    url = reverse("learning_integrity_flag", args=[flag.pk])
    assert secretary.post(url, {"decision": "dismiss", "note": ""}).status_code == 302
    again = secretary.post(url, {"decision": "dismiss", "note": ""})
    assert again.status_code == 400 and "已经处理" in again.content.decode()
    attempt.refresh_from_db()
    assert attempt.integrity == Attempt.Integrity.CLEAR and attempt.points > 0
    entries = PointsEntry.objects.filter(member=zhao)
    assert entries.count() == 1 and entries.get().points == attempt.points
    flag.refresh_from_db()
    assert flag.status == IntegrityFlag.Status.DISMISSED and flag.reviewed_by == secretary_a
    logged = SubtreeLogEntry.objects.get(action=audit.FLAG_DISMISSED)
    assert logged.user == secretary_a and logged.object_id == str(zhao.pk)


def _shared_answers(zhao, qian, quiz) -> tuple[Attempt, Attempt]:
    """Two members of one branch hand in the same answers, three of them the same wrong ones."""
    pattern = [True] * 7 + [False] * 3
    first = take(quiz, zhao, right=pattern)
    second = take(quiz, qian, right=pattern)
    return first, second


def test_the_same_answers_as_a_branch_colleague_flag_both_attempts(zhao, qian, quiz):
    first, second = _shared_answers(zhao, qian, quiz)
    assert first.points > 0  # awarded before the second was handed in
    assert second.is_held and second.points == 0
    flag = _flag(second, IntegrityFlag.Kind.SHARED_ANSWERS)
    assert flag.evidence["other"] == "赵党员" and flag.evidence["wrong"] == 3
    earlier = _flag(first, IntegrityFlag.Kind.SHARED_ANSWERS)
    assert earlier.evidence["other"] == "钱党员"
    first.refresh_from_db()
    assert first.integrity == Attempt.Integrity.CLEAR  # its points were awarded already


def test_right_answers_alike_prove_nothing(zhao, qian, quiz):
    take(quiz, zhao)
    second = take(quiz, qian)
    assert not second.is_held and not IntegrityFlag.objects.exists()


def test_confirming_reverses_awarded_points_exactly_once_with_the_reason(
    zhao, qian, quiz, secretary_a
):
    first, _second = _shared_answers(zhao, qian, quiz)
    flag = _flag(first, IntegrityFlag.Kind.SHARED_ANSWERS)
    secretary = _client(secretary_a)
    url = reverse("learning_integrity_flag", args=[flag.pk])
    refused = secretary.post(url, {"decision": "confirm", "note": "  "})
    assert refused.status_code == 400 and "原因" in refused.content.decode()
    flag.refresh_from_db()
    assert flag.is_open
    reason = "与同支部党员答案完全相同，本人说明为代答。"
    assert secretary.post(url, {"decision": "confirm", "note": reason}).status_code == 302
    assert secretary.post(url, {"decision": "confirm", "note": reason}).status_code == 400
    entries = PointsEntry.objects.filter(member=zhao).order_by("pk")
    assert [entry.points for entry in entries] == [first.points, -first.points]
    assert reason in entries.last().note
    first.refresh_from_db()
    assert first.integrity == Attempt.Integrity.VOID and first.points == 0
    assert first.result_state == Attempt.ResultState.VOID
    points_page = _client(zhao).get(reverse("learning:points")).content.decode()
    assert reason in points_page


def test_a_held_attempt_confirmed_never_earns_and_a_later_dismissal_awards_nothing(
    zhao, qian, quiz, secretary_a
):
    quiz.attempts_allowed = 0
    quiz.save()
    _first, second = _shared_answers(zhao, qian, quiz)
    attempt_start(quiz=quiz, member=qian)  # a second attempt in progress: no parallel signal
    flag = _flag(second, IntegrityFlag.Kind.SHARED_ANSWERS)
    flag_decide(flag=flag, by=secretary_a, decision=CONFIRM, note="代答")
    second.refresh_from_db()
    assert second.integrity == Attempt.Integrity.VOID
    assert not PointsEntry.objects.filter(member=qian).exists()


def test_parallel_attempts_are_flagged(zhao, questions):
    quizzes = [fixed_quiz(questions[:2], title=f"并行测验{number}") for number in range(3)]
    attempts = [attempt_start(quiz=quiz, member=zhao) for quiz in quizzes]
    for attempt in attempts:
        answer_all(attempt, zhao)
    submitted = attempt_submit(attempt=attempts[-1], member=zhao)
    assert submitted.is_held
    assert _flag(submitted, IntegrityFlag.Kind.PARALLEL_ATTEMPTS).evidence["attempts"] == 3


def test_accuracy_far_above_the_member_s_record_is_flagged(zhao, questions, clock):
    history = fixed_quiz(questions, title="往次测验", attempts_allowed=0)
    for _ in range(4):  # 40 answers, 30 % right
        take(history, zhao, right=[True] * 3 + [False] * 7)
        clock.shift(3600)
    sudden = take(fixed_quiz(questions, title="本次测验"), zhao)
    assert sudden.is_held
    evidence = _flag(sudden, IntegrityFlag.Kind.ACCURACY_JUMP).evidence
    assert (evidence["accuracy"], evidence["usual_accuracy"]) == (100, 30)


def test_accuracy_like_the_member_s_record_is_not_flagged(zhao, questions, clock):
    history = fixed_quiz(questions, title="往次测验", attempts_allowed=0)
    for _ in range(4):
        take(history, zhao, right=[True] * 8 + [False] * 2)
        clock.shift(3600)
    assert not take(fixed_quiz(questions, title="本次测验"), zhao).is_held


def test_a_secretary_sees_and_decides_only_flags_of_their_subtree(
    zhao, outsider, qian, quiz, secretary_a
):
    _shared_answers(zhao, qian, quiz)
    outside_pattern = [True] * 7 + [False] * 3
    other = MemberFactory(username="zhou", organization=outsider.organization)
    take(quiz, outsider, right=outside_pattern)
    outside_attempt = take(quiz, other, right=outside_pattern)
    outside_flag = _flag(outside_attempt, IntegrityFlag.Kind.SHARED_ANSWERS)
    secretary = _client(secretary_a)
    listing = secretary.get(reverse("learning_integrity_flags"))
    assert listing.status_code == 200
    shown = {row["flag"].pk for row in listing.context["rows"]}
    assert outside_flag.pk not in shown and len(shown) == 2
    url = reverse("learning_integrity_flag", args=[outside_flag.pk])
    assert secretary.get(url).status_code == 404
    assert secretary.post(url, {"decision": "dismiss"}).status_code == 404
    with pytest.raises(PermissionDenied):
        flag_decide(flag=outside_flag, by=secretary_a, decision=DISMISS, note="")
    outside_flag.refresh_from_db()
    assert outside_flag.is_open
    outside_attempt.refresh_from_db()
    assert outside_attempt.is_held


def test_members_and_editors_have_no_review_queue(zhao, editor):
    for person in (zhao, editor):
        client = _client(person)
        assert client.get(reverse("learning_integrity_flags")).status_code in (302, 403)


def test_the_queue_filters_and_an_administrator_sees_everything(
    zhao, qian, outsider, quiz, administrator
):
    _shared_answers(zhao, qian, quiz)
    admin = _client(administrator)
    everything = admin.get(reverse("learning_integrity_flags"), {"status": "all"})
    assert len(everything.context["rows"]) == 2
    assert everything.context["counts"]["open"] == 2
    fast_only = admin.get(reverse("learning_integrity_flags"), {"kind": "too_fast"})
    assert fast_only.context["rows"] == []
    bad = admin.get(reverse("learning_integrity_flags"), {"status": "<x>", "kind": "nope"})
    assert bad.status_code == 200 and len(bad.context["rows"]) == 2
    flag = IntegrityFlag.objects.first()
    page = admin.get(reverse("learning_integrity_flag", args=[flag.pk])).content.decode()
    assert "答案" in page and "赵党员" in page


def test_a_decision_is_refused_when_it_is_not_one(zhao, qian, quiz, secretary_a):
    _first, second = _shared_answers(zhao, qian, quiz)
    flag = _flag(second, IntegrityFlag.Kind.SHARED_ANSWERS)
    with pytest.raises(FlagDecisionError):
        flag_decide(flag=flag, by=secretary_a, decision="delete", note="")
    with pytest.raises(FlagDecisionError):
        flag_decide(flag=flag, by=secretary_a, decision=CONFIRM, note="理" * 1001)
    flag.refresh_from_db()
    assert flag.is_open


def test_wrong_answers_alike_in_another_branch_are_not_shared(zhao, outsider, quiz):
    pattern = [True] * 7 + [False] * 3
    take(quiz, zhao, right=pattern)
    assert not take(quiz, outsider, right=pattern).is_held


def test_the_fingerprint_follows_the_order_answers_were_saved(zhao, qian, quiz, clock):
    pattern = [True] * 7 + [False] * 3
    take(quiz, zhao, right=pattern)
    attempt = attempt_start(quiz=quiz, member=qian)
    items = list(attempt.questions.order_by("-position"))  # the same answers, backwards
    from quizzes.taking.attempts import attempt_answer_save

    for item, correct in zip(items, list(reversed(pattern)), strict=True):
        clock.shift(1)
        response = right_answer(item.snapshot) if correct else wrong_answer(item.snapshot)
        attempt_answer_save(
            attempt=attempt, member=qian, position=item.position, response=response, seq=1
        )
    assert not attempt_submit(attempt=attempt, member=qian).is_held


def test_the_integrity_report_lists_each_flag_on_a_line(zhao, qian, quiz, capsys):
    from django.core.management import call_command

    _shared_answers(zhao, qian, quiz)
    call_command("integrity_report", "--since", "7")
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 2
    fields = next(line.split("\t") for line in lines if "\tqian\t" in line)
    assert fields[2] == "第一党支部"
    assert fields[3] == "与其他党员答案完全一致" and fields[5] == "待审核"
    assert "赵党员" in fields[6]
    call_command("integrity_report", "--json")
    rows = [json.loads(line) for line in capsys.readouterr().out.strip().splitlines()]
    assert {row["member"] for row in rows} == {"zhao", "qian"}
    assert {row["kind"] for row in rows} == {"shared_answers"}
    assert all(row["status"] == "open" and row["explanation"] for row in rows)


def test_the_integrity_report_refuses_a_bad_window():
    from django.core.management import CommandError, call_command

    for days in ("0", "-1", "99999"):
        with pytest.raises(CommandError):
            call_command("integrity_report", "--since", days)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_reviewers_deciding_at_once_decide_once(tree, secretary_a, administrator):
    import threading

    from django.db import connection

    zhao = MemberFactory(username="zhao", display_name="赵党员", organization=tree.branch_a1)
    slow = fixed_quiz(
        [question_create(single_choice(stem=f"第{n}题：党的根本宗旨？")) for n in range(3)],
        min_seconds_per_question=600,
    )
    held = take(slow, zhao)
    flag = _flag(held, IntegrityFlag.Kind.TOO_FAST)
    decisions = [
        (secretary_a, DISMISS),
        (administrator, DISMISS),
        (secretary_a, CONFIRM),
        (administrator, CONFIRM),
    ]
    barrier = threading.Barrier(len(decisions))
    outcomes: list[str] = []

    def decide(by, decision):
        try:
            barrier.wait()
            flag_decide(flag=flag, by=by, decision=decision, note="同时审核")
            outcomes.append(decision)
        except FlagDecisionError:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=decide, args=pair) for pair in decisions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes).count("refused") == 3
    held.refresh_from_db()
    entries = PointsEntry.objects.filter(member=zhao)
    if DISMISS in outcomes:
        assert held.integrity == Attempt.Integrity.CLEAR and entries.count() == 1
    else:
        assert held.integrity == Attempt.Integrity.VOID and not entries.exists()


def _review_answers(client: Client, attempt: Attempt) -> list[list[int]]:
    """What the API's review hands out: the right options of each question."""
    questions = client.get(reverse("quizzes_api:attempt", args=[attempt.pk])).json()["questions"]
    return [q["feedback"]["correct_option_ids"] for q in questions if q.get("feedback")]


@pytest.mark.paced
def test_a_harvester_gets_no_answers_from_blank_or_machine_speed_attempts(
    zhao, questions, clock, secretary_a
):
    quiz = fixed_quiz(questions, title="反复作答", attempts_allowed=0, review="after_submit")
    web = _client(zhao)
    blank = attempt_start(quiz=quiz, member=zhao)
    clock.shift(120)
    attempt_submit(attempt=blank, member=zhao)
    assert _review_answers(web, blank) == []  # nothing answered, nothing revealed
    clock.shift(120)
    fast = attempt_start(quiz=quiz, member=zhao)
    answer_all(fast, zhao, right=False)  # guesses, at machine speed
    fast = attempt_submit(attempt=fast, member=zhao)
    assert fast.too_fast and fast.is_held
    assert _review_answers(web, fast) == []  # held as too fast: no answers yet
    flag_decide(
        flag=_flag(fast, IntegrityFlag.Kind.TOO_FAST), by=secretary_a, decision=DISMISS, note=""
    )
    assert len(_review_answers(web, fast)) == len(questions)


def test_nobody_reviews_their_own_flags(tree, questions, secretary_a, administrator):
    """A secretary is a member of their subtree too: their flags go to others."""
    quizzes = [fixed_quiz(questions[:2], title=f"书记并行测验{n}") for n in range(3)]
    attempts = [attempt_start(quiz=quiz, member=secretary_a) for quiz in quizzes]
    held = attempt_submit(attempt=attempts[-1], member=secretary_a)
    flag = _flag(held, IntegrityFlag.Kind.PARALLEL_ATTEMPTS)
    own = _client(secretary_a)
    listing = own.get(reverse("learning_integrity_flags"))
    assert listing.context["rows"] == [] and listing.context["counts"]["open"] == 0
    url = reverse("learning_integrity_flag", args=[flag.pk])
    assert own.post(url, {"decision": "dismiss"}).status_code == 404
    with pytest.raises(PermissionDenied):
        flag_decide(flag=flag, by=secretary_a, decision=DISMISS, note="")
    flag_decide(flag=flag, by=administrator, decision=DISMISS, note="")
    held.refresh_from_db()
    assert held.integrity == Attempt.Integrity.CLEAR


def test_challenges_ended_and_restarted_are_not_parallel(zhao, questions, clock):
    from quizzes.taking.attempts import attempt_answer_check
    from quizzes.taking.daily import challenge_quiz

    challenge = challenge_quiz()
    for _ in range(3):
        attempt = attempt_start(quiz=challenge, member=zhao)
        item = attempt.questions.order_by("position").first()
        clock.shift(4)
        wrong = wrong_answer(item.snapshot)
        attempt_answer_check(attempt=attempt, member=zhao, position=item.position, response=wrong)
        clock.shift(2)
    assert not IntegrityFlag.objects.filter(kind=IntegrityFlag.Kind.PARALLEL_ATTEMPTS).exists()


def test_checks_in_a_timed_quiz_are_not_refused_by_the_verdict_limit(zhao, questions, settings):
    from quizzes.taking.attempts import attempt_answer_check

    settings.DANGJIAN_VERDICT_LIMIT = 0  # spent, say, in practice
    timed = fixed_quiz(questions[:3], review=Quiz.Review.AFTER_EACH, time_limit_minutes=10)
    attempt = attempt_start(quiz=timed, member=zhao)
    for item in attempt.questions.order_by("position"):
        right = right_answer(item.snapshot)
        attempt_answer_check(attempt=attempt, member=zhao, position=item.position, response=right)
    assert attempt.questions.filter(mark__isnull=True).count() == 0


def test_the_review_list_does_not_grow_queries_with_its_rows(tree, quiz, administrator):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    pattern = [True] * 7 + [False] * 3
    admin = _client(administrator)

    def queries() -> int:
        admin.get(reverse("learning_integrity_flags"))  # warm caches (permissions, menu)
        with CaptureQueriesContext(connection) as captured:
            assert admin.get(reverse("learning_integrity_flags")).status_code == 200
        return len(captured)

    for name in ("甲", "乙"):
        take(quiz, MemberFactory(display_name=name, organization=tree.branch_a1), right=pattern)
    few = queries()
    for name in ("丙", "丁", "戊", "己"):
        take(quiz, MemberFactory(display_name=name, organization=tree.branch_a1), right=pattern)
    assert IntegrityFlag.objects.count() >= 6
    assert queries() == few


def test_a_post_without_a_decision_changes_nothing(zhao, qian, quiz, secretary_a):
    _first, second = _shared_answers(zhao, qian, quiz)
    flag = _flag(second, IntegrityFlag.Kind.SHARED_ANSWERS)
    secretary = _client(secretary_a)
    url = reverse("learning_integrity_flag", args=[flag.pk])
    for body in ({}, {"decision": "delete"}, {"decision": "confirm", "note": "理" * 451}):
        refused = secretary.post(url, body)
        assert refused.status_code == 400
    flag.refresh_from_db()
    second.refresh_from_db()
    assert flag.is_open and second.is_held
    missing = reverse("learning_integrity_flag", args=[flag.pk + 1000])
    assert secretary.get(missing).status_code == 404
