"""The demo study content, read from the files under ``demo/data/``: six courses of lessons
and forty policy documents.

The texts live in Markdown files with YAML front matter, so a non-programmer can edit
them (the convention is in ``demo/data/README.md``); this module reads them into the
dataclasses below, which ``demo.content`` turns into pages. Everything was written for
the demo: the lessons retell public facts about party history and institutions in their
own words; the policy documents are fictional papers of the fictional committee in
``demo.people_data`` and its offices, with invented numbers and dates.

The files are read once, on the first use of a name such as ``COURSES`` (the module's
``__getattr__``), so importing the module costs nothing and a malformed file is reported
by whoever uses the content, as a ``DemoDataError`` naming the file and line. The
reader is strict on purpose: an unknown field, callout kind or category, or a date that
is not a date, is an error rather than something silently dropped.
"""

from __future__ import annotations

import dataclasses
import datetime
import functools
import html
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from demo.errors import DemoDataError

DATA_DIRECTORY = Path(__file__).resolve().parent / "data"

# --- Building blocks of a body -----------------------------------------------------
# Consecutive paragraphs become one rich-text block; the others map to the block of the
# same name in ``cms.blocks.LessonStreamBlock``.


@dataclass(frozen=True)
class Paragraph:
    text: str


@dataclass(frozen=True)
class Heading:
    text: str


@dataclass(frozen=True)
class Quote:
    text: str
    source: str


@dataclass(frozen=True)
class KeyPoints:
    points: tuple[str, ...]
    title: str = "学习要点"


CALLOUT_KINDS = ("info", "important", "warning")  # as in cms.blocks.CalloutBlock


@dataclass(frozen=True)
class Callout:
    text: str
    kind: str = "info"  # one of CALLOUT_KINDS


Block = Paragraph | Heading | Quote | KeyPoints | Callout


# --- Courses and lessons -----------------------------------------------------------


@dataclass(frozen=True)
class Lesson:
    slug: str
    title: str
    estimated_minutes: int
    min_study_minutes: int
    body: tuple[Block, ...]


@dataclass(frozen=True)
class Course:
    slug: str
    title: str
    summary: str
    category: str
    tags: tuple[str, ...]
    estimated_hours: str  # a decimal, as text
    lessons: tuple[Lesson, ...]


# --- Policy documents --------------------------------------------------------------


@dataclass(frozen=True)
class Issuer:
    name: str  # 发文机关
    prefix: str  # 发文机关代字, as in 青机党发〔2026〕3号
    code: str  # ASCII, for page slugs


STATUSES = ("effective", "amended", "repealed")  # PolicyDocumentPage.Status


@dataclass(frozen=True)
class PolicyDocument:
    issuer: Issuer
    year: int
    number: int
    title: str
    category: str
    issue_date: datetime.date
    body: tuple[Block, ...]
    effective_date: datetime.date | None = None
    status: str = "effective"  # one of STATUSES
    status_note: str = ""  # for amended and repealed documents: what replaced them
    original_file: str = ""  # a PDF in demo/data/policies/, attached by demo.content
    original_file_title: str = ""  # the Wagtail document's title

    @property
    def document_number(self) -> str:
        return f"{self.issuer.prefix}〔{self.year}〕{self.number}号"

    @property
    def slug(self) -> str:
        return f"policy-{self.year}-{self.issuer.code}-{self.number:02d}"


@dataclass(frozen=True)
class Content:
    """Everything under ``demo/data/``, as the module-level names expose it."""

    course_index_title: str
    course_index_slug: str
    course_index_intro: str  # HTML, one paragraph
    course_index_intro_en: str
    course_categories: tuple[str, ...]
    courses: tuple[Course, ...]
    policy_index_title: str
    policy_index_slug: str
    policy_index_intro: str
    policy_index_intro_en: str
    policy_categories: tuple[str, ...]
    issuers: tuple[Issuer, ...]
    policy_documents: tuple[PolicyDocument, ...]  # by issue date


# --- Reading -----------------------------------------------------------------------

_CONTENT_FIELDS = {field.name for field in dataclasses.fields(Content)}


def __getattr__(name: str) -> Any:
    # COURSES, POLICY_DOCUMENTS, COURSE_INDEX_TITLE …: each field of Content in capitals.
    if name.isupper() and name.lower() in _CONTENT_FIELDS:
        return getattr(demo_content(), name.lower())
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@functools.cache
def demo_content() -> Content:
    """The content of ``demo/data/``, read once per process."""
    return content_read(directory=DATA_DIRECTORY)


def content_read(*, directory: Path) -> Content:
    """Read ``content.yaml``, the course folders and the policy files under ``directory``."""
    index_path = directory / "content.yaml"
    index = _yaml(index_path, index_path.read_text(encoding="utf-8"), first_line=1)
    courses_index = _section(index_path, index, "courses")
    policies_index = _section(index_path, index, "policies")
    course_categories = _strings(index_path, courses_index, "categories")
    policy_categories = _strings(index_path, policies_index, "categories")
    issuers = _issuers(index_path, policies_index)
    courses = tuple(
        _course_read(folder, course_categories)
        for folder in _numbered(directory / "courses", folders=True)
    )
    documents = sorted(
        (
            _document_read(path, policy_categories, issuers)
            for path in sorted((directory / "policies").glob("*.md"))
        ),
        key=lambda document: (document.issue_date, document.slug),
    )
    return Content(
        **_index_page(index_path, courses_index, "course"),
        course_categories=course_categories,
        courses=courses,
        **_index_page(index_path, policies_index, "policy"),
        policy_categories=policy_categories,
        issuers=issuers,
        policy_documents=tuple(documents),
    )


def _index_page(path: Path, section: dict[str, Any], name: str) -> dict[str, str]:
    """The fields of one index page, as ``course_index_title`` … of Content."""
    fields = {key: _text(path, section, key) for key in ("title", "slug", "intro", "intro_en")}
    fields["intro"], fields["intro_en"] = _html(fields["intro"]), _html(fields["intro_en"])
    return {f"{name}_index_{key}": value for key, value in fields.items()}


def _html(text: str) -> str:
    return f"<p>{html.escape(text, quote=False)}</p>"


def _section(path: Path, data: dict[str, Any], key: str) -> dict[str, Any]:
    value = data.get(key)
    if not isinstance(value, dict):
        raise DemoDataError(path, 1, f"needs a section '{key}:' with its fields under it")
    return value


def _issuers(path: Path, section: dict[str, Any]) -> tuple[Issuer, ...]:
    items = section.get("issuers")
    if not isinstance(items, list) or not items:
        raise DemoDataError(path, 1, "policies: needs a list 'issuers:'")
    issuers = []
    for item in items:
        if not isinstance(item, dict) or set(item) != {"name", "prefix", "code"}:
            raise DemoDataError(path, 1, "each issuer needs exactly name, prefix and code")
        issuers.append(Issuer(name=item["name"], prefix=item["prefix"], code=item["code"]))
    return tuple(issuers)


_NUMBERED = re.compile(r"^[0-9][0-9]-[a-z0-9-]+$")


def _numbered(directory: Path, *, folders: bool) -> list[Path]:
    """Course folders or lesson files named ``NN-<slug>``, in the order of NN."""
    entries = []
    for path in sorted(directory.iterdir()):
        if folders and path.is_dir():
            name, example = path.name, "01-course-1"
        elif not folders and path.suffix == ".md" and path.name != "course.md":
            name, example = path.stem, "01-lesson-1-1.md"
        else:
            continue
        if not _NUMBERED.match(name):
            raise DemoDataError(path, 1, f"the name is NN-<slug>, as {example}")
        entries.append(path)
    if not entries:
        raise DemoDataError(directory, 1, "no course or lesson here")
    return entries


def _course_read(folder: Path, categories: tuple[str, ...]) -> Course:
    path = folder / "course.md"
    if not path.exists():
        raise DemoDataError(path, 1, "every course folder needs its course.md")
    fields, body, body_line = _front_matter(path)
    _fields_check(path, fields, required={"title", "slug", "category", "tags", "estimated_hours"})
    _name_check(path, folder.name, fields)
    category = _choice(path, fields, "category", categories)
    hours = _text(path, fields, "estimated_hours")
    if not re.fullmatch(r"[0-9]+(\.[0-9]+)?", hours):
        raise DemoDataError(
            path,
            _line_of(path, "estimated_hours"),
            f"estimated_hours must be a number, not '{hours}'",
        )
    summary = _blocks(path, body, body_line)
    if len(summary) != 1 or not isinstance(summary[0], Paragraph):
        raise DemoDataError(path, body_line, "the course summary is one paragraph")
    return Course(
        slug=fields["slug"],
        title=_text(path, fields, "title"),
        summary=summary[0].text,
        category=category,
        tags=_strings(path, fields, "tags"),
        estimated_hours=hours,
        lessons=tuple(_lesson_read(item) for item in _numbered(folder, folders=False)),
    )


def _lesson_read(path: Path) -> Lesson:
    fields, body, body_line = _front_matter(path)
    _fields_check(
        path, fields, required={"title", "slug", "estimated_minutes", "min_study_minutes"}
    )
    _name_check(path, path.stem, fields)
    return Lesson(
        slug=fields["slug"],
        title=_text(path, fields, "title"),
        estimated_minutes=_integer(path, fields, "estimated_minutes"),
        min_study_minutes=_integer(path, fields, "min_study_minutes"),
        body=_blocks(path, body, body_line),
    )


_DOCUMENT_NUMBER = re.compile(r"^(?P<prefix>\S+?)〔(?P<year>[0-9]{4})〕(?P<number>[1-9][0-9]*)号$")
_DOCUMENT_FIELDS = {"title", "document_number", "issuer", "category", "issue_date"}
_DOCUMENT_OPTIONAL = {
    "effective_date",
    "status",
    "status_note",
    "original_file",
    "original_file_title",
}


def _document_read(
    path: Path, categories: tuple[str, ...], issuers: tuple[Issuer, ...]
) -> PolicyDocument:
    fields, body, body_line = _front_matter(path)
    _fields_check(path, fields, required=_DOCUMENT_FIELDS, optional=_DOCUMENT_OPTIONAL)
    number = _text(path, fields, "document_number")
    match = _DOCUMENT_NUMBER.match(number)
    if not match:
        raise DemoDataError(
            path,
            _line_of(path, "document_number"),
            f"document_number (文号) '{number}' is not like 青机党发〔2026〕3号",
        )
    name = _choice(path, fields, "issuer", tuple(issuer.name for issuer in issuers))
    issuer = next(item for item in issuers if item.name == name)
    if match["prefix"] != issuer.prefix:
        raise DemoDataError(
            path,
            _line_of(path, "document_number"),
            f"the 文号 of a document of {name} starts with {issuer.prefix}",
        )
    original_file = fields.get("original_file", "")
    if original_file and not (path.parent / original_file).is_file():
        raise DemoDataError(
            path,
            _line_of(path, "original_file"),
            f"original_file '{original_file}' is not beside it",
        )
    if bool(original_file) != bool(fields.get("original_file_title")):
        raise DemoDataError(path, 1, "original_file and original_file_title go together")
    effective = _date(path, fields, "effective_date") if "effective_date" in fields else None
    document = PolicyDocument(
        issuer=issuer,
        year=int(match["year"]),
        number=int(match["number"]),
        title=_text(path, fields, "title"),
        category=_choice(path, fields, "category", categories),
        issue_date=_date(path, fields, "issue_date"),
        effective_date=effective,
        status=_choice(path, {"status": "effective"} | fields, "status", STATUSES),
        status_note=fields.get("status_note", ""),
        original_file=original_file,
        original_file_title=fields.get("original_file_title", ""),
        body=_blocks(path, body, body_line),
    )
    if path.stem != document.slug:
        raise DemoDataError(
            path, 1, f"the file of {number} is named {document.slug}.md, after its 文号"
        )
    return document


# --- Front matter ------------------------------------------------------------------


def _front_matter(path: Path) -> tuple[dict[str, Any], list[str], int]:
    """The YAML fields between the ``---`` lines, the body's lines and its first line."""
    lines = path.read_text(encoding="utf-8").split("\n")
    if lines[0].strip() != "---":
        raise DemoDataError(path, 1, "a file starts with a '---' line, then its fields")
    try:
        end = next(i for i in range(1, len(lines)) if lines[i].strip() == "---")
    except StopIteration:
        raise DemoDataError(path, 1, "the fields end with a second '---' line") from None
    fields = _yaml(path, "\n".join(lines[1:end]), first_line=2)
    return fields, lines[end + 1 :], end + 2


_LOADER = getattr(yaml, "CBaseLoader", yaml.BaseLoader)  # libyaml's, when built with it


def _yaml(path: Path, text: str, *, first_line: int) -> dict[str, Any]:
    # BaseLoader keeps every value as text: the reader converts numbers and dates itself,
    # with errors that say which field, and "no" stays "no" rather than becoming False.
    try:
        data = yaml.load(text, Loader=_LOADER)  # noqa: S506 - BaseLoader builds no objects
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = first_line + mark.line if mark else first_line
        problem = getattr(error, "problem", None) or str(error)
        raise DemoDataError(path, line, f"not valid YAML: {problem}") from None
    if not isinstance(data, dict):
        raise DemoDataError(path, first_line, "the fields are lines of 'name: value'")
    return data


def _fields_check(
    path: Path, fields: dict[str, Any], *, required: set[str], optional: set[str] = frozenset()
) -> None:
    missing = sorted(required - set(fields))
    if missing:
        raise DemoDataError(path, 1, f"missing field: {', '.join(missing)}")
    unknown = sorted(set(fields) - required - optional)
    if unknown:
        raise DemoDataError(
            path, _line_of(path, unknown[0]), f"unknown field: {', '.join(unknown)}"
        )


def _name_check(path: Path, name: str, fields: dict[str, Any]) -> None:
    slug = _text(path, fields, "slug")
    if name.split("-", 1)[1] != slug:
        raise DemoDataError(
            path, _line_of(path, "slug"), f"slug '{slug}' differs from the name '{name}'"
        )


def _text(path: Path, fields: dict[str, Any], key: str) -> str:
    value = fields.get(key)
    if not isinstance(value, str) or not value.strip():
        raise DemoDataError(path, _line_of(path, key), f"field '{key}' needs a text")
    return value


def _strings(path: Path, fields: dict[str, Any], key: str) -> tuple[str, ...]:
    value = fields.get(key)
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise DemoDataError(path, _line_of(path, key), f"field '{key}' needs a list, as [a, b]")
    return tuple(value)


def _integer(path: Path, fields: dict[str, Any], key: str) -> int:
    value = _text(path, fields, key)
    if not re.fullmatch(r"[0-9]+", value):
        raise DemoDataError(
            path, _line_of(path, key), f"field '{key}' needs a whole number, not '{value}'"
        )
    return int(value)


def _date(path: Path, fields: dict[str, Any], key: str) -> datetime.date:
    value = _text(path, fields, key)
    try:
        if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value):
            raise ValueError
        return datetime.date.fromisoformat(value)
    except ValueError:
        raise DemoDataError(
            path, _line_of(path, key), f"field '{key}' needs a date as 2026-05-20, not '{value}'"
        ) from None


def _choice(path: Path, fields: dict[str, Any], key: str, choices: tuple[str, ...]) -> str:
    value = _text(path, fields, key)
    if value not in choices:
        raise DemoDataError(
            path,
            _line_of(path, key),
            f"field '{key}' is one of {', '.join(choices)}, not '{value}'",
        )
    return value


def _line_of(path: Path, key: str) -> int:
    """The line of field ``key`` in the file, for the error; 1 if it is not there."""
    field = re.compile(rf"^\s*(- )?{re.escape(key)}\s*:")
    lines = path.read_text(encoding="utf-8").split("\n")
    return next((number for number, line in enumerate(lines, 1) if field.match(line)), 1)


# --- Body --------------------------------------------------------------------------

_CALLOUT = re.compile(r"^> \[!(\w+)\]\s*$")
QUOTE_SOURCE = "—— "


def _blocks(path: Path, lines: list[str], first_line: int) -> tuple[Block, ...]:
    """The body's blocks: groups of lines separated by blank lines (README.md)."""
    blocks: list[Block] = []
    group: list[str] = []
    start = first_line
    for number, line in enumerate([*lines, ""], start=first_line):
        if line.strip():
            if not group:
                start = number
            group.append(line.rstrip())
            continue
        if group and not (group[-1].startswith("### ") and len(group) == 1):
            blocks.append(_block(path, group, start))
            group = []
    if group:
        blocks.append(_block(path, group, start))
    return tuple(blocks)


def _block(path: Path, lines: list[str], start: int) -> Block:
    first = lines[0]
    if first.startswith("## "):
        if len(lines) > 1:
            raise DemoDataError(path, start + 1, "a heading is one line; leave a blank line")
        return Heading(_plain(path, start, first[3:]))
    if first.startswith("### "):
        points = []
        for offset, line in enumerate(lines[1:], start=1):
            if not line.startswith("- "):
                raise DemoDataError(
                    path, start + offset, "under a '### ' title come only '- ' points"
                )
            points.append(_plain(path, start + offset, line[2:]))
        if not points:
            raise DemoDataError(path, start, "a '### ' title needs '- ' points under it")
        return KeyPoints(points=tuple(points), title=_plain(path, start, first[4:]))
    if first.startswith(">"):
        for offset, line in enumerate(lines):
            if not line.startswith("> ") or not line[2:].strip():
                raise DemoDataError(
                    path, start + offset, "every line of a quote or callout starts with '> '"
                )
        callout = _CALLOUT.match(first)
        if callout:
            kind = callout[1].lower()
            if kind not in CALLOUT_KINDS:
                raise DemoDataError(
                    path,
                    start,
                    f"unknown callout kind '{callout[1]}': use {', '.join(CALLOUT_KINDS)}",
                )
            if len(lines) < 2:
                raise DemoDataError(path, start, "a callout needs its text under [!…]")
            return Callout(text="\n".join(line[2:] for line in lines[1:]), kind=kind)
        if first.startswith("> [!"):
            raise DemoDataError(path, start, "a callout starts with a line like > [!info]")
        source = ""
        if len(lines) > 1 and lines[-1][2:].startswith(QUOTE_SOURCE):
            source = lines[-1][2 + len(QUOTE_SOURCE) :].strip()
            lines = lines[:-1]
        return Quote(text="\n".join(line[2:] for line in lines), source=source)
    for offset, line in enumerate(lines):
        _plain(path, start + offset, line)
    return Paragraph("\n".join(lines))


def _plain(path: Path, line_number: int, text: str) -> str:
    """Text of a paragraph line, heading or point: not starting with Markdown markers."""
    text = text.strip()
    if not text:
        raise DemoDataError(path, line_number, "empty text")
    if text.startswith(("#", ">", "- ", "* ", "+ ")):
        raise DemoDataError(
            path, line_number, f"'{text[:2]}' starts no block here; see demo/data/README.md"
        )
    return text
