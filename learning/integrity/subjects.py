"""What a flag is about, and what deciding it does to that thing.

``learning`` knows attempts only by key: the app that owns a kind of subject registers it
here (``quizzes`` registers attempts from its ``AppConfig.ready``), with what dismissing
a flag (the held points are awarded) and confirming it (held points are discarded,
awarded ones reversed) do. Both run inside the decision's transaction, after the flag's
new status is saved.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from learning.models import IntegrityFlag, Member

Decision = Callable[[IntegrityFlag, Member], None]


@dataclass(frozen=True)
class SubjectType:
    """One kind of subject, by the prefix of its keys (``"quizzes.attempt"``)."""

    prefix: str
    dismissed: Decision
    confirmed: Decision
    # The pages where a reviewer sees the subjects themselves, by flag id, for a page of
    # flags at once (one query, not one a row).
    urls: Callable[[Sequence[IntegrityFlag]], dict[int, str]] = lambda flags: {}
    # The member's normal pattern beside the evidence: (label, value) rows.
    context: Callable[[IntegrityFlag], list[tuple[str, str]]] = lambda flag: []


_TYPES: dict[str, SubjectType] = {}


def subject_type_register(subject_type: SubjectType) -> None:
    _TYPES[subject_type.prefix] = subject_type


def subject_key(prefix: str, identifier: object) -> str:
    return f"{prefix}:{identifier}"


def subject_type_of(flag: IntegrityFlag) -> SubjectType | None:
    prefix, _sep, _rest = flag.subject_key.partition(":")
    return _TYPES.get(prefix)


def subject_id(flag: IntegrityFlag) -> str:
    return flag.subject_key.partition(":")[2]
