"""Text written by people, shown in the member's language.

Interface text goes through gettext. Text that administrators and editors write (a
points rule's name, an index page's introduction) is data: it is written in the
platform's language (``LANGUAGE_CODE``, Simplified Chinese), and some of it has an
optional English version beside it. ``in_active_language`` picks the one to show.
"""

from __future__ import annotations

from django.conf import settings
from django.utils.translation import get_language


def english_is_active() -> bool:
    """Is the request (or the ``translation.override`` block) in English?"""
    language = get_language() or settings.LANGUAGE_CODE
    return language != settings.LANGUAGE_CODE and language.split("-")[0] == "en"


def in_active_language(default: str, english: str) -> str:
    """``english`` when English is active and it was written, else ``default``.

    Falling back keeps what an administrator wrote in Chinese only visible, rather
    than showing nothing.
    """
    if english and english_is_active():
        return english
    return default
