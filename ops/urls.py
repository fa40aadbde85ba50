"""Routes of ``ops``: the health endpoints, at the site's root."""

from __future__ import annotations

from django.urls import path

from ops import views

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("readyz", views.ReadinessView.as_view(), name="readyz"),
]
