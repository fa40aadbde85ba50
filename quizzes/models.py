"""Question bank, quizzes and attempts (built in the quiz-engine issue)."""
