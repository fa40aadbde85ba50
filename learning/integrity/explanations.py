"""A flag's evidence in words: neutral sentences for the reviewer, numbers a person can read.

The evidence is stored as numbers; the sentence is made when it is shown, in the
reader's language. Never an accusation: a flag asks a person to look.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from learning.models import IntegrityFlag

Kind = IntegrityFlag.Kind


# Each kind's sentence, and which evidence key fills each of its placeholders (the
# placeholders of "other" take text, every other one a whole number).
_SENTENCES: dict[str, tuple[Any, dict[str, str]]] = {
    Kind.TOO_FAST: (
        gettext_lazy(
            "%(answered)d questions answered in %(seconds)d s; reading them takes at least "
            "%(plausible)d s."
        ),
        {"answered": "answered", "seconds": "seconds", "plausible": "plausible_seconds"},
    ),
    Kind.ACCURACY_JUMP: (
        gettext_lazy(
            "%(accuracy)d%% right, against %(usual)d%% in the member's %(before)d earlier attempts."
        ),
        {"accuracy": "accuracy", "usual": "usual_accuracy", "before": "attempts_before"},
    ),
    Kind.SHARED_ANSWERS: (
        gettext_lazy(
            "The same %(questions)d answers, in the same order, as %(other)s of the same "
            "branch, saved within %(seconds)d s of each other."
        ),
        {"questions": "questions", "other": "other", "seconds": "seconds_apart"},
    ),
    Kind.PARALLEL_ATTEMPTS: (
        gettext_lazy("%(attempts)d attempts were in progress at the same time."),
        {"attempts": "attempts"},
    ),
    Kind.REGULAR_BEATS: (
        gettext_lazy(
            "%(minutes)d minutes of study without a pause, the heartbeats within %(spread)d ms "
            "of a fixed interval."
        ),
        {"minutes": "run_minutes", "spread": "spread_ms"},
    ),
    Kind.NIGHT_STUDY: (
        gettext_lazy("Study between midnight and 5 a.m. on %(nights)d of the last %(days)d days."),
        {"nights": "nights", "days": "days"},
    ),
}


def _value(evidence: dict[str, Any], placeholder: str, key: str) -> int | str:
    value = evidence.get(key)
    if placeholder == "other":
        return str(value or "?")
    return int(value) if isinstance(value, int | float) else 0


def flag_explanation(flag: IntegrityFlag) -> str:
    """One sentence saying what was seen, from ``flag.evidence``."""
    evidence = flag.evidence if isinstance(flag.evidence, dict) else {}
    if flag.kind not in _SENTENCES:
        return str(flag.get_kind_display())
    sentence, keys = _SENTENCES[flag.kind]
    return str(sentence) % {
        placeholder: _value(evidence, placeholder, key) for placeholder, key in keys.items()
    }


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
