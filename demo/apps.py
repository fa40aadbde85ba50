from __future__ import annotations

from django.apps import AppConfig


class DemoConfig(AppConfig):
    """The demo organisation, its members, study content, question bank and activity.

    Nothing in the platform imports this app; ``manage.py seed_demo`` drives the other apps'
    services with the data files under ``demo/data/``.
    """

    name = "demo"
    verbose_name = "Demo data"
