from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class QuizzesConfig(AppConfig):
    name = "quizzes"
    verbose_name = _("Quizzes")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Attempts are the subject of integrity flags (learning.integrity.subjects).
        from quizzes.taking.flag_subjects import attempt_subject_register

        attempt_subject_register()

        # Attempts and the wrong-answer book in a member's data (learning.people.privacy).
        from quizzes.taking.personal_data import quiz_sections_register

        quiz_sections_register()
