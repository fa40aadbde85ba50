"""questions_import: every check before any write, all questions or none, duplicates found."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.utils import translation

from quizzes.bank.formats import parse_questions
from quizzes.bank.formats.base import ParseResult
from quizzes.bank.selectors import category_by_path, question_snapshot
from quizzes.bank.services import (
    category_get_or_create_path,
    question_content_changed,
    question_created,
    question_retire,
    questions_import,
)
from quizzes.models import Blank, Choice, Question, QuestionCategory, QuestionTag, TaggedQuestion
from tests.factories.people import MemberFactory
from tests.factories.questions import question_create, single_choice
from tests.factories.sheets import make_xlsx, row

pytestmark = pytest.mark.django_db

GOOD_ROWS = [
    row(
        "单选",
        "中共一大在哪一年召开？",
        ["1919", "1921", "1927"],
        "B",
        "见党史。",
        1,
        "党史/建党",
        "中共一大,建党",
    ),
    row(
        "多选",
        "“四个意识”包括（ ）。",
        ["政治意识", "大局意识", "核心意识", "市场意识"],
        "ABC",
        category="党的理论",
        tags="四个意识",
    ),
    row(
        "判断",
        "党的最高领导机关是党的全国代表大会和它所产生的中央委员会。",
        [],
        "对",
        category="党章党规",
    ),
    row(
        "填空",
        "中共一大于（ ）年召开，闭幕会在____举行。",
        [],
        "1921|嘉兴南湖/南湖",
        category="党史/建党",
        tags="中共一大",
    ),
    row("简答", "简述党的群众路线。", [], "一切为了群众，一切依靠群众。", category="党的理论"),
]


@pytest.fixture(autouse=True)
def _english() -> Iterator[None]:
    with translation.override("en"):
        yield


def xlsx(rows: list[list]) -> ParseResult:
    return parse_questions(make_xlsx(rows), "xlsx")


def counts() -> tuple[int, ...]:
    return (
        Question.objects.count(),
        Choice.objects.count(),
        Blank.objects.count(),
        QuestionCategory.objects.count(),
        QuestionTag.objects.count(),
        TaggedQuestion.objects.count(),
    )


def test_a_clean_file_writes_every_question_with_its_parts() -> None:
    author = MemberFactory()
    result = questions_import(xlsx(GOOD_ROWS), by=author)
    assert result.ok, [str(problem) for problem in result.problems]
    assert result.counts == {
        "single": 1,
        "multiple": 1,
        "true_false": 1,
        "fill_blank": 1,
        "short_answer": 1,
    }
    assert len(result.created_ids) == 5
    assert result.categories_created == ["党史", "党史/建党", "党的理论", "党章党规"]

    single = Question.objects.get(type=Question.Type.SINGLE)
    assert single.category.path_display() == "党史/建党"
    assert [(c.text, c.is_correct, c.weight) for c in single.choices.order_by("sort_order")] == [
        ("1919", False, 0),
        ("1921", True, 1),
        ("1927", False, 0),
    ]
    assert [item.tag.name for item in single.tagged_items.order_by("pk")] == ["中共一大", "建党"]
    assert single.difficulty == 1
    assert single.explanation == "见党史。"
    assert single.created_by == author
    assert single.version == 1
    assert single.status == Question.Status.ACTIVE
    assert len(single.fingerprint) == 64

    multiple = Question.objects.get(type=Question.Type.MULTIPLE)
    assert [c.weight for c in multiple.choices.order_by("sort_order")] == [
        Decimal("0.3333333"),
        Decimal("0.3333333"),
        Decimal("0.3333333"),
        Decimal(-1),
    ]
    assert Question.objects.get(type=Question.Type.TRUE_FALSE).true_false_answer is True
    fill = Question.objects.get(type=Question.Type.FILL_BLANK)
    assert fill.stem == "中共一大于____年召开，闭幕会在____举行。"
    assert [blank.answers for blank in fill.blanks.order_by("sort_order")] == [
        ["1921"],
        ["嘉兴南湖", "南湖"],
    ]
    assert not fill.choices.exists()
    short = Question.objects.get(type=Question.Type.SHORT_ANSWER)
    assert short.reference_answer == "一切为了群众，一切依靠群众。"
    assert short.true_false_answer is None
    # The tag 中共一大 is one tag, used twice.
    assert QuestionTag.objects.get(name="中共一大").tagged_questions.count() == 2


def test_one_bad_question_writes_nothing_and_names_row_and_column() -> None:
    before = counts()
    rows = [*GOOD_ROWS, row("单选", "坏题", ["甲", "乙"], "C")]
    result = questions_import(xlsx(rows))
    assert not result.ok
    assert counts() == before
    assert result.created_ids == []
    assert [(problem.row, problem.field) for problem in result.problems] == [(7, "答案")]
    assert str(result.problems[0]).startswith("Row 7, column 答案:")


def test_every_problem_is_reported_once_in_row_order() -> None:
    rows = [
        row("单选", "", ["甲", "乙"], "Z", difficulty=0),
        GOOD_ROWS[0],
        row("填空", "两个空____和____", [], "一"),
    ]
    result = questions_import(xlsx(rows))
    assert [(problem.row, problem.field) for problem in result.problems] == [
        (2, "题干"),
        (2, "答案"),
        (2, "难度"),
        (4, "题干"),
    ]
    assert Question.objects.count() == 0


def test_a_dry_run_checks_everything_and_writes_nothing() -> None:
    before = counts()
    result = questions_import(xlsx(GOOD_ROWS), dry_run=True)
    assert result.ok
    assert result.dry_run
    assert sum(result.counts.values()) == 5
    assert result.categories_created == ["党史", "党史/建党", "党的理论", "党章党规"]
    assert counts() == before


def test_a_question_already_in_the_bank_is_a_problem_unless_skipped() -> None:
    existing = question_create(
        single_choice(stem="中共一大在哪一年召开？", options=("1927", "1919", "1921"))
    )
    # Same stem and options in another order and width: still the same question.
    rows = [
        row("单选", "中共一大在哪一年召开？ ", ["１９１９", "1921", "1927"], "B", category="党史"),
        GOOD_ROWS[2],
    ]
    result = questions_import(xlsx(rows))
    assert [(problem.row, problem.field) for problem in result.problems] == [(2, "题干")]
    assert f"question {existing.pk}" in result.problems[0].message
    assert Question.objects.count() == 1

    result = questions_import(xlsx(rows), skip_duplicates=True)
    assert result.ok
    assert result.counts == {"true_false": 1}
    assert [str(item) for item in result.skipped] == [
        f"Row 2 skipped: already in the bank (question {existing.pk})."
    ]
    assert Question.objects.count() == 2


def test_a_question_repeated_in_the_file_is_a_problem_unless_skipped() -> None:
    rows = [GOOD_ROWS[0], GOOD_ROWS[2], GOOD_ROWS[0]]
    result = questions_import(xlsx(rows))
    assert [(problem.row, problem.message) for problem in result.problems] == [
        (4, "The same question as row 2 (same stem and options).")
    ]
    result = questions_import(xlsx(rows), skip_duplicates=True)
    assert result.ok
    assert [str(item) for item in result.skipped] == ["Row 4 skipped: repeats row 2."]
    assert Question.objects.count() == 2


def test_a_different_option_is_not_a_duplicate() -> None:
    question_create(single_choice(stem="中共一大在哪一年召开？", options=("1919", "1921", "1927")))
    rows = [row("单选", "中共一大在哪一年召开？", ["1919", "1921", "1949"], "B")]
    assert questions_import(xlsx(rows)).ok


def test_a_gift_duplicate_names_the_line() -> None:
    parsed = parse_questions(b"Q1 {T}\n\nQ2 {F}\n\nQ1 {T}\n", "gift")
    result = questions_import(parsed, category="导入")
    assert [str(problem) for problem in result.problems] == [
        "Line 5, 题干: The same question as line 1 (same stem and options)."
    ]


def test_the_import_category_holds_the_files_categories_and_the_uncategorised() -> None:
    rows = [GOOD_ROWS[0], row("判断", "无分类的题", [], "错", category="")]
    result = questions_import(xlsx(rows), category="专题/二十大")
    assert result.ok, [str(problem) for problem in result.problems]
    assert result.categories_created == [
        "专题",
        "专题/二十大",
        "专题/二十大/党史",
        "专题/二十大/党史/建党",
    ]
    assert Question.objects.get(stem="无分类的题").category.path_display() == "专题/二十大"
    assert (
        Question.objects.get(stem="中共一大在哪一年召开？").category.path_display()
        == "专题/二十大/党史/建党"
    )

    base = category_by_path(["专题"])
    result = questions_import(xlsx([row("判断", "另一题", [], "对", category="")]), category=base)
    assert result.ok
    assert result.categories_created == []
    assert Question.objects.get(stem="另一题").category == base


def test_a_question_without_any_category_is_a_problem() -> None:
    result = questions_import(xlsx([row("判断", "无分类", [], "对", category="")]))
    assert [(problem.row, problem.field) for problem in result.problems] == [(2, "分类")]


def test_a_bad_import_category_is_one_problem() -> None:
    result = questions_import(xlsx(GOOD_ROWS), category="a//b")
    assert [(problem.row, problem.field) for problem in result.problems] == [(0, "分类")]
    assert str(result.problems[0]).startswith("“a//b” is not a category path")


def test_existing_categories_and_tags_are_reused() -> None:
    category_get_or_create_path(names=["党史", "建党"])
    QuestionTag.objects.create(name="建党")
    before_tags = QuestionTag.objects.count()
    result = questions_import(xlsx([GOOD_ROWS[0]]))
    assert result.categories_created == []
    assert QuestionCategory.objects.filter(name="建党").count() == 1
    assert QuestionTag.objects.count() == before_tags + 1  # only 中共一大 is new


def test_category_get_or_create_path_makes_each_missing_level_once() -> None:
    category, created = category_get_or_create_path(names=["党史", "改革开放", "经济特区"])
    assert created == ["党史", "党史/改革开放", "党史/改革开放/经济特区"]
    again, created = category_get_or_create_path(names=["党史", "改革开放", "经济特区"])
    assert (again, created) == (category, [])
    assert category.path_display() == "党史/改革开放/经济特区"
    assert category_by_path(["党史", "改革开放"]) == category.get_parent()
    assert category_by_path(["党史", "不存在"]) is None


def test_queries_grow_with_batches_not_with_questions() -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def rows(count: int, prefix: str) -> list[list]:
        return [
            row(
                "多选",
                f"{prefix}第{index}题：下列说法正确的是（ ）。",
                ["甲", "乙", "丙", "丁"],
                "AC",
                category=f"{prefix}专题/第{index % 3}组",
                tags=f"{prefix}标签{index % 4}",
            )
            for index in range(count)
        ]

    queries = []
    for count, prefix in ((20, "甲"), (300, "乙")):
        parsed = xlsx(rows(count, prefix))
        with CaptureQueriesContext(connection) as context:
            assert questions_import(parsed).ok
        queries.append(len(context))
    # Rows go in batches: 280 more questions cost a few more INSERTs, not 280 × 4 queries.
    assert queries[0] < 80
    assert queries[1] - queries[0] < 30
    assert Question.objects.count() == 320
    assert Choice.objects.count() == 1280
    assert TaggedQuestion.objects.count() == 320


def test_editing_content_bumps_the_version_and_leaves_a_snapshot_alone() -> None:
    question = question_create()
    snapshot = question_snapshot(question)
    assert snapshot["version"] == 1
    assert [choice["text"] for choice in snapshot["choices"]] == ["1919", "1921", "1927", "1949"]
    assert snapshot["choices"][1]["is_correct"] is True
    old_fingerprint = question.fingerprint

    choice = question.choices.get(text="1949")
    choice.text = "1950"
    choice.save()
    question.stem = "中国共产党成立于哪一年？"
    question.save()
    question_content_changed(question=question)

    question.refresh_from_db()
    assert question.version == 2
    assert question.fingerprint != old_fingerprint
    assert snapshot["stem"] == "中国共产党第一次全国代表大会在哪一年召开？"
    assert snapshot["choices"][3]["text"] == "1949"
    assert question_snapshot(question)["version"] == 2


def test_retiring_keeps_the_question_but_takes_it_out_of_use() -> None:
    question = question_create()
    assert question_retire(questions=[question]) == 1
    question.refresh_from_db()
    assert question.status == Question.Status.RETIRED
    assert question_retire(questions=[question]) == 0


def test_the_database_refuses_a_true_false_question_without_its_answer() -> None:
    category, _created = category_get_or_create_path(names=["党史"])
    with pytest.raises(IntegrityError), transaction.atomic():
        Question.objects.create(
            category=category, type=Question.Type.TRUE_FALSE, stem="x", fingerprint="f"
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        Question.objects.create(
            category=category, type=Question.Type.SINGLE, stem="x", fingerprint="f", difficulty=6
        )


def test_a_question_saved_in_the_admin_is_a_duplicate_of_the_same_one_imported() -> None:
    """One bookkeeping step: a blank typed as （ ） in the admin and as ____ in a file is
    stored the same way, so the import finds the admin's question."""
    category, _created = category_get_or_create_path(names=["党史"])
    question = Question.objects.create(
        category=category, type=Question.Type.FILL_BLANK, stem="中共一大于（ ）年召开。"
    )
    Blank.objects.create(question=question, answers=["1921"], sort_order=0)
    question_created(question=question)
    parsed = parse_questions(
        make_xlsx([row("填空", "中共一大于____年召开。", [], "1921", category="党史")]), "xlsx"
    )
    result = questions_import(parsed, dry_run=True)
    assert [problem.message for problem in result.problems] == [
        f"The question is already in the bank (question {question.pk}, same stem and options)."
    ]
    imported = questions_import(parsed, skip_duplicates=True)
    assert imported.created_ids == [] and len(imported.skipped) == 1
