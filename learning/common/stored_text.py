"""Find and repair stored text that is not valid (``learning.common.text``): the service behind
``python manage.py clean_stored_text``.

Input has been checked since this check existed; values stored before (a lone surrogate
inside an answer's JSON on SQLite, a control character in a name) are repaired in place:
a lone surrogate becomes U+FFFD, NUL and other control characters are dropped. Running
it again finds nothing, so it is safe to repeat.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import models, transaction
from django.db.models.functions import Cast

from learning.common.text import json_cleaned, text_cleaned
from learning.models import Assignment, Member, Membership, Organization

# (model, text fields) that members, secretaries and administrators type into forms and
# that exports and pages show. The points ledger's notes are append-only and not here.
LEARNING_TEXT_FIELDS: list[tuple[type[models.Model], tuple[str, ...]]] = [
    (Member, ("display_name",)),
    (Organization, ("name",)),
    (Membership, ("note",)),
    (Assignment, ("title", "note")),
]


@dataclass(frozen=True)
class RepairedValue:
    """One stored value that was (or, in a dry run, would be) repaired."""

    model: str
    pk: Any
    field: str


def stored_text_clean(
    *,
    fields: Sequence[tuple[type[models.Model], Sequence[str]]],
    dry_run: bool = False,
) -> list[RepairedValue]:
    """Repair every invalid value of ``fields`` (text or JSON fields); what was repaired.

    Reads the stored text itself (a JSON field as its JSON text), so a field that repairs
    values as it loads them (``quizzes.models.MemberJSONField``) cannot hide them.
    """
    repaired: list[RepairedValue] = []
    with transaction.atomic():
        for model, names in fields:
            for name in names:
                repaired += _field_clean(model, name, dry_run=dry_run)
    return repaired


def _field_clean(model: type[models.Model], name: str, *, dry_run: bool) -> list[RepairedValue]:
    field = model._meta.get_field(name)
    is_json = isinstance(field, models.JSONField)
    rows = model._default_manager.exclude(**{f"{name}__isnull": True})
    if is_json:
        rows = rows.annotate(_stored=Cast(name, output_field=models.TextField()))
    else:
        rows = rows.annotate(_stored=models.F(name))
    repaired = []
    for pk, stored in rows.values_list("pk", "_stored").iterator(chunk_size=2000):
        value = json.loads(stored) if is_json else stored
        cleaned = json_cleaned(value) if is_json else text_cleaned(stored)
        if cleaned == value:
            continue
        repaired.append(RepairedValue(model=model._meta.label, pk=pk, field=name))
        if not dry_run:
            model._default_manager.filter(pk=pk).update(**{name: cleaned})
    return repaired
