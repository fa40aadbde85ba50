"""The repository stands on its own: what its code and docs refer to is inside it."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from django.conf import settings

ROOT = Path(settings.BASE_DIR)
TEXT_SUFFIXES = {".py", ".md", ".html", ".js", ".css", ".toml", ".txt", ".cfg", ""}
# A relative Markdown link: [text](path) or [text](path#anchor), not a URL.
LINK = re.compile(r"\]\((?!https?:|mailto:|#)([^)#\s]+)(?:#[^)]*)?\)")


SKIPPED_DIRS = {".git", ".venv", "var", "node_modules", "__pycache__", ".hypothesis"}


def tracked_files() -> list[Path]:
    """The repository's text files (git's list, or the tree when it is not a checkout)."""
    try:
        listed = subprocess.run(
            ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.splitlines()
        paths = [ROOT / name for name in listed]
    except (OSError, subprocess.CalledProcessError):
        paths = [
            path
            for path in ROOT.rglob("*")
            if not SKIPPED_DIRS.intersection(path.relative_to(ROOT).parts)
        ]
    return [path for path in paths if path.suffix in TEXT_SUFFIXES and path.is_file()]


def test_nothing_points_at_design_files_outside_the_repository() -> None:
    outside = re.compile(r"\.\./shared|\bDESIGN\.md|\bSTYLE\.md|\bNOTES\.md")
    offenders = []
    for path in tracked_files():
        if path == Path(__file__):
            continue
        for number, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
            if outside.search(line):
                offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert offenders == [], "refer to docs/design.md instead:\n" + "\n".join(offenders)


def test_every_relative_link_in_the_docs_leads_to_a_file_of_the_repository() -> None:
    broken = []
    for path in tracked_files():
        if path.suffix != ".md":
            continue
        for target in LINK.findall(path.read_text()):
            resolved = (path.parent / target).resolve()
            if not resolved.exists() or ROOT.resolve() not in (resolved, *resolved.parents):
                broken.append(f"{path.relative_to(ROOT)} → {target}")
    assert broken == [], "\n".join(broken)


# A file path in backticks, as the README's code map and the docs name modules and templates.
CODE_PATH = re.compile(r"`((?:[a-z_]+/)+[a-z_0-9-]+\.(?:py|html|md|toml|yaml|gift|csv))`")
# Paths that name a template relative to a templates folder are looked up there too.
TEMPLATE_DIRS = [ROOT / "templates"]


def test_every_file_the_code_map_and_the_docs_name_exists() -> None:
    """After a module moves, the README's map and the docs must not point at its old place."""
    missing = []
    for path in tracked_files():
        if path.suffix != ".md" or "tests/benchmarks" in str(path.relative_to(ROOT)):
            continue
        for number, line in enumerate(path.read_text().splitlines(), 1):
            for name in CODE_PATH.findall(line):
                candidates = [ROOT / name, path.parent / name, *(d / name for d in TEMPLATE_DIRS)]
                if not any(candidate.exists() for candidate in candidates):
                    missing.append(f"{path.relative_to(ROOT)}:{number}: {name}")
    assert missing == [], "no such file:\n" + "\n".join(missing)
