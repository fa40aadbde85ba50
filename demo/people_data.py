"""The fictional organisation of ``manage.py seed_demo``, read from CSV files in ``demo/data``.

Everything in the files is invented. The organisation has deliberately uneven branches
(5 to 80 members) so that leaderboards, "points per member" and reports look like a real
committee. The files are the data a non-programmer edits (``demo/data/README.md`` describes
them); what stays here is how the generator uses them, which is code. A file that does not
read raises ``DemoDataError`` naming the file, line and column. The files are read on the
first use of a name such as ``COMMITTEE_CODE`` (the module's ``__getattr__``), so importing
the module reads nothing.
"""

from __future__ import annotations

import csv
import dataclasses
import functools
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from demo.errors import DemoDataError
from learning.people import roles

DATA_DIR = Path(__file__).resolve().parent / "data"

# The fixed seed keeps the generated names, phones and placements identical on every run.
RANDOM_SEED = 20240701

# In a branch with party groups, the branch committee (支委) stays at branch level and
# everybody else belongs to one of the groups.
BRANCH_COMMITTEE_SIZE = 5
ORDINARY_USERNAME_FORMAT = "m{:04d}"
# Share of ordinary members who gave a mobile number.
PHONE_SHARE = 0.92
# Share of given names that have a single character (e.g. 王磊, 李娜).
SINGLE_CHARACTER_GIVEN_NAME_SHARE = 0.25
# Share of members from ethnic minorities (names from minority_names.csv, each used once).
MINORITY_NAME_SHARE = 0.015

# organisations.csv: the kinds of row, and how a list of party groups is written.
KIND_COMMITTEE = "committee"
KIND_GENERAL_BRANCH = "general_branch"
KIND_BRANCH = "branch"
LIST_SEPARATORS = (";", "；")
YES = frozenset({"yes", "y", "true", "1", "是"})
NO = frozenset({"", "no", "n", "false", "0", "否"})


@dataclass(frozen=True)
class BranchPlan:
    """A 党支部: ``size`` counts everyone in its subtree, demo accounts included."""

    code: str
    name: str
    size: int
    groups: tuple[str, ...] = ()
    retired: bool = False


@dataclass(frozen=True)
class GeneralBranchPlan:
    """A 党总支 and its branches, in display order."""

    code: str
    name: str
    branches: tuple[BranchPlan, ...]


@dataclass(frozen=True)
class DemoAccount:
    """A login for trying one role; created through the member services."""

    username: str
    display_name: str
    label: str
    branch_code: str
    role_names: tuple[str, ...]
    phone: str | None = None
    superuser: bool = False
    secretary_of: str | None = None  # a general branch code


class _Row:
    """One CSV row that knows its file and line, so errors point at the cell to fix."""

    def __init__(self, path: Path, line: int, values: dict[str, str]) -> None:
        self.path = path
        self.line = line
        self.values = values

    def error(self, column: str, message: str) -> DemoDataError:
        return DemoDataError(self.path, self.line, f"column {column}: {message}")

    def text(self, column: str, *, required: bool = True) -> str:
        value = (self.values.get(column) or "").strip()
        if required and not value:
            raise self.error(column, "must not be empty")
        return value

    def integer(self, column: str) -> int:
        value = self.text(column)
        if not value.isdecimal() or int(value) < 1:
            raise self.error(column, f"{value!r} is not a whole number of at least 1")
        return int(value)

    def flag(self, column: str) -> bool:
        value = self.text(column, required=False).lower()
        if value not in YES | NO:
            raise self.error(column, f"{value!r} is neither yes nor empty")
        return value in YES

    def items(self, column: str) -> tuple[str, ...]:
        value = self.text(column, required=False)
        for separator in LIST_SEPARATORS[1:]:
            value = value.replace(separator, LIST_SEPARATORS[0])
        return tuple(item.strip() for item in value.split(LIST_SEPARATORS[0]) if item.strip())


def _rows(directory: Path, name: str, columns: tuple[str, ...]) -> Iterator[_Row]:
    path = directory / name
    # utf-8-sig: a file saved by a spreadsheet program may start with a byte-order mark.
    with path.open(encoding="utf-8-sig", newline="") as file:
        reader = csv.DictReader(file)
        missing = [column for column in columns if column not in (reader.fieldnames or [])]
        if missing:
            raise DemoDataError(path, 1, f"the first line lacks the columns {', '.join(missing)}")
        for values in reader:
            if any((value or "").strip() for value in values.values()):
                yield _Row(path, reader.line_num, values)


def _organisations(directory: Path) -> tuple[str, str, tuple[GeneralBranchPlan, ...]]:
    committee: tuple[str, str] | None = None
    generals: dict[str, tuple[str, list[BranchPlan]]] = {}
    seen: set[str] = set()
    columns = ("code", "name", "kind", "parent", "size", "groups", "retired")
    for row in _rows(directory, "organisations.csv", columns):
        code, name, kind = row.text("code"), row.text("name"), row.text("kind")
        if code in seen:
            raise row.error("code", f"{code} appears twice")
        seen.add(code)
        parent = row.text("parent", required=False)
        if kind == KIND_COMMITTEE:
            if committee is not None or parent:
                raise row.error("kind", "one committee, with no parent, please")
            committee = (code, name)
        elif kind == KIND_GENERAL_BRANCH:
            if committee is None or parent != committee[0]:
                raise row.error("parent", "a general branch's parent is the committee above it")
            generals[code] = (name, [])
        elif kind == KIND_BRANCH:
            if parent not in generals:
                raise row.error("parent", "a branch's parent is a general branch above it")
            generals[parent][1].append(
                BranchPlan(
                    code,
                    name,
                    row.integer("size"),
                    groups=row.items("groups"),
                    retired=row.flag("retired"),
                )
            )
        else:
            kinds = ", ".join((KIND_COMMITTEE, KIND_GENERAL_BRANCH, KIND_BRANCH))
            raise row.error("kind", f"{kind!r} is not one of {kinds}")
    if committee is None:
        raise DemoDataError(directory / "organisations.csv", 0, "no committee row")
    plans = tuple(
        GeneralBranchPlan(code, name, tuple(branches))
        for code, (name, branches) in generals.items()
    )
    return committee[0], committee[1], plans


def _accounts(
    directory: Path, branch_codes: set[str], general_codes: set[str]
) -> tuple[DemoAccount, ...]:
    accounts = []
    columns = (
        "username",
        "display_name",
        "label",
        "branch",
        "roles",
        "phone",
        "superuser",
        "secretary_of",
    )
    for row in _rows(directory, "accounts.csv", columns):
        branch = row.text("branch")
        if branch not in branch_codes:
            raise row.error("branch", f"{branch} is not a branch of organisations.csv")
        role_names = row.items("roles")
        unknown = [name for name in role_names if name not in roles.ALL_ROLES]
        if not role_names or unknown:
            raise row.error("roles", f"use roles from {'; '.join(roles.ALL_ROLES)}")
        secretary_of = row.text("secretary_of", required=False) or None
        if secretary_of is not None and secretary_of not in general_codes:
            raise row.error("secretary_of", f"{secretary_of} is not a general branch")
        accounts.append(
            DemoAccount(
                row.text("username"),
                row.text("display_name"),
                row.text("label"),
                branch,
                role_names,
                phone=row.text("phone", required=False) or None,
                superuser=row.flag("superuser"),
                secretary_of=secretary_of,
            )
        )
    return tuple(accounts)


@dataclass(frozen=True)
class People:
    """Everything the CSV files say, read once (``people()``)."""

    committee_code: str
    committee_name: str
    general_branches: tuple[GeneralBranchPlan, ...]
    demo_accounts: tuple[DemoAccount, ...]
    phone_prefixes: tuple[str, ...]
    # Family names with weights roughly proportional to their share of the population
    # (hundredths of a percent), so 王 李 张 刘 陈 dominate as they do in real rosters.
    family_names: tuple[tuple[str, int], ...]
    # Characters common in given names, by the generation and sex they are typical of.
    # Older members (retired branches) mostly draw from the traditional pools.
    given_name_characters: dict[tuple[str, str], str]
    # Names that do not follow the family + given pattern; each is used at most once.
    minority_names: tuple[str, ...]


@functools.cache
def people() -> People:
    """The organisation of ``demo/data`` (read once)."""
    return people_read(directory=DATA_DIR)


def people_read(*, directory: Path) -> People:
    """Read every CSV file of an organisation; raises ``DemoDataError`` for a bad one."""
    committee_code, committee_name, general_branches = _organisations(directory)
    return People(
        committee_code=committee_code,
        committee_name=committee_name,
        general_branches=general_branches,
        demo_accounts=_accounts(
            directory,
            {branch.code for general in general_branches for branch in general.branches},
            {general.code for general in general_branches},
        ),
        phone_prefixes=tuple(
            row.text("prefix") for row in _rows(directory, "phone_prefixes.csv", ("prefix",))
        ),
        family_names=tuple(
            (row.text("name"), row.integer("weight"))
            for row in _rows(directory, "family_names.csv", ("name", "weight"))
        ),
        given_name_characters={
            (row.text("generation"), row.text("sex")): row.text("characters")
            for row in _rows(
                directory, "given_name_characters.csv", ("generation", "sex", "characters")
            )
        },
        minority_names=tuple(
            row.text("name") for row in _rows(directory, "minority_names.csv", ("name",))
        ),
    )


_PEOPLE_FIELDS = {field.name for field in dataclasses.fields(People)}


def __getattr__(name: str) -> Any:
    # COMMITTEE_CODE, DEMO_ACCOUNTS, FAMILY_NAMES …: each field of People in capitals, read
    # on first use, so importing this module reads no file.
    if name.isupper() and name.lower() in _PEOPLE_FIELDS:
        return getattr(people(), name.lower())
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
