"""Signing in and out and changing one's password (`/accounts/`), names without a namespace.

Django's ``LOGIN_URL`` and the templates know these as ``login``, ``logout`` and
``password_change``.
"""

from django.urls import path

from learning import views

urlpatterns = [
    path("login/", views.login_view, name="login"),
    path("logout/", views.logout_view, name="logout"),
    path("password/", views.password_change, name="password_change"),
]
