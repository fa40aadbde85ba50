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

from quizzes.bank.formats.base import ParsedQuestion
from quizzes.bank.formats.gift import parse_gift

# The demo bank lives under its own top-level category, so it never mixes with an
# organisation's own questions, and ``demo.quizzes`` recognises an earlier run by it.
ROOT_CATEGORY = "示范题库"
BANK_DIR = Path(__file__).resolve().parent / "data" / "bank"


class DemoBankError(Exception):
    """A bank file could not be read; ``problems`` lists why, by file and line."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("The demo question bank could not be read: " + "; ".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class DemoCategory:
    name: str
    file_name: str
    questions: tuple[ParsedQuestion, ...]


@functools.cache
def bank_categories() -> tuple[DemoCategory, ...]:
    """Every bank file's category and questions, in file-name order (read once)."""
    categories = []
    problems: list[str] = []
    for path in sorted(BANK_DIR.glob("*.gift")):
        result = parse_gift(path.read_bytes())
        problems += [f"{path.name}: {problem}" for problem in result.problems]
        names = {tuple(question.category_path) for question in result.questions}
        if len(names) != 1 or len(next(iter(names))) != 1:
            problems.append(f"{path.name}: one $CATEGORY line with one category name, please")
            continue
        categories.append(
            DemoCategory(
                name=result.questions[0].category_path[0],
                file_name=path.name,
                questions=tuple(result.questions),
            )
        )
    if problems:
        raise DemoBankError(problems)
    return tuple(categories)
