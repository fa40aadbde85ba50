from django.urls import path

from quizzes.taking import views

app_name = "quizzes"

urlpatterns = [
    path("", views.index, name="index"),
    path("daily/start/", views.daily_start, name="daily_start"),
    path("challenge/start/", views.challenge_start, name="challenge_start"),
    path("<int:pk>/start/", views.quiz_start, name="start"),
    path("attempts/<int:pk>/", views.attempt_page, name="attempt"),
    path("attempts/<int:pk>/save/", views.attempt_save, name="save"),
    path("attempts/<int:pk>/check/", views.attempt_check, name="check"),
    path("attempts/<int:pk>/submit/", views.attempt_submit_view, name="submit"),
    path("attempts/<int:pk>/result/", views.attempt_result, name="result"),
    path("history/", views.history, name="history"),
    path("wrong/", views.wrong_book, name="wrong_book"),
    path("wrong/<int:pk>/", views.wrong_practise, name="wrong_practise"),
    path("wrong/<int:pk>/remove/", views.wrong_remove, name="wrong_remove"),
    path("practice/", views.practice_index, name="practice_index"),
    path("practice/<int:category_id>/", views.practice, name="practice"),
]
