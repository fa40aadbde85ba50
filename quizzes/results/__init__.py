"""Results of quizzes: scopes, grading, results tables, statistics and the admin home panel."""
