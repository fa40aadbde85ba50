"""The one error of the demo's data files: which file, which line, what is wrong.

Every reader under ``demo/`` (the organisation CSVs, the course and policy Markdown, the
GIFT question bank) raises ``DemoDataError`` for a file that is not as
``demo/data/README.md`` describes, and ``seed_demo`` reads them all before it writes
anything, so a typo in a data file is one clear line, never a traceback or half a demo.
"""

from __future__ import annotations

from pathlib import Path

REPOSITORY = Path(__file__).resolve().parent.parent


class DemoDataError(Exception):
    """A demo data file does not follow its convention; ``line`` 0 means the whole file."""

    def __init__(self, path: Path, line: int, message: str) -> None:
        self.path = path
        self.line = line
        self.message = message
        where = shown_path(path) if line == 0 else f"{shown_path(path)}:{line}"
        super().__init__(f"{where}: {message}")


def shown_path(path: Path) -> str:
    """The path as a newcomer finds it: relative to the repository where it is inside."""
    try:
        return str(path.resolve().relative_to(REPOSITORY))
    except ValueError:
        return str(path)
