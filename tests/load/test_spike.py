"""The morning-spike load generator (tests/load): its scenario logic, its data set, and a
small run of it against a live server, so the tool itself is known to measure what it says.

The spike itself is not run here (docs/benchmarks.md#morning-spike says how to run it).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import random

import pytest

from learning.models import Member
from quizzes.models import Attempt, Question
from tests.factories.questions import question_create, single_choice, true_false
from tests.load.dataset import members_create
from tests.load.scenario import (
    Parameters,
    Results,
    Sample,
    answer_for,
    pause_for,
    percentile,
    schedule,
    verdict,
)
from tests.load.spike import records_of, run

# --- The scenario's logic ----------------------------------------------------------------


def test_the_schedule_spreads_arrivals_over_the_window_with_the_fresh_logins_asked_for():
    parameters = Parameters(members=2000, window=120, fresh_fraction=0.1)
    arrivals = schedule(parameters)
    assert len(arrivals) == 2000
    assert arrivals[0].at == 0
    assert all(0 <= a.at <= 120 for a in arrivals)
    assert [a.at for a in arrivals] == sorted(a.at for a in arrivals)
    assert sum(a.fresh for a in arrivals) == 200
    # Uniform: each quarter of the window gets about a quarter of the members.
    quarters = [sum(q * 30 <= a.at < (q + 1) * 30 for a in arrivals) for q in range(4)]
    assert all(400 < count < 600 for count in quarters), quarters
    assert schedule(parameters) == arrivals  # seeded: the same run every time
    assert schedule(Parameters(members=2000, seed=17)) != arrivals


def test_pauses_stay_within_the_jitter_and_average_the_pause():
    parameters = Parameters(pause=2.0, jitter=0.5)
    rng = random.Random(1)
    pauses = [pause_for(parameters, rng) for _ in range(5000)]
    assert min(pauses) >= 1.0 and max(pauses) <= 3.0
    assert 1.9 < sum(pauses) / len(pauses) < 2.1
    assert pause_for(Parameters(pause=2.0, jitter=0), rng) == 2.0


@pytest.mark.parametrize(
    "bad",
    [
        {"members": 0},
        {"jitter": 1.5},
        {"fresh_fraction": -0.1},
        {"window": -1},
    ],
)
def test_parameters_out_of_range_are_refused(bad):
    with pytest.raises(ValueError):
        Parameters(**bad)


def test_answers_fit_each_question_type():
    rng = random.Random(2)
    options = [{"id": n} for n in (7, 8, 9, 10)]
    single = answer_for({"type": "single", "options": options}, rng)
    assert len(single["choices"]) == 1 and single["choices"][0] in (7, 8, 9, 10)
    multiple = answer_for({"type": "multiple", "options": options}, rng)
    assert len(multiple["choices"]) == 2 and set(multiple["choices"]) <= {7, 8, 9, 10}
    assert answer_for({"type": "true_false"}, rng)["value"] in (True, False)
    assert answer_for({"type": "fill_blank", "blank_count": 3}, rng) == {"blanks": ["党"] * 3}


def test_percentiles_are_nearest_rank():
    values = [float(n) for n in range(1, 101)]
    assert percentile(values, 0.5) == 50
    assert percentile(values, 0.95) == 95
    assert percentile([3.0], 0.95) == 3
    assert percentile([], 0.95) == 0


def test_the_verdict_names_every_miss_of_the_target():
    results = Results()
    for n in range(100):
        results.record(Sample("save", n / 10, 0.01, 200, True))
        results.record(Sample("submit", n / 10, 0.5 if n >= 90 else 0.05, 200, True))
    results.done_at = [12.0, 160.0]
    summary = results.summary(Parameters(members=2))
    assert summary["kinds"]["save"]["p95_ms"] == 10
    assert summary["kinds"]["submit"]["p95_ms"] == 500
    misses = verdict(summary)
    assert misses == ["submit p95 500 ms > 300 ms", "last member done at 160.0 s > 150 s"]
    results.record(Sample("start", 1.0, 0.02, 0, False))
    results.failed.append("m1: start: refused")
    assert verdict(results.summary(Parameters(members=2)))[0] == "1 errors, 1 members failed"
    results.done_at = [12.0]
    fine = Results(samples=results.samples[:200], done_at=[12.0])
    assert verdict(fine.summary(Parameters(members=1)), p95_ms=600) == []


# --- Against a live server ----------------------------------------------------------------


@pytest.fixture
def daily_bank(db) -> list[Question]:
    questions = [
        question_create(single_choice(stem=f"第{n}题：中国共产党成立于哪一年？")) for n in range(4)
    ]
    return [*questions, question_create(true_false())]


def _spike(live_server, data, parameters):
    # A thread of its own: after the browser journeys Playwright's event loop runs in this
    # one, and asyncio.run refuses to start a second loop beside it.
    coroutine = run(live_server.url, records_of(data), parameters, timeout=20, secure=False)
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_five_members_take_the_daily_quiz_through_the_generator(live_server, tree, daily_bank):
    data = members_create(count=5, prefix="loadtest", password="Load-Test-Pass-1")
    assert len(data["members"]) == 5 and all(row["session"] for row in data["members"])
    assert Member.objects.filter(username__startswith="loadtest-").count() == 5
    parameters = Parameters(members=5, window=0.5, pause=0.05, fresh_fraction=0.4)

    results = _spike(live_server, data, parameters)

    summary = results.summary(parameters)
    assert summary["members_done"] == 5, summary["failures"]
    assert summary["errors"] == 0
    kinds = summary["kinds"]
    assert kinds["login"]["count"] == 2 and kinds["login_form"]["count"] == 2
    assert kinds["start"]["count"] == 5 and kinds["submit"]["count"] == 5
    assert kinds["save"]["count"] == 25 and kinds["check"]["count"] == 25
    attempts = Attempt.objects.filter(member__username__startswith="loadtest-")
    assert attempts.count() == 5
    assert all(attempt.state == Attempt.State.SUBMITTED for attempt in attempts)
    assert all(attempt.questions.filter(mark__isnull=False).count() == 5 for attempt in attempts)
    assert kinds["submit"]["statuses"] == {"200": 5}


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_member_whose_session_is_unknown_fails_and_is_counted(live_server, tree, daily_bank):
    data = members_create(count=2, prefix="loadbad", password="Load-Test-Pass-1")
    data["members"][1]["session"] = "not-a-session-the-server-knows"
    parameters = Parameters(members=2, window=0.1, pause=0.01, fresh_fraction=0)

    summary = _spike(live_server, data, parameters).summary(parameters)

    assert summary["members_done"] == 1
    assert summary["members_failed"] == 1
    assert "loadbad-00002: start: 403" in summary["failures"][0]
    assert summary["kinds"]["start"]["statuses"] == {"201": 1, "403": 1}
    assert verdict(summary)[0] == "1 errors, 1 members failed"


@pytest.mark.paced
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_checks_sent_sooner_than_reading_time_are_resent_and_the_attempt_is_held(
    live_server, tree, daily_bank, settings
):
    # A floor no save-and-check can reach, however slow the machine: every first check
    # is too soon (0.2 s was reached by a loaded machine's first check).
    settings.DANGJIAN_READING_FLOOR_SECONDS = 1.5
    settings.DANGJIAN_READING_CHARS_PER_SECOND = 100
    data = members_create(count=1, prefix="loadfast", password="Load-Test-Pass-1")
    parameters = Parameters(members=1, window=0, pause=0.01, jitter=0, fresh_fraction=0)

    summary = _spike(live_server, data, parameters).summary(parameters)

    assert summary["members_done"] == 1, summary["failures"]
    assert summary["errors"] == 0
    assert summary["too_soon_retries"] >= 5
    assert summary["kinds"]["check"]["statuses"]["429"] == summary["too_soon_retries"]
    assert summary["kinds"]["check"]["statuses"]["200"] == 5
    assert summary["attempts_held"] == 1
