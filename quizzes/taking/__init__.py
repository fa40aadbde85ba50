"""Taking quizzes: the quiz admin, attempts, scoring, practice, locks and the member pages."""
