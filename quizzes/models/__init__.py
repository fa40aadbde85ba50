"""Question bank, quizzes and attempts."""

from quizzes.models.bank import (
    Blank,
    Choice,
    Question,
    QuestionCategory,
    QuestionTag,
    TaggedQuestion,
)
from quizzes.models.imports import QuestionImport

__all__ = [
    "Blank",
    "Choice",
    "Question",
    "QuestionCategory",
    "QuestionImport",
    "QuestionTag",
    "TaggedQuestion",
]
