"""A flag's evidence in words: neutral sentences for the reviewer, numbers a person can read.

The evidence is stored as numbers; the sentence is made when it is shown, in the
reader's language. Never an accusation: a flag asks a person to look.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from learning.models import IntegrityFlag

Kind = IntegrityFlag.Kind


def _number(evidence: dict[str, Any], key: str) -> int:
    value = evidence.get(key)
    return int(value) if isinstance(value, int | float) else 0


def flag_explanation(flag: IntegrityFlag) -> str:
    """One sentence saying what was seen, from ``flag.evidence``."""
    evidence = flag.evidence if isinstance(flag.evidence, dict) else {}
    number = lambda key: _number(evidence, key)  # noqa: E731
    if flag.kind == Kind.TOO_FAST:
        return _(
            "%(answered)d questions answered in %(seconds)d s; reading them takes at least "
            "%(plausible)d s."
        ) % {
            "answered": number("answered"),
            "seconds": number("seconds"),
            "plausible": number("plausible_seconds"),
        }
    if flag.kind == Kind.ACCURACY_JUMP:
        return _(
            "%(accuracy)d%% right, against %(usual)d%% in the member's %(before)d earlier attempts."
        ) % {
            "accuracy": number("accuracy"),
            "usual": number("usual_accuracy"),
            "before": number("attempts_before"),
        }
    if flag.kind == Kind.SHARED_ANSWERS:
        return _(
            "The same %(questions)d answers, in the same order, as %(other)s of the same "
            "branch, saved within %(seconds)d s of each other."
        ) % {
            "questions": number("questions"),
            "other": str(evidence.get("other") or "?"),
            "seconds": number("seconds_apart"),
        }
    if flag.kind == Kind.PARALLEL_ATTEMPTS:
        return _("%(attempts)d attempts were in progress at the same time.") % {
            "attempts": number("attempts")
        }
    if flag.kind == Kind.REGULAR_BEATS:
        return _(
            "%(minutes)d minutes of study without a pause, the heartbeats within %(spread)d ms "
            "of a fixed interval."
        ) % {"minutes": number("run_minutes"), "spread": number("spread_ms")}
    if flag.kind == Kind.NIGHT_STUDY:
        return _("Study between midnight and 5 a.m. on %(nights)d of the last %(days)d days.") % {
            "nights": number("nights"),
            "days": number("days"),
        }
    return str(flag.get_kind_display())


def _evidence_labels() -> dict[str, str]:
    return {
        "answered": _("Questions answered"),
        "seconds": _("Seconds from start to submit"),
        "plausible_seconds": _("Seconds reading them takes at least"),
        "attempts": _("Attempts at the same time"),
        "within_seconds": _("Started within (seconds)"),
        "accuracy": _("Right in this attempt (%)"),
        "usual_accuracy": _("Right usually, last 90 days (%)"),
        "attempts_before": _("Earlier attempts on these categories"),
        "answers_before": _("Earlier answers on these categories"),
        "questions": _("Answers alike"),
        "wrong": _("Wrong answers alike"),
        "other": _("The other member"),
        "seconds_apart": _("Submitted apart (seconds)"),
        "run_minutes": _("Minutes without a pause"),
        "spread_ms": _("Spread of the intervals (ms)"),
        "nights": _("Nights with study"),
        "days": _("Days looked at"),
    }


def flag_evidence_rows(flag: IntegrityFlag) -> list[tuple[str, str]]:
    """The evidence as (label, value) rows, in a fixed order, for the reviewer."""
    evidence = flag.evidence if isinstance(flag.evidence, dict) else {}
    labels = _evidence_labels()
    return [(label, str(evidence[key])) for key, label in labels.items() if key in evidence]
