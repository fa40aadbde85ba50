"""Running the integrity simulation: tasks in forked workers, each on its own database copy.

Only a member's own attempts and their branch's attempts reach the signals, so branches
are independent: the honest branches are split between worker processes (one per core),
each with a copy of the test database in which it imports the bank, makes the quizzes
(the same in every copy) and its branches, and simulates them. The bot control runs the
same way, once with the thresholds in force and once with each candidate set. A worker
returns plain data; the test database itself is left as it was.
"""

from __future__ import annotations

import datetime
import multiprocessing
import os
import random
import sqlite3
import time
import traceback
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from statistics import fmean
from typing import Any

import time_machine
from django.core.cache import cache
from django.db import connections
from django.test.utils import override_settings

from learning.models import IntegrityFlag
from tests.benchmarks import integrity_bots
from tests.benchmarks.integrity_engine import Engine, Person, schedule_honest
from tests.benchmarks.integrity_people import Mind, member_rng, plan_member, traits_draw
from tests.benchmarks.integrity_world import (
    SEED,
    START_DAY,
    World,
    bank_import,
    branch_sizes,
    local,
    meeting_times,
    members_create,
    organisation_create,
    question_models,
    quizzes_create,
)

# Members of the bot world are numbered apart from the honest ones (their own draws).
COLLEAGUE_BASE = 90_000
BOT_BASE = 95_000


@dataclass(frozen=True)
class Task:
    """One worker's share: branches of honest members, or the bot world."""

    name: str
    # (branch code, first member index, members)
    branches: tuple[tuple[str, int, int], ...] = ()
    bots: bool = False
    overrides: dict[str, Any] = field(default_factory=dict)
    shadows: dict[str, dict[str, Any]] = field(default_factory=dict)


def honest_branches(members: int) -> list[tuple[str, int, int]]:
    """The honest organisation: branch codes, first member index, size."""
    rng = random.Random(f"{SEED}:branches")
    plan, first = [], 0
    for number, size in enumerate(branch_sizes(members, rng), start=1):
        plan.append((f"B{number:02d}", first, size))
        first += size
    return plan


def split(plan: list[tuple[str, int, int]], parts: int) -> list[tuple[tuple[str, int, int], ...]]:
    """Branches dealt into ``parts`` shares of about the same number of members."""
    shares: list[list[tuple[str, int, int]]] = [[] for _ in range(parts)]
    for branch in sorted(plan, key=lambda branch: -branch[2]):
        min(shares, key=lambda share: sum(size for _c, _f, size in share)).append(branch)
    return [tuple(sorted(share)) for share in shares if share]


def run_tasks(tasks: list[Task], directory: Path, workers: int) -> dict[str, dict[str, Any]]:
    """Run every task in a forked worker on its own copy of the test database."""
    connection = connections["default"]
    assert connection.vendor == "sqlite", "the simulation copies a SQLite test database"
    source = connection.settings_dict["NAME"]
    connections.close_all()
    paths = {}
    for number, task in enumerate(tasks, start=1):
        paths[task.name] = str(directory / f"task-{number}.sqlite3")
        with sqlite3.connect(source) as original, sqlite3.connect(paths[task.name]) as copy:
            original.backup(copy)
    context = multiprocessing.get_context("fork")
    with context.Pool(processes=workers, maxtasksperchild=1) as pool:
        outcomes = pool.map(_work, [(task, paths[task.name]) for task in tasks], chunksize=1)
    results = {}
    for task, outcome in zip(tasks, outcomes, strict=True):
        assert "error" not in outcome, f"{task.name} failed:\n{outcome['error']}"
        results[task.name] = outcome
    return results


def _work(job: tuple[Task, str]) -> dict[str, Any]:
    task, database = job
    try:
        return _simulate(task, database)
    except BaseException:  # the traceback crosses the process boundary as text
        return {"error": traceback.format_exc()}


def _simulate(task: Task, database: str) -> dict[str, Any]:
    wall, cpu = time.perf_counter(), time.process_time()
    connection = connections["default"]
    connection.close()
    connection.settings_dict["NAME"] = database
    cache.clear()
    eve = local(START_DAY, 0) - datetime.timedelta(hours=12)
    with override_settings(**task.overrides), time_machine.travel(eve, tick=False) as clock:
        engine, people = _world(task, clock)
        built = time.perf_counter() - wall
        engine.run()
        live = engine.live_flags()
        evidence = list(
            IntegrityFlag.objects.filter(member_id__in=list(engine.by_member)).values_list(
                "member_id", "kind", "subject_key", "evidence"
            )
        )
    return {
        "name": task.name,
        "pid": os.getpid(),
        "people": _people_results(engine, people, live),
        "attempts": [
            (
                record.person,
                record.quiz,
                record.number,
                record.answered,
                record.right,
                record.seconds,
            )
            for record in engine.records.values()
        ],
        "live": sorted(_with_quiz(engine, live)),
        "shadow": {
            name: sorted(_with_quiz(engine, set(flags)))
            for name, flags in engine.shadow_flags.items()
        },
        "shadow_evidence": {
            name: [(*key, evidence) for key, evidence in flags.items()]
            for name, flags in engine.shadow_flags.items()
        },
        "evidence": [
            (engine.by_member[member].index, kind, key, data)
            for member, kind, key, data in evidence
        ],
        "refused": dict(engine.refused),
        "calls": dict(engine.calls),
        "build_seconds": built,
        "wall_seconds": time.perf_counter() - wall,
        "cpu_seconds": time.process_time() - cpu,
    }


def _with_quiz(engine: Engine, flags: set[tuple[int, str, int]]) -> list[tuple[int, str, int, str]]:
    return [(person, kind, pk, engine.records[pk].quiz) for person, kind, pk in flags]


def _world(task: Task, clock: Any) -> tuple[Engine, list[Person]]:
    root = bank_import()
    models = question_models(root)
    branches = list(task.branches)
    if task.bots:
        branches = [(integrity_bots.BOT_BRANCH, COLLEAGUE_BASE, integrity_bots.COLLEAGUES)]
    committee, organisations = organisation_create(
        [(code, size) for code, _first, size in branches], tag="BOT" if task.bots else ""
    )
    people = [(first + n, code) for code, first, size in branches for n in range(size)]
    bots = []
    if task.bots:
        bots = [
            (BOT_BASE + number, kind)
            for number, kind in enumerate(
                kind for kind in integrity_bots.KINDS for _ in range(integrity_bots.BOTS_PER_KIND)
            )
        ]
        people += [(index, integrity_bots.BOT_BRANCH) for index, _kind in bots]
    members = members_create(people, organisations)
    daily, weekly, topics, challenge = quizzes_create(committee, root, models)
    meetings = meeting_times(
        [code for code, _f, _s in branches], lambda purpose: random.Random(f"{SEED}:{purpose}")
    )
    world = World(
        root, committee, organisations, members, models, daily, weekly, topics, challenge, meetings
    )
    engine = Engine(clock, world, task.shadows)
    honest = []
    for code, first, size in branches:
        for index in range(first, first + size):
            traits = traits_draw(member_rng(index, "traits"))
            person = Person(index, members[index], code, Mind(traits, member_rng(index, "mind")))
            if task.bots:
                person.kind = "colleague"
                person.sittings = integrity_bots.colleague_sittings(world, index - first)
            else:
                person.sittings = plan_member(traits, member_rng(index, "plan"), code, meetings)
            honest.append(person)
    schedule_honest(engine, iter(honest))
    scripted = []
    for index, kind in bots:
        traits = integrity_bots.ORDINARY
        if kind == "proxy":
            traits = integrity_bots.weak(traits)
        scripted.append(
            Person(
                index,
                members[index],
                integrity_bots.BOT_BRANCH,
                Mind(traits, member_rng(index, "mind")),
                kind=kind,
            )
        )
    integrity_bots.schedule_bots(engine, scripted)
    return engine, honest + scripted


def _people_results(
    engine: Engine, people: list[Person], live: set[tuple[int, str, int]]
) -> list[dict[str, Any]]:
    flags: dict[int, Counter[str]] = {person.index: Counter() for person in people}
    for index, kind, _pk in live:
        flags[index][kind] += 1
    attempts: Counter[int] = Counter()
    answers: Counter[int] = Counter()
    for record in engine.records.values():
        attempts[record.person] += 1
        answers[record.person] += record.answered
    results = []
    for person in people:
        traits, sight = person.mind.traits, person.mind.first_sight
        results.append(
            {
                "index": person.index,
                "kind": person.kind,
                "branch": person.branch,
                "skill": traits.skill,
                "speed": traits.speed,
                "think": traits.think,
                "first_sight_accuracy": fmean(sight) if sight else None,
                "attempts": attempts[person.index],
                "answers": answers[person.index],
                "flags": dict(flags[person.index]),
            }
        )
    return results
