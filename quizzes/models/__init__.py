"""Question bank, quizzes and attempts."""

from quizzes.models.bank import (
    Blank,
    Choice,
    Question,
    QuestionCategory,
    QuestionTag,
    TaggedQuestion,
)

__all__ = [
    "Blank",
    "Choice",
    "Question",
    "QuestionCategory",
    "QuestionTag",
    "TaggedQuestion",
]
