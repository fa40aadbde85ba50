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
from quizzes.models.quiz import (
    Attempt,
    AttemptQuestion,
    DailyQuizSettings,
    Quiz,
    QuizDrawRule,
    QuizQuestion,
    WrongAnswer,
)

__all__ = [
    "Attempt",
    "AttemptQuestion",
    "Blank",
    "Choice",
    "DailyQuizSettings",
    "Question",
    "QuestionCategory",
    "QuestionImport",
    "QuestionTag",
    "Quiz",
    "QuizDrawRule",
    "QuizQuestion",
    "TaggedQuestion",
    "WrongAnswer",
]
