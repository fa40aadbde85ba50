"""Taking quizzes: the quiz admin, attempts, scoring, grades, practice, locks, member pages."""
