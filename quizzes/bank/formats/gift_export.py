"""Writing questions as Moodle GIFT (the bank's text export), read back by
``quizzes.bank.formats.gift`` into the same questions: ``$CATEGORY`` lines, ``// [tag:…]``
comments and the Dangjian extensions ``// [difficulty:n]`` and ``// [answer:…]``
(``gift_syntax`` holds the escapes and those comment lines).
"""

from __future__ import annotations

from collections.abc import Iterable

from quizzes.bank.formats.base import (
    CHOICE_TYPES,
    ParsedChoice,
    ParsedQuestion,
    QuestionType,
    format_percent,
)
from quizzes.bank.formats.gift_syntax import CATEGORY_CONTEXT, comment_lines, escape
from quizzes.bank.normalise import BLANK_MARKER


def questions_to_gift(questions: Iterable[ParsedQuestion]) -> str:
    """A GIFT file with the questions, a ``$CATEGORY`` line whenever the category changes."""
    parts = [
        "// 智慧党建题库导出 (GIFT). Tags: // [tag:…]; Dangjian extensions: "
        "// [difficulty:n], // [answer:…]."
    ]
    current: list[str] | None = None
    for question in questions:
        if question.category_path != current:
            current = question.category_path
            path = "/".join(escape(name).replace("/", "//") for name in current)
            parts.append(f"$CATEGORY: {CATEGORY_CONTEXT}/{path}" if path else "$CATEGORY: ")
        parts.append(question_to_gift(question))
    return "\n\n".join(parts) + "\n"


def question_to_gift(question: ParsedQuestion) -> str:
    lines = comment_lines(question)
    head = f"::{escape(question.title)}::" if question.title else ""
    general = f"####{escape(question.explanation)}" if question.explanation else ""
    if question.type in CHOICE_TYPES:
        body = "\n".join(
            [
                head + escape(question.stem) + " {",
                *(
                    f"\t{_choice_prefix(question.type, c)}{_choice_text(c)}"
                    for c in question.choices
                ),
                *([f"\t{general}"] if general else []),
                "}",
            ]
        )
    elif question.type == QuestionType.TRUE_FALSE:
        token = "TRUE" if question.true_false_answer else "FALSE"
        body = f"{head}{escape(question.stem)} {{{token}{general}}}"
    elif question.type == QuestionType.FILL_BLANK:
        body = head + _fill_text(question, general)
    else:
        body = f"{head}{escape(question.stem)} {{{general}}}"
    lines.append(body)
    return "\n".join(lines)


def _choice_prefix(question_type: str, choice: ParsedChoice) -> str:
    # A text that starts with % would be read as a weight: give the weight explicitly.
    explicit = choice.text.startswith("%")
    if question_type == QuestionType.SINGLE and choice.is_correct and choice.weight == 1:
        return "=%100%" if explicit else "="
    if choice.weight == 0 and not explicit:
        return "~"
    return f"~%{format_percent(choice.weight)}%"


def _choice_text(choice: ParsedChoice) -> str:
    text = escape(choice.text)
    if choice.feedback:
        text += "#" + escape(choice.feedback)
    return text


def _fill_text(question: ParsedQuestion, general: str) -> str:
    pieces = question.stem.split(BLANK_MARKER)
    out = [escape(pieces[0])]
    for index, piece in enumerate(pieces[1:]):
        answers = question.blanks[index] if index < len(question.blanks) else []
        block = " ".join(
            f"=%100%{escape(answer)}" if answer.startswith("%") else f"={escape(answer)}"
            for answer in answers
        )
        if index == len(pieces) - 2:
            block += general
        out.append("{" + block + "}")
        out.append(escape(piece))
    return "".join(out)
