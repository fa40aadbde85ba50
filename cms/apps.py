from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CmsConfig(AppConfig):
    name = "cms"
    verbose_name = _("Content")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from cms import extraction
        from cms.search.signals import register_signal_handlers

        register_signal_handlers()
        extraction.register_signal_handlers()
