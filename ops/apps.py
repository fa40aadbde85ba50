"""App configuration for ``ops``: connects the Celery signals that carry request ids and
record the beat's heartbeats."""

from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OpsConfig(AppConfig):
    name = "ops"
    verbose_name = _("Operations")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from ops import celery_signals

        celery_signals.connect()
