"""URLs of the members' quiz API, mounted at ``/api/v1/`` (see docs/api.md)."""

from django.urls import path, re_path

from quizzes.api import views as api

app_name = "quizzes_api"

urlpatterns = [
    path("quizzes/", api.QuizListView.as_view(), name="quizzes"),
    path("quizzes/daily/attempts/", api.DailyAttemptStartView.as_view(), name="daily_start"),
    path(
        "quizzes/challenge/attempts/",
        api.ChallengeAttemptStartView.as_view(),
        name="challenge_start",
    ),
    path("quizzes/<int:pk>/attempts/", api.QuizAttemptStartView.as_view(), name="start"),
    path("attempts/", api.AttemptListView.as_view(), name="attempts"),
    path("attempts/<int:pk>/", api.AttemptDetailView.as_view(), name="attempt"),
    path(
        "attempts/<int:pk>/answers/<int:position>/",
        api.AnswerSaveView.as_view(),
        name="answer",
    ),
    path(
        "attempts/<int:pk>/answers/<int:position>/check/",
        api.AnswerCheckView.as_view(),
        name="check",
    ),
    path("attempts/<int:pk>/submit/", api.AttemptSubmitView.as_view(), name="submit"),
    path("wrong-answers/", api.WrongAnswerListView.as_view(), name="wrong_answers"),
    path("wrong-answers/<int:pk>/", api.WrongAnswerView.as_view(), name="wrong_answer"),
    path(
        "wrong-answers/<int:pk>/practise/",
        api.WrongAnswerPractiseView.as_view(),
        name="wrong_answer_practise",
    ),
    # Last: anything else under /api/v1/ is a JSON 404 (without it, the page tree's HTML).
    re_path(r"", api.UnknownPathView.as_view(), name="unknown"),
]
