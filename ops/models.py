"""The one table of ``ops``: when the Celery beat and each worker were last seen."""

from __future__ import annotations

from django.db import models


class Heartbeat(models.Model):
    """One row per component (``beat``, ``worker:default``, ``worker:search``), overwritten
    every time it shows it is alive; ``/readyz`` reports each row's age."""

    name = models.CharField(max_length=40, primary_key=True)
    seen_at = models.DateTimeField()

    class Meta:
        db_table = "ops_heartbeat"

    def __str__(self) -> str:
        return f"{self.name} at {self.seen_at.isoformat()}"
