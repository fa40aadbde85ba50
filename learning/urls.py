from django.urls import path

from learning import views

app_name = "learning"

urlpatterns = [
    path("learn/", views.learn, name="learn"),
    path("points/", views.points, name="points"),
    path("points/leaderboards/", views.leaderboards, name="leaderboards"),
    path("me/", views.account, name="account"),
    path("me/data/", views.account_data, name="account_data"),
]
