"""Writes to the question bank: categories, imports, content changes."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from quizzes.bank.formats.base import (
    CHOICE_TYPES,
    FIELD_CATEGORY,
    FIELD_STEM,
    ImportProblem,
    ParsedQuestion,
    ParseResult,
    Unit,
    join_category_path,
    sort_problems,
    split_category_path,
)
from quizzes.bank.formats.checks import check_question
from quizzes.bank.normalise import canonical_blank_stem, question_fingerprint
from quizzes.models import Blank, Choice, Question, QuestionCategory, QuestionTag, TaggedQuestion
from quizzes.models.bank import CATEGORY_NAME_MAX_LENGTH

if TYPE_CHECKING:
    from learning.models import Member

BATCH_SIZE = 500


# --- categories -----------------------------------------------------------------------


def category_get_or_create_path(*, names: list[str]) -> tuple[QuestionCategory, list[str]]:
    """The category at ``names`` (from a root), creating each missing level.

    Returns the category and the paths of the categories created, top first.
    """
    if not names:
        raise ValueError("a category path needs at least one name")
    created: list[str] = []
    parent: QuestionCategory | None = None
    with transaction.atomic():
        for depth, name in enumerate(names, start=1):
            if parent is None:
                siblings = QuestionCategory.get_root_nodes()
            else:
                parent = QuestionCategory.objects.select_for_update().get(pk=parent.pk)
                siblings = parent.get_children()
            existing = siblings.filter(name=name).order_by("path").first()
            if existing is None:
                if parent is None:
                    existing = QuestionCategory.add_root(name=name)
                else:
                    existing = parent.add_child(name=name)
                created.append(join_category_path(names[:depth]))
            parent = existing
    assert parent is not None
    return parent, created


def _existing_categories(
    paths: Iterable[tuple[str, ...]],
) -> dict[tuple[str, ...], QuestionCategory]:
    """The categories that exist among ``paths`` and all their prefixes, level by level."""
    wanted: set[tuple[str, ...]] = set()
    for path in paths:
        wanted.update(path[:end] for end in range(1, len(path) + 1))
    found: dict[tuple[str, ...], QuestionCategory] = {}
    depth = 1
    while True:
        level = [path for path in wanted if len(path) == depth]
        if not level:
            break
        parents = {path[:-1] for path in level}
        for parent_path in parents:
            names = {path[-1] for path in level if path[:-1] == parent_path}
            if parent_path:
                parent = found.get(parent_path)
                if parent is None:
                    continue
                candidates = parent.get_children()
            else:
                candidates = QuestionCategory.get_root_nodes()
            # Should two siblings share a name, the first one (by path) wins.
            for category in candidates.filter(name__in=names).order_by("-path"):
                found[(*parent_path, category.name)] = category
        depth += 1
    return found


# --- import ---------------------------------------------------------------------------


@dataclass(frozen=True)
class SkippedDuplicate:
    """A question left out because it is already in the bank or earlier in the file."""

    row: int
    unit: Unit
    existing_id: int | None = None
    first_row: int | None = None

    def __str__(self) -> str:
        if self.existing_id is not None:
            reason = _("already in the bank (question %(id)d)") % {"id": self.existing_id}
        elif self.unit == "row":
            reason = _("repeats row %(row)d") % {"row": self.first_row}
        else:
            reason = _("repeats line %(line)d") % {"line": self.first_row}
        if self.unit == "row":
            return _("Row %(row)d skipped: %(reason)s.") % {"row": self.row, "reason": reason}
        return _("Line %(line)d skipped: %(reason)s.") % {"line": self.row, "reason": reason}


@dataclass
class ImportResult:
    """What an import did (or, in a dry run or with problems, would do)."""

    format: str
    unit: Unit
    dry_run: bool
    questions: list[ParsedQuestion] = field(default_factory=list)
    problems: list[ImportProblem] = field(default_factory=list)
    skipped: list[SkippedDuplicate] = field(default_factory=list)
    categories_created: list[str] = field(default_factory=list)
    created_ids: list[int] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def written(self) -> bool:
        return bool(self.created_ids)

    @property
    def counts(self) -> dict[str, int]:
        """How many questions of each type are (or would be) imported, in type order."""
        counter = Counter(question.type for question in self.questions)
        return {value: counter[value] for value in Question.Type.values if counter[value]}


def questions_import(
    parsed: ParseResult,
    *,
    category: QuestionCategory | str | None = None,
    skip_duplicates: bool = False,
    dry_run: bool = False,
    by: Member | None = None,
    on_progress: Callable[[int, int], None] | None = None,
) -> ImportResult:
    """Check every question of ``parsed`` against the rules and the bank, then write them
    all in one transaction — or nothing, when any problem was found or ``dry_run``.

    ``category`` is where the file's categories go: a question with 分类 ``A/B`` lands
    in ``category/A/B`` (created when missing), one without 分类 in ``category`` itself.
    Duplicates — the same stem and options as a question of the bank, or as an earlier
    question of the file — are problems, unless ``skip_duplicates`` leaves them out.
    ``on_progress(written, total)`` is called after each batch of questions is written
    (inside the transaction: report it somewhere other than this database).
    """
    unit = parsed.unit
    result = ImportResult(format=parsed.format, unit=unit, dry_run=dry_run)
    problems = list(parsed.problems)
    # The parsers apply the same rules; a field they could not read is reported once.
    reported = {(problem.row, problem.field) for problem in parsed.problems}
    for question in parsed.questions:
        problems.extend(
            problem
            for problem in check_question(question, unit)
            if (problem.row, problem.field) not in reported
        )

    base_names, base_problems = _base_category_names(category, unit)
    problems.extend(base_problems)
    full_paths: dict[int, tuple[str, ...]] = {}
    for index, question in enumerate(parsed.questions):
        path = (*base_names, *question.category_path)
        full_paths[index] = path
        if not path and not base_problems:
            problems.append(
                ImportProblem(
                    question.source,
                    FIELD_CATEGORY,
                    _(
                        "The question has no category: "
                        "fill in 分类 or choose a category for the import."
                    ),
                    unit,
                )
            )

    stored = [_parsed_bookkeeping(question) for question in parsed.questions]
    fingerprints = [fingerprint for _stem, fingerprint in stored]
    duplicates, skipped = _find_duplicates(parsed.questions, fingerprints, unit, skip_duplicates)
    problems.extend(duplicates)
    result.skipped = [item for _index, item in skipped]
    skipped_indexes = {index for index, _item in skipped}
    chosen = [index for index in range(len(parsed.questions)) if index not in skipped_indexes]
    result.questions = [parsed.questions[index] for index in chosen]
    result.problems = sort_problems(problems)

    wanted_paths = {full_paths[index] for index in chosen if full_paths[index]}
    existing = _existing_categories(wanted_paths)
    result.categories_created = _missing_category_paths(wanted_paths, existing)
    if result.problems or dry_run:
        return result

    with transaction.atomic():
        categories = {
            path: category_get_or_create_path(names=list(path))[0] for path in sorted(wanted_paths)
        }
        tags = _tags_get_or_create(
            {tag for index in chosen for tag in parsed.questions[index].tags}
        )
        rows = [
            _question_row(
                parsed.questions[index], categories[full_paths[index]], *stored[index], by=by
            )
            for index in chosen
        ]
        chosen_questions = [parsed.questions[index] for index in chosen]
        for start in range(0, len(rows), BATCH_SIZE):
            batch = rows[start : start + BATCH_SIZE]
            Question.objects.bulk_create(batch, batch_size=BATCH_SIZE)
            _create_children(batch, chosen_questions[start : start + BATCH_SIZE], tags)
            if on_progress is not None:
                on_progress(start + len(batch), len(rows))
    result.created_ids = [row.pk for row in rows]
    return result


def _base_category_names(
    category: QuestionCategory | str | None, unit: Unit
) -> tuple[list[str], list[ImportProblem]]:
    if category is None:
        return [], []
    if isinstance(category, QuestionCategory):
        return category.path_names(), []
    names = split_category_path(category)
    if not names or any(not name for name in names):
        message = _("“%(path)s” is not a category path: write it like 党史/新民主主义革命时期.") % {
            "path": category
        }
        return [], [ImportProblem(0, FIELD_CATEGORY, message, unit)]
    too_long = [name for name in names if len(name) > CATEGORY_NAME_MAX_LENGTH]
    if too_long:
        message = _("The category name “%(name)s…” is longer than %(max)d characters.") % {
            "name": too_long[0][:20],
            "max": CATEGORY_NAME_MAX_LENGTH,
        }
        return [], [ImportProblem(0, FIELD_CATEGORY, message, unit)]
    return names, []


def question_bookkeeping(
    *, question_type: str, stem: str, blank_count: int, options: Iterable[str]
) -> tuple[str, str]:
    """The stem as stored and its duplicate fingerprint: the one bookkeeping step of every
    question, imported or saved in the admin. A fill-in-the-blank's blanks are written
    the canonical way first, so the same question is the same however it was typed."""
    if question_type == Question.Type.FILL_BLANK:
        stem = canonical_blank_stem(stem, blank_count)
    return stem, question_fingerprint(stem, options)


def _parsed_bookkeeping(question: ParsedQuestion) -> tuple[str, str]:
    return question_bookkeeping(
        question_type=question.type,
        stem=question.stem,
        blank_count=len(question.blanks),
        options=question.option_texts,
    )


def _saved_bookkeeping(question: Question) -> None:
    question.stem, question.fingerprint = question_bookkeeping(
        question_type=question.type,
        stem=question.stem,
        blank_count=question.blanks.count(),
        options=[choice.text for choice in question.choices.all()],
    )


def _find_duplicates(
    questions: list[ParsedQuestion], fingerprints: list[str], unit: Unit, skip: bool
) -> tuple[list[ImportProblem], list[tuple[int, SkippedDuplicate]]]:
    """Problems for duplicates, or (with ``skip``) the indexes of the questions to leave out."""
    existing: dict[str, int] = {}
    distinct = sorted(set(fingerprints))
    for start in range(0, len(distinct), BATCH_SIZE):
        batch = distinct[start : start + BATCH_SIZE]
        for fingerprint, pk in (
            Question.objects.filter(fingerprint__in=batch)
            .order_by("pk")
            .values_list("fingerprint", "pk")
        ):
            existing.setdefault(fingerprint, pk)
    problems: list[ImportProblem] = []
    skipped: list[tuple[int, SkippedDuplicate]] = []
    first_seen: dict[str, int] = {}
    for index, (question, fingerprint) in enumerate(zip(questions, fingerprints, strict=True)):
        row = question.source
        if fingerprint in existing:
            if skip:
                skipped.append(
                    (index, SkippedDuplicate(row, unit, existing_id=existing[fingerprint]))
                )
            else:
                problems.append(
                    ImportProblem(
                        row,
                        FIELD_STEM,
                        _(
                            "The question is already in the bank (question %(id)d, same stem "
                            "and options)."
                        )
                        % {"id": existing[fingerprint]},
                        unit,
                    )
                )
        elif fingerprint in first_seen:
            first = first_seen[fingerprint]
            if skip:
                skipped.append((index, SkippedDuplicate(row, unit, first_row=first)))
            elif unit == "row":
                problems.append(
                    ImportProblem(
                        row,
                        FIELD_STEM,
                        _("The same question as row %(row)d (same stem and options).")
                        % {"row": first},
                        unit,
                    )
                )
            else:
                problems.append(
                    ImportProblem(
                        row,
                        FIELD_STEM,
                        _("The same question as line %(line)d (same stem and options).")
                        % {"line": first},
                        unit,
                    )
                )
        else:
            first_seen[fingerprint] = row
    return problems, skipped


def _missing_category_paths(
    paths: set[tuple[str, ...]], existing: dict[tuple[str, ...], QuestionCategory]
) -> list[str]:
    missing: list[str] = []
    for path in sorted(paths):
        for end in range(1, len(path) + 1):
            prefix = path[:end]
            name = join_category_path(prefix)
            if prefix not in existing and name not in missing:
                missing.append(name)
    return missing


def _tags_get_or_create(names: set[str]) -> dict[str, QuestionTag]:
    tags = {tag.name: tag for tag in QuestionTag.objects.filter(name__in=names)}
    for name in sorted(names - tags.keys()):
        tags[name] = QuestionTag.objects.create(name=name)
    return tags


def _question_row(
    question: ParsedQuestion,
    category: QuestionCategory,
    stem: str,
    fingerprint: str,
    *,
    by: Member | None,
) -> Question:
    return Question(
        category=category,
        type=question.type,
        title=question.title,
        stem=stem,
        difficulty=question.difficulty,
        true_false_answer=(
            question.true_false_answer if question.type == Question.Type.TRUE_FALSE else None
        ),
        reference_answer=question.reference_answer,
        explanation=question.explanation,
        fingerprint=fingerprint,
        created_by=by,
    )


def _create_children(
    rows: list[Question], questions: list[ParsedQuestion], tags: dict[str, QuestionTag]
) -> None:
    choices: list[Choice] = []
    blanks: list[Blank] = []
    tagged: list[TaggedQuestion] = []
    for row, question in zip(rows, questions, strict=True):
        if question.type in CHOICE_TYPES:
            choices.extend(
                Choice(
                    question=row,
                    text=choice.text,
                    is_correct=choice.is_correct,
                    weight=choice.weight,
                    feedback=choice.feedback,
                    sort_order=order,
                )
                for order, choice in enumerate(question.choices)
            )
        blanks.extend(
            Blank(question=row, answers=list(answers), sort_order=order)
            for order, answers in enumerate(question.blanks)
        )
        tagged.extend(TaggedQuestion(content_object=row, tag=tags[name]) for name in question.tags)
    Choice.objects.bulk_create(choices, batch_size=BATCH_SIZE)
    Blank.objects.bulk_create(blanks, batch_size=BATCH_SIZE)
    TaggedQuestion.objects.bulk_create(tagged, batch_size=BATCH_SIZE)


# --- editing --------------------------------------------------------------------------


def question_content_changed(*, question: Question) -> Question:
    """Record that ``question``'s content was edited: a new version and fingerprint.

    Call it (in the same transaction) after saving a change to the stem, options,
    blanks or answers. Attempts hold their own copy of the content, so the change
    reaches only attempts started from now on.
    """
    _saved_bookkeeping(question)
    question.version += 1
    question.save(update_fields=["stem", "fingerprint", "version", "updated_at"])
    return question


def question_retire(*, questions: Iterable[Question]) -> int:
    """Take questions out of new quizzes; past attempts keep their copies. Returns the count."""
    return _questions_status_move(questions, Question.Status.ACTIVE, Question.Status.RETIRED)


def question_created(*, question: Question, by: Member | None = None) -> Question:
    """Finish a question created in the admin: canonical blanks, fingerprint, author.

    The version stays 1: nothing can have asked the question yet.
    """
    _saved_bookkeeping(question)
    fields = ["stem", "fingerprint"]
    if by is not None and question.created_by_id is None:
        question.created_by = by
        fields.append("created_by")
    question.save(update_fields=fields)
    return question


def question_reactivate(*, questions: Iterable[Question]) -> int:
    """Put retired questions back into use. Returns the count."""
    return _questions_status_move(questions, Question.Status.RETIRED, Question.Status.ACTIVE)


def _questions_status_move(questions: Iterable[Question], old: str, new: str) -> int:
    """Move those of ``questions`` in status ``old`` to ``new``; how many moved."""
    ids = [question.pk for question in questions]
    return Question.objects.filter(pk__in=ids, status=old).update(status=new)


def category_create(
    *,
    name: str,
    parent: QuestionCategory | None = None,
    description: str = "",
    sort_order: int = 0,
) -> QuestionCategory:
    """A new category at the top or under ``parent`` (names are unique among siblings)."""
    name = name.strip()
    siblings = QuestionCategory.get_root_nodes() if parent is None else parent.get_children()
    if siblings.filter(name=name).exists():
        raise ValidationError(
            {"name": _("There is already a category “%(name)s” here.") % {"name": name}}
        )
    fields = {"name": name, "description": description, "sort_order": sort_order}
    with transaction.atomic():
        if parent is None:
            return QuestionCategory.add_root(**fields)
        parent = QuestionCategory.objects.select_for_update().get(pk=parent.pk)
        return parent.add_child(**fields)


def category_delete(*, category: QuestionCategory) -> None:
    """Delete an empty category; one with subcategories or questions is refused."""
    with transaction.atomic():
        category = QuestionCategory.objects.select_for_update().get(pk=category.pk)
        if category.get_children_count() or category.questions.exists():
            raise ValidationError(
                _(
                    "Only an empty category can be deleted: move or delete its questions and "
                    "subcategories first."
                )
            )
        category.delete()
