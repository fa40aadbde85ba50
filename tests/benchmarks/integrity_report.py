"""What the integrity simulation measured, summed up and written as its report section.

``summarise`` turns the workers' plain results into the numbers the tests check and the
report shows; ``render`` writes the ``## Integrity signals: false positives`` section of
``docs/benchmarks.md`` from them (every number in it comes from the run that wrote it).
"""

from __future__ import annotations

import datetime
import math
from collections import Counter
from statistics import fmean, median
from typing import Any

from tests.benchmarks.integrity_bots import BOTS_PER_KIND, COLLEAGUES, FAST_SECONDS, KINDS
from tests.benchmarks.integrity_people import distributions
from tests.benchmarks.integrity_world import DAYS, START_DAY, day_of
from tests.benchmarks.search_bench import Table

SIGNALS = ("too_fast", "parallel_attempts", "accuracy_jump", "shared_answers")
SIGNAL_NAMES = {
    "too_fast": "too fast",
    "parallel_attempts": "several at once",
    "accuracy_jump": "accuracy jump",
    "shared_answers": "same answers",
}
QUIZ_KINDS = ("daily", "weekly", "topic", "challenge")
BOT_WORDS = {
    "fast": f"every answer {FAST_SECONDS:g} s after the last, all right",
    "copy": "a colleague's answers (≥ 2 wrong) in the same fixed-order topic quiz",
    "parallel": "daily, weekly and topic quiz opened within a second, twice",
    "proxy": "weak record (skill 0.15), then someone answers all right for them",
}
# Flags are (person index, signal kind, attempt pk, quiz kind).
Flag = tuple[int, str, int, str]


def wilson(hits: int, total: int, z: float = 1.96) -> tuple[float, float]:
    """The Wilson score interval of ``hits`` in ``total`` (95 % by default)."""
    if not total:
        return 0.0, 1.0
    share = hits / total
    centre = (share + z * z / (2 * total)) / (1 + z * z / total)
    half = z * math.sqrt(share * (1 - share) / total + z * z / (4 * total * total))
    return max(0.0, centre - half / (1 + z * z / total)), min(
        1.0, centre + half / (1 + z * z / total)
    )


def outcome(people: list[dict[str, Any]], flags: list[Flag], attempts: int = 0) -> dict[str, Any]:
    """Members flagged (any signal and each), with the interval, and flagged attempts."""
    indexes = {person["index"] for person in people}
    mine = [flag for flag in flags if flag[0] in indexes]
    members = {signal: {f[0] for f in mine if f[1] == signal} for signal in SIGNALS}
    flagged = {f[0] for f in mine}
    low, high = wilson(len(flagged), len(people))
    return {
        "members": len(people),
        "flagged": len(flagged),
        "rate": len(flagged) / max(1, len(people)),
        "low": low,
        "high": high,
        "by_signal": {signal: len(found) for signal, found in members.items()},
        "attempts": Counter(f"{f[1]}:{f[3]}" for f in mine),
        "flagged_attempts": len({f[2] for f in mine}),
        "all_attempts": attempts,
    }


def _quantile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))]


def _bots(result: dict[str, Any]) -> dict[str, Any]:
    flags = result["live"]
    attempts = Counter(record[0] for record in result["attempts"])
    by_kind: dict[str, dict[str, Any]] = {}
    for kind in (*KINDS, "colleague"):
        people = {p["index"] for p in result["people"] if p["kind"] == kind}
        mine = [flag for flag in flags if flag[0] in people]
        by_kind[kind] = {
            "members": len(people),
            "flagged": len({f[0] for f in mine}),
            "attempts": sum(attempts[index] for index in people),
            "flagged_attempts": len({f[2] for f in mine}),
            "signals": sorted({f[1] for f in mine}),
        }
    return by_kind


def summarise(results: dict[str, dict[str, Any]], shadow_names: list[str]) -> dict[str, Any]:
    honest = [result for name, result in results.items() if name.startswith("honest")]
    people = [p for result in honest for p in result["people"]]
    attempts = [record for result in honest for record in result["attempts"]]
    live = [tuple(flag) for result in honest for flag in result["live"]]
    sets = {"in force": outcome(people, live, len(attempts))}
    for name in shadow_names:
        flags = [tuple(flag) for result in honest for flag in result["shadow"][name]]
        sets[name] = outcome(people, flags, len(attempts))
    probe = [
        entry[3]
        for result in honest
        for entry in result["shadow_evidence"].get("probe", [])
        if entry[1] == "accuracy_jump"
    ]
    probed_people = {
        entry[0]
        for result in honest
        for entry in result["shadow_evidence"].get("probe", [])
        if entry[1] == "accuracy_jump"
    }
    per_question = [record[5] / record[3] for record in attempts if record[3]]
    accuracy = [p["first_sight_accuracy"] for p in people if p["first_sight_accuracy"] is not None]
    counts = [p["attempts"] for p in people]
    usual = [e["usual_accuracy"] for e in probe]
    bots = {name: _bots(result) for name, result in results.items() if name.startswith("bots")}
    checks = {}
    if "bots" in results:
        for name in shadow_names:
            real = results.get(f"bots-{name}")
            if real is not None:
                checks[name] = sorted(map(tuple, results["bots"]["shadow"][name])) == sorted(
                    map(tuple, real["live"])
                )
    refused: Counter[str] = Counter()
    for result in honest:
        refused.update(result["refused"])
    examples: dict[str, dict[str, Any]] = {}
    for _index, kind, _key, evidence in sorted(
        (entry for result in honest for entry in result["evidence"]), key=lambda e: e[2]
    ):
        examples.setdefault(kind, evidence)
    return {
        "members": len(people),
        "branches": len({p["branch"] for p in people}),
        "branch_sizes": sorted(Counter(p["branch"] for p in people).values()),
        "sets": sets,
        "attempts": Counter(record[1] for record in attempts),
        "answers": sum(record[3] for record in attempts),
        "retakes": sum(1 for record in attempts if record[1] == "topic" and record[2] > 1),
        "attempts_per_member": {
            "mean": fmean(counts),
            "median": median(counts),
            "p90": _quantile(counts, 0.9),
            "max": max(counts),
            "none": sum(1 for count in counts if not count),
        },
        "accuracy": {
            "mean": fmean(accuracy),
            "p5": _quantile(accuracy, 0.05),
            "p95": _quantile(accuracy, 0.95),
        },
        "speed": {
            share: _quantile([p["speed"] for p in people], share) for share in (0.05, 0.5, 0.95)
        },
        "seconds_per_question": {
            share: _quantile(per_question, share) for share in (0.01, 0.05, 0.5)
        },
        "probe": {
            "attempts": len(probe),
            "members": len(probed_people),
            "usual_min": min(usual) if usual else None,
            "usual_p5": _quantile(usual, 0.05) if usual else None,
            "usual_median": round(median(usual)) if usual else None,
            "usual_at_most_50": sum(1 for value in usual if value <= 50),
        },
        "refused": dict(refused),
        "examples": examples,
        "bots": bots,
        "shadow_checks": checks,
        "workers": {
            name: {key: result[key] for key in ("wall_seconds", "cpu_seconds", "build_seconds")}
            for name, result in results.items()
        },
    }


# --- The report ---------------------------------------------------------------------------


def _percent(share: float) -> str:
    return f"{100 * share:.1f} %"


def _settings_text(overrides: dict[str, Any]) -> str:
    def shown(value: Any) -> str:
        if isinstance(value, datetime.timedelta):
            return f"{value.total_seconds():g} s"
        return f"{value:g}" if isinstance(value, float) else str(value)

    return ", ".join(
        f"`{key.removeprefix('DANGJIAN_')}` = {shown(v)}" for key, v in overrides.items()
    )


def render(summary: dict[str, Any], context: dict[str, Any]) -> str:
    info = context["machine"]
    dirty = " plus uncommitted changes in the working tree" if info["dirty"] else ""
    sets = summary["sets"]
    current = sets["in force"]
    sizes = summary["branch_sizes"]
    per_member = summary["attempts_per_member"]
    spq = summary["seconds_per_question"]
    workers = summary["workers"]
    cpu = sum(worker["cpu_seconds"] for worker in workers.values())
    load = ", ".join(f"{value:.2f}" for value in context["load_before"])
    text = f"""
## Integrity signals: false positives

Generated by `make bench` (`tests/benchmarks/test_integrity_simulation.py`); this block is
rewritten on every run. Measured on {info["date"]} (`date`), code at commit
`{info["commit"]}`{dirty}; {info["cpu"]}, {info["cpus"]} CPUs, Python {info["python"]}, SQLite
{info["sqlite"]}. The simulation took {context["wall_seconds"]:.0f} s wall
({context["workers"]} worker processes, {cpu:.0f} s CPU in all; the machine was
{context["busy_percent"]:.0f} % busy meanwhile, load average before: {load}), not counting the
creation of the test database.

**Target (issue 14): at most 1 % of honest members flagged**, while scripted members are
all flagged. With the thresholds in force, **{current["flagged"]} of {current["members"]:,}
honest members ({_percent(current["rate"])}, 95 % Wilson interval
{_percent(current["low"])}–{_percent(current["high"])}) were flagged at least once** in
{DAYS} days.

### What was simulated

{summary["members"]:,} honest members in {summary["branches"]} branches of {sizes[0]}–{sizes[-1]}
members (under 4 general branches of one committee) take quizzes from {START_DAY.isoformat()}
to {day_of(DAYS - 1).isoformat()} through the services a member's requests call
(`attempt_start`, `attempt_answer_save` or, where the quiz shows each answer,
`attempt_answer_check`, then `attempt_submit`, which computes the signals), with the clock
moved to each moment (`time_machine` and `at=`; nothing waits). The bank is the demo's
(300 questions in 8 categories, 276 scored by the quiz; stems and options of 10–105
characters). Quizzes: a daily quiz every day (5 questions, each answer shown at once), a
weekly quiz every week (8 drawn questions), three topic quizzes of 10 questions (two with
the same questions in the same order for everyone, one drawn and shuffled; two attempts
allowed at two of them; branches take the fixed ones together at a meeting), and a
challenge (one question at a time, ended by the first wrong answer). Members answer
independently, each from their own random draws; a check refused as too soon is sent again
as the page does ({summary["refused"].get("too_soon", 0)} times; throttled:
{summary["refused"].get("throttled", 0)}).

"""
    table = Table(["Drawn", "Distribution"], [[name, words] for name, words in distributions()])
    text += str(table) + "\n\n"
    attempts = summary["attempts"]
    text += (
        "Realised: "
        f"{sum(attempts.values()):,} attempts ({_by_quiz(attempts)};"
        f" {summary['retakes']} topic retakes), {summary['answers']:,} answers; attempts per member"
        f" mean {per_member['mean']:.1f}, median {per_member['median']:g}, 90th percentile"
        f" {per_member['p90']}, at most {per_member['max']} ({per_member['none']} members none);"
        f" accuracy on a question's first sight mean {summary['accuracy']['mean']:.2f}, 5–95 %"
        f" of members {summary['accuracy']['p5']:.2f}–{summary['accuracy']['p95']:.2f}; reading"
        f" speed 5/50/95 % {summary['speed'][0.05]:.1f}/{summary['speed'][0.5]:.1f}/"
        f"{summary['speed'][0.95]:.1f} characters/s; seconds per answered question in an attempt"
        f" (start to submit) median {spq[0.5]:.1f}, 5 % {spq[0.05]:.1f}, 1 % {spq[0.01]:.1f}.\n\n"
    )
    if context.get("sweep"):
        text += (
            "This run includes the sweep (`DANGJIAN_BENCH_INTEGRITY_SWEEP=1`): the proposed set"
            " with one value moved at a time; `make bench` alone runs the proposed set only.\n\n"
        )
    text += _sets_table(summary, context) + "\n\n" + _quiz_table(current) + "\n\n"
    text += _probe_text(summary["probe"]) + "\n\n" + _bots_table(summary, context) + "\n\n"
    text += _findings(summary, context)
    return text


def _by_quiz(attempts: Counter[str]) -> str:
    return ", ".join(f"{attempts[kind]:,} {kind}" for kind in QUIZ_KINDS)


def _sets_table(summary: dict[str, Any], context: dict[str, Any]) -> str:
    table = Table(
        [
            "Thresholds",
            "honest members flagged (95 % interval)",
            *[SIGNAL_NAMES[s] for s in SIGNALS],
            "honest attempts flagged",
            "bots flagged",
        ]
    )
    for name, result in summary["sets"].items():
        if name == "probe":
            continue
        bots = summary["bots"].get("bots" if name == "in force" else f"bots-{name}")
        caught = "–"
        if bots is not None:
            caught = ", ".join(
                f"{kind} {bots[kind]['flagged']}/{bots[kind]['members']}" for kind in KINDS
            )
        label = "in force (`config/settings/base.py`)" if name == "in force" else f"{name}: "
        if name != "in force":
            label += _settings_text(context["sets"][name])
        table.rows.append(
            [
                label,
                f"**{result['flagged']}** ({_percent(result['rate'])};"
                f" {_percent(result['low'])}–{_percent(result['high'])})",
                *[str(result["by_signal"][signal]) for signal in SIGNALS],
                f"{result['flagged_attempts']} of {result['all_attempts']:,}",
                caught,
            ]
        )
    return (
        "Members flagged at least once, by any signal and by each (a member may meet"
        " several). Other thresholds are computed on the same run: after each submit the"
        " signals are computed again with them (`attempt_signals` under"
        " `override_settings`, the same moment, the same data); flags change nothing later"
        " signals read, so this is what a run with them raises — the bot control checks it by"
        " running again with them"
        f" ({_checks(summary['shadow_checks'])}).\n\n" + str(table)
    )


def _checks(checks: dict[str, bool]) -> str:
    if not checks:
        return "not checked in this run"
    return "; ".join(
        f"{name}: {'the same flags' if same else '**different flags**'}"
        for name, same in checks.items()
    )


def _quiz_table(current: dict[str, Any]) -> str:
    table = Table(["Signal (thresholds in force)", *QUIZ_KINDS])
    for signal in SIGNALS:
        table.rows.append(
            [
                SIGNAL_NAMES[signal],
                *[str(current["attempts"][f"{signal}:{kind}"]) for kind in QUIZ_KINDS],
            ]
        )
    return "Honest attempts flagged, by signal and quiz:\n\n" + str(table)


def _probe_text(probe: dict[str, Any]) -> str:
    if not probe["attempts"]:
        return "The accuracy signal was never reached (no attempt had enough history)."
    return (
        f"The accuracy signal was reached on {probe['attempts']:,} attempts of"
        f" {probe['members']:,} members (at least 8 scored questions and at least 30 answers on"
        " the same categories before; found with a probe threshold set that flags every such"
        " attempt). Their members' usual accuracy: lowest"
        f" {probe['usual_min']} %, 5th percentile {probe['usual_p5']} %, median"
        f" {probe['usual_median']} %; {probe['usual_at_most_50']} of them at most 50 %, the"
        " signal's line."
    )


def _bots_table(summary: dict[str, Any], context: dict[str, Any]) -> str:
    runs = [name for name in summary["bots"]]
    table = Table(
        ["Bot (5 of each)", "script", *[f"{run}: flagged, attempts flagged" for run in runs]]
    )
    for kind in (*KINDS, "colleague"):
        cells = []
        for run in runs:
            data = summary["bots"][run][kind]
            signals = ", ".join(SIGNAL_NAMES[s] for s in data["signals"]) or "none"
            cells.append(
                f"{data['flagged']}/{data['members']},"
                f" {data['flagged_attempts']}/{data['attempts']} ({signals})"
            )
        words = BOT_WORDS.get(kind, "honest colleagues of the copiers, at their branch meeting")
        table.rows.append([kind, words, *cells])
    return (
        f"The control: {BOTS_PER_KIND * len(KINDS)} scripted members and {COLLEAGUES} honest"
        " colleagues in a branch of their own, through the same services on the same clock"
        " (`bots`: thresholds in force; `bots-…`: the whole control run again with that set).\n\n"
        + str(table)
    )


def _findings(summary: dict[str, Any], context: dict[str, Any]) -> str:
    current = summary["sets"]["in force"]
    proposed = summary["sets"].get("proposed")
    in_force = context["in_force"]
    lines = ["### What the numbers say", ""]
    parallel = {kind: current["attempts"][f"parallel_attempts:{kind}"] for kind in QUIZ_KINDS}
    if sum(parallel.values()):
        lines.append(
            "- **Several attempts at once** flagged"
            f" {_members(current['by_signal']['parallel_attempts'])}; {parallel['challenge']} of"
            f" the {sum(parallel.values())} flagged"
            " attempts are challenge games. A lost game is played again a few seconds later,"
            f" so {in_force['DANGJIAN_PARALLEL_ATTEMPTS']} games started within"
            f" {in_force['DANGJIAN_PARALLEL_WINDOW'].total_seconds():g} s count as attempts at"
            " once although each was over before the next began: `_parallel` counts attempts"
            " *started* near each other, not attempts *in progress* together. Counting only"
            " attempts still open when this one started (or leaving challenge games out) is a"
            " change to `quizzes/taking/integrity.py`, not made here; a shorter window is the"
            " settings-only remedy."
        )
    shared = sum(current["attempts"][f"shared_answers:{kind}"] for kind in QUIZ_KINDS)
    if shared:
        topic = current["attempts"]["shared_answers:topic"]
        where = "all in topic quizzes" if topic == shared else f"{topic} in topic quizzes"
        lines.append(
            f"- **The same answers** flagged {_members(current['by_signal']['shared_answers'])}"
            f" ({shared} attempts, {where}; two of them ask everyone the same questions in the"
            " same order and branches take them together, where drawn and shuffled quizzes"
            " give each member another sequence): a question's wrong answers gather on its"
            " most attractive option, so two members who miss the same two questions the same"
            " way meet the threshold by chance. The copied colleagues of the control are"
            " flagged with their copiers, as the signal intends (it cannot tell who copied"
            " whom)."
        )
    probe = summary["probe"]
    if probe["attempts"]:
        lines.append(
            "- **Accuracy far above the record** flagged"
            f" {_members(current['by_signal']['accuracy_jump'])}: the signal needs a"
            " usual accuracy of at most"
            f" {in_force['DANGJIAN_ACCURACY_USUAL_PERCENT']} %, and only"
            f" {probe['usual_at_most_50']} of the {probe['attempts']:,} attempts it reached"
            f" had a record that low (an honest member's guesses alone keep most records"
            " above it); the proxies, whose records are that low, are all caught."
        )
    fast = summary["bots"].get("bots", {}).get("fast")
    if fast:
        pace = in_force["DANGJIAN_PLAUSIBLE_CHARS_PER_SECOND"]
        text = (
            f"- **Too fast** flagged {_members(current['by_signal']['too_fast'])}"
            f"{_short_games(current)}."
            f" The {FAST_SECONDS:g} s-a-question bot is caught on {fast['flagged_attempts']}"
            f" of its {fast['attempts']} attempts: the demo bank's questions are short (median"
            f" 36 characters read), so at {pace} characters a second most of them are"
            f" plausible in less than {FAST_SECONDS:g} s."
        )
        proposed_bots = summary["bots"].get("bots-proposed", {}).get("fast")
        if proposed_bots:
            text += (
                f" With the proposed pace it is caught on {proposed_bots['flagged_attempts']}"
                f" of {proposed_bots['attempts']}: every bot at least once, not every attempt;"
                " a script a little slower than the plausible time always passes."
            )
        lines.append(text)
    if proposed:
        lines.append(
            f"- **The proposed set** flags {_members(proposed['flagged'])}"
            f" ({_percent(proposed['rate'])}, interval {_percent(proposed['low'])}–"
            f"{_percent(proposed['high'])}) and every bot. It moves only the signals that"
            " miss a target; `DANGJIAN_BENCH_INTEGRITY_SWEEP=1 make bench` adds the proposed"
            " set with one value moved at a time, to show which neighbours meet both targets"
            " too."
        )
    lines.append(
        "- Rates are per member over the simulated days and grow with a member's activity;"
        " the attempts flagged give the rate per attempt."
    )
    if summary["examples"]:
        lines.append(
            "- The evidence a reviewer sees, one honest flag of each kind: "
            + "; ".join(
                f"{SIGNAL_NAMES.get(kind, kind)} `{evidence}`"
                for kind, evidence in sorted(summary["examples"].items())
            )
            + "."
        )
    return "\n".join(lines) + "\n\n" + _workers(summary)


def _short_games(current: dict[str, Any]) -> str:
    games = current["attempts"]["too_fast:challenge"]
    if not games:
        return ""
    return (
        f" ({games} of the flagged attempts are challenge games, the shortest attempts: a game"
        " lost at its first question is one answer)"
    )


def _members(count: int) -> str:
    return f"{count} honest member{'' if count == 1 else 's'}"


def _workers(summary: dict[str, Any]) -> str:
    table = Table(["Worker", "set-up s", "wall s", "CPU s"])
    for name, worker in summary["workers"].items():
        table.rows.append(
            [
                name,
                f"{worker['build_seconds']:.1f}",
                f"{worker['wall_seconds']:.0f}",
                f"{worker['cpu_seconds']:.0f}",
            ]
        )
    return "Run time of each worker process (two at a time):\n\n" + str(table)
