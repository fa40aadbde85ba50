"""App configuration for ``ops``: connects the Celery signals that carry request ids and
record the beat's heartbeats, and the end of a request's id."""

from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OpsConfig(AppConfig):
    name = "ops"
    verbose_name = _("Operations")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.core.signals import request_finished

        from ops import celery_signals
        from ops.middleware import request_id_clear

        celery_signals.connect()
        request_finished.connect(request_id_clear, dispatch_uid="ops_request_id_clear")
