"""Reading Moodle's GIFT text format (``gift_export`` writes it; the escapes and the
metadata comments both use are in ``gift_syntax``).

Questions are separated by blank lines; ``//`` starts a comment line. What is read:

- ``::title::`` before the question text; format markers: ``[html]`` (Moodle's export
  writes it) turns the question's texts into plain text, ``[markdown]``, ``[plain]`` and
  ``[moodle]`` are dropped and the text kept as written;
- ``{=right ~wrong ~%50%partial #feedback}`` — single choice when an answer starts with
  ``=``, otherwise multiple choice with the ``%n%`` weights;
- ``{T}``, ``{TRUE}``, ``{F}``, ``{FALSE}`` — true or false;
- ``{=answer =other}`` — short answer, which becomes fill-in-the-blank: the block's place
  in the text becomes the blank ``____``; several such blocks (a Dangjian extension that
  Moodle does not read) make several blanks;
- ``{}`` — essay, which becomes short answer;
- ``####text`` at the end of a block — general feedback, which becomes the explanation;
- ``$CATEGORY: 党史/新民主主义革命时期`` — the category of the questions after it
  (Moodle's ``$course$/top/`` prefix is dropped);
- comments ``// [tag:name]`` (Moodle 3.6+), and the Dangjian extensions
  ``// [difficulty:3]`` and ``// [answer:reference answer]``;
- escapes ``\\~ \\= \\# \\{ \\} \\: \\\\`` and ``\\n`` (a line break).

Descriptions (text without a block), matching (``->``) and numerical (``{#…}``)
questions are reported by line: the bank has no such types.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal

from django.utils.translation import gettext as _

from learning.common.text import excerpt
from quizzes.bank.formats.base import (
    FIELD_ANSWER,
    FIELD_TITLE,
    MAX_QUESTION_CHARS,
    ImportProblem,
    ParsedChoice,
    ParsedQuestion,
    ParseResult,
    QuestionType,
    parse_percent,
    question_too_long_message,
)
from quizzes.bank.formats.gift_syntax import (
    comments_apply,
    protect_escapes,
    unescape,
    unprotect_escapes,
)
from quizzes.bank.formats.reading import question_keep, reading_end, stop_when_full, text_read
from quizzes.bank.normalise import BLANK_MARKER, BLANK_MARKER_PATTERN, canonical_blank_stem

FORMAT = "gift"

_FORMAT_MARKER = re.compile(r"^\[(html|moodle|plain|markdown)\]", re.IGNORECASE)
_HTML_BREAK = re.compile(r"<br\s*/?>|</p>\s*<p[^>]*>|</(?:div|li)>", re.IGNORECASE)
_HTML_TAG_START = re.compile(r"<[A-Za-z/!?]")
_BRACE = re.compile(r"[{}]")
_WEIGHT = re.compile(r"^%([+-]?\d+(?:\.\d+)?)%")
_CONTEXT = re.compile(r"^\$[a-z0-9]+\$$", re.IGNORECASE)
TRUE_TOKENS = frozenset({"T", "TRUE"})
FALSE_TOKENS = frozenset({"F", "FALSE"})

AddProblem = Callable[[str, str], None]


@dataclass
class _Chunk:
    """The lines of one question (with their numbers) and its comment lines."""

    numbered_lines: list[tuple[int, str]] = field(default_factory=list)
    comments: list[str] = field(default_factory=list)
    first_line: int = 0
    size: int = 0

    @property
    def too_long(self) -> bool:
        return self.size > MAX_QUESTION_CHARS

    @property
    def line(self) -> int:
        return self.numbered_lines[0][0]

    @property
    def lines(self) -> list[str]:
        return [text for _number, text in self.numbered_lines]


def parse_gift(data: bytes | str) -> ParseResult:
    """Read a GIFT file. Pure: no database access.

    Linear in the file's size: at most ``MAX_FILE_BYTES``, a question (with its comment
    lines) at most ``MAX_QUESTION_CHARS``, and reading stops after ``MAX_PROBLEMS``.
    """
    result = ParseResult(format=FORMAT, unit="line")
    text = text_read(data, result)
    if text is None:
        return result
    category: list[str] = []
    for chunk in _chunks(text):
        if result.stop_when_too_many_problems(chunk.first_line):
            break
        if chunk.too_long:
            result.problem(chunk.first_line, "", question_too_long_message())
            continue
        if not chunk.numbered_lines:
            continue
        first = chunk.lines[0].strip()
        if first.startswith("$CATEGORY:"):
            category = _parse_category(first.removeprefix("$CATEGORY:"))
            chunk.numbered_lines = chunk.numbered_lines[1:]
            if not chunk.numbered_lines:
                continue
        if stop_when_full(result, chunk.line):
            break
        question_keep(result, *_parse_question(chunk, category))
    return reading_end(result)


def _chunks(text: str) -> Iterator[_Chunk]:
    """Blank-line separated groups of lines, comments set aside.

    A group longer than ``MAX_QUESTION_CHARS`` keeps only its size and first line.
    """
    chunk: _Chunk | None = None
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped:
            if chunk is not None:
                yield chunk
                chunk = None
            continue
        if chunk is None:
            chunk = _Chunk(first_line=number)
        chunk.size += len(line) + 1
        if chunk.too_long:
            chunk.numbered_lines.clear()
            chunk.comments.clear()
            continue
        if stripped.startswith("//"):
            chunk.comments.append(stripped[2:])
            continue
        chunk.numbered_lines.append((number, line.rstrip()))
    if chunk is not None:
        yield chunk


def _parse_category(text: str) -> list[str]:
    """``$course$/top/党史/新民主主义革命时期`` → ``["党史", "新民主主义革命时期"]``.

    Moodle writes a ``/`` inside a category name as ``//``.
    """
    text = unescape(text.strip()).replace("//", "\ue010")
    parts = [part.replace("\ue010", "/").strip() for part in text.split("/")]
    if parts and _CONTEXT.match(parts[0]):
        parts = parts[1:]
        if parts and parts[0] == "top":
            parts = parts[1:]
    return [part for part in parts if part]


def _parse_question(
    chunk: _Chunk, category: list[str]
) -> tuple[ParsedQuestion | None, list[ImportProblem]]:
    line = chunk.line
    problems: list[ImportProblem] = []

    def add(field_name: str, message: str) -> None:
        problems.append(ImportProblem(line, field_name, message, "line"))

    text = protect_escapes("\n".join(chunk.lines).strip())
    title = ""
    if text.startswith("::"):
        end = text.find("::", 2)
        if end == -1:
            add(FIELD_TITLE, _("The title has no closing ::."))
            return None, problems
        title = unprotect_escapes(text[2:end]).strip()
        text = text[end + 2 :].strip()
    marker = _FORMAT_MARKER.match(text)
    is_html = bool(marker) and marker.group(1).lower() == "html"
    text = _FORMAT_MARKER.sub("", text).lstrip()

    blocks, error = _find_blocks(text)
    if error:
        add(FIELD_ANSWER, error)
        return None, problems
    if not blocks:
        add(
            FIELD_ANSWER,
            _("No answers in braces { }: descriptions are not questions and are not imported."),
        )
        return None, problems

    question = ParsedQuestion(
        type=QuestionType.SHORT_ANSWER,
        stem="",
        title=title,
        category_path=list(category),
        source=line,
    )
    comments_apply(question, chunk.comments, add)

    answer_texts = [text[start + 1 : end] for start, end in blocks]
    explanation_source = answer_texts[-1]
    separator = explanation_source.rfind("####")
    if separator != -1:
        question.explanation = unprotect_escapes(explanation_source[separator + 4 :]).strip()
        answer_texts[-1] = explanation_source[:separator]
    answer_texts = [answer.strip() for answer in answer_texts]

    if len(blocks) > 1:
        if not all(_kind(answer) == "short" for answer in answer_texts):
            add(
                FIELD_ANSWER,
                _(
                    "Only fill-in-the-blank questions may have several answer blocks, "
                    "each like {=answer =other answer}."
                ),
            )
            return None, problems
        kind = "short"
    else:
        kind = _kind(answer_texts[0])

    if kind == "numerical":
        add(
            FIELD_ANSWER,
            _("Numerical questions ({#…}) are not supported: rewrite it as fill-in-the-blank."),
        )
        return None, problems
    if kind == "matching":
        add(FIELD_ANSWER, _("Matching questions (->) are not supported."))
        return None, problems

    question.stem = _stem(text, blocks, fill=kind == "short")
    if kind == "essay":
        question.type = QuestionType.SHORT_ANSWER
    elif kind == "true_false":
        question.type = QuestionType.TRUE_FALSE
        token = answer_texts[0].split("#", 1)[0].strip().upper()
        question.true_false_answer = token in TRUE_TOKENS
    elif kind == "choice":
        question.type = QuestionType.SINGLE if "=" in answer_texts[0] else QuestionType.MULTIPLE
        question.choices = _parse_choices(answer_texts[0], question.type, add)
    else:
        question.type = QuestionType.FILL_BLANK
        for answer in answer_texts:
            question.blanks.append(_parse_short_answers(answer, add))
        question.stem = canonical_blank_stem(question.stem, len(question.blanks))
    if is_html:
        _html_to_text(question)
    return question, problems


def _strip_tags(text: str) -> str:
    """Text without its HTML tags, in linear time.

    Django's ``strip_tags`` uses Python's ``html.parser``, which takes minutes for some
    100 KB inputs (``<a x=">" `` repeated) on the Python versions this project runs on.
    A tag here starts with ``<`` and a letter, ``/``, ``!`` or ``?`` and ends at the next
    ``>``; a lone ``<`` (as in "1 < 2") is text.
    """
    pieces = []
    position = 0
    while (start := _HTML_TAG_START.search(text, position)) is not None:
        end = text.find(">", start.end())
        if end == -1:
            break
        pieces.append(text[position : start.start()])
        position = end + 1
    pieces.append(text[position:])
    return "".join(pieces)


def _html_to_text(question: ParsedQuestion) -> None:
    """Moodle exports most texts as ``[html]<p>…</p>``: keep the words, not the markup.

    In GIFT the question text's format applies to its answers and feedback too.
    """

    def plain(text: str) -> str:
        text = _strip_tags(_HTML_BREAK.sub("\n", text))
        return html.unescape(text).replace("\xa0", " ").strip()

    question.stem = plain(question.stem)
    question.explanation = plain(question.explanation)
    for choice in question.choices:
        choice.text = plain(choice.text)
        choice.feedback = plain(choice.feedback)
    question.blanks = [[plain(answer) for answer in answers] for answers in question.blanks]


def _find_blocks(text: str) -> tuple[list[tuple[int, int]], str | None]:
    blocks = []
    start = None
    for brace in _BRACE.finditer(text):
        index, character = brace.start(), brace.group()
        if character == "{":
            if start is not None:
                return [], _("A { opens inside another { … }; escape a literal brace as \\{.")
            start = index
        elif character == "}":
            if start is None:
                return [], _("A } has no matching {; escape a literal brace as \\}.")
            blocks.append((start, index))
            start = None
    if start is not None:
        return [], _("A { is never closed with }.")
    return blocks, None


def _kind(answer: str) -> str:
    if not answer:
        return "essay"
    if answer.startswith("#"):
        return "numerical"
    if "~" in answer:
        return "choice"
    if "=" in answer and "->" in answer:
        return "matching"
    if answer.split("#", 1)[0].strip().upper() in TRUE_TOKENS | FALSE_TOKENS:
        return "true_false"
    return "short"


def _stem(text: str, blocks: list[tuple[int, int]], *, fill: bool) -> str:
    """The question text with each block replaced by a blank, or removed from the end."""
    last_start, last_end = blocks[-1]
    at_end = not text[last_end + 1 :].strip()
    before_last = text[:last_start]
    if at_end and (
        not fill
        or (
            len(blocks) == 1
            and len(BLANK_MARKER_PATTERN.findall(unprotect_escapes(before_last))) == 1
        )
    ):
        # "Who's buried in Grant's tomb?{…}" or "成立于（ ）年。{=1921}": no new blank.
        pieces = [before_last]
    else:
        pieces = []
        position = 0
        for start, end in blocks:
            pieces.append(text[position:start])
            pieces.append(BLANK_MARKER)
            position = end + 1
        pieces.append(text[position:])
    return unprotect_escapes("".join(pieces)).strip()


def _parse_choices(answer: str, question_type: str, add: AddProblem) -> list[ParsedChoice]:
    pieces = re.split(r"([~=])", answer)
    if pieces[0].strip():
        add(
            FIELD_ANSWER,
            _("“%(text)s” comes before the first answer; start each answer with = or ~.")
            % {"text": excerpt(unprotect_escapes(pieces[0].strip()))},
        )
    choices = []
    for marker, body in zip(pieces[1::2], pieces[2::2], strict=True):
        body = body.strip()
        weight = Decimal(1) if marker == "=" else Decimal(0)
        match = _WEIGHT.match(body)
        if match:
            parsed = parse_percent(match.group(1))
            if parsed is not None:
                weight = parsed
            body = body[match.end() :]
        answer_text, _hash, feedback = body.partition("#")
        is_correct = weight == 1 if question_type == QuestionType.SINGLE else weight > 0
        choices.append(
            ParsedChoice(
                text=unprotect_escapes(answer_text).strip(),
                is_correct=is_correct,
                weight=weight,
                feedback=unprotect_escapes(feedback).strip(),
            )
        )
    return choices


def _parse_short_answers(answer: str, add: AddProblem) -> list[str]:
    pieces = answer.split("=")
    if pieces[0].strip():
        add(
            FIELD_ANSWER,
            _("“%(text)s” is not an answer: start each accepted answer with =.")
            % {"text": excerpt(unprotect_escapes(pieces[0].strip()))},
        )
    answers = []
    for body in pieces[1:]:
        body = body.strip()
        match = _WEIGHT.match(body)
        if match:
            weight = parse_percent(match.group(1))
            if weight != 1:
                add(
                    FIELD_ANSWER,
                    _(
                        "Partial credit (%(weight)s%%) for a fill-in answer is not supported: "
                        "every accepted answer earns the full mark."
                    )
                    % {"weight": excerpt(match.group(1))},
                )
            body = body[match.end() :]
        answer_text = unprotect_escapes(body.partition("#")[0]).strip()
        if answer_text:
            answers.append(answer_text)
    return answers
