"""The demo question bank of ``manage.py seed_demo``, read from ``demo/data/bank/*.gift``.

One GIFT file per category, read in file-name order by the project's own GIFT importer
(``quizzes.bank.formats.gift``), so the bank is edited like any file an organisation imports:
``$CATEGORY:`` names the category, ``// [difficulty:n]`` the difficulty, ``####`` the
explanation and ``// [answer:…]`` a short answer's reference. ``demo/data/README.md``
describes the format. Everything in the files was written for the demo; none of it is
copied from a published question bank.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

from demo.errors import DemoDataError
from quizzes.bank.formats.base import ParsedQuestion
from quizzes.bank.formats.gift import parse_gift

# The demo bank lives under its own top-level category, so it never mixes with an
# organisation's own questions, and ``demo.quizzes`` recognises an earlier run by it.
ROOT_CATEGORY = "示范题库"
BANK_DIR = Path(__file__).resolve().parent / "data" / "bank"


@dataclass(frozen=True)
class DemoCategory:
    name: str
    file_name: str
    questions: tuple[ParsedQuestion, ...]


@functools.cache
def bank_categories() -> tuple[DemoCategory, ...]:
    """Every bank file's category and questions, in file-name order (read once)."""
    return bank_read(directory=BANK_DIR)


def bank_read(*, directory: Path) -> tuple[DemoCategory, ...]:
    """Read every ``*.gift`` file of a folder; raises ``DemoDataError`` at the first
    problem the importer finds (its line, and how many more the file has)."""
    categories = []
    for path in sorted(directory.glob("*.gift")):
        result = parse_gift(path.read_bytes())
        if result.problems:
            first, *others = result.problems
            more = f" (and {len(others)} more problems in this file)" if others else ""
            raise DemoDataError(path, first.row, f"{first.message}{more}")
        names = {tuple(question.category_path) for question in result.questions}
        if len(names) != 1 or len(next(iter(names))) != 1:
            raise DemoDataError(path, 0, "one $CATEGORY line with one category name, please")
        categories.append(
            DemoCategory(
                name=result.questions[0].category_path[0],
                file_name=path.name,
                questions=tuple(result.questions),
            )
        )
    if not categories:
        raise DemoDataError(directory, 0, "no .gift file here")
    return tuple(categories)
