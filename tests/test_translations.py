"""The Chinese catalogue is complete, and the interface really speaks both languages."""

from __future__ import annotations

from pathlib import Path

import polib
import pytest
from django.urls import reverse
from django.utils import translation

CATALOGUE = Path(__file__).resolve().parent.parent / "locale/zh_Hans/LC_MESSAGES/django.po"


def test_every_catalogue_entry_is_translated_and_not_fuzzy():
    catalogue = polib.pofile(str(CATALOGUE))
    untranslated = [entry.msgid for entry in catalogue.untranslated_entries()]
    fuzzy = [entry.msgid for entry in catalogue.fuzzy_entries()]
    assert untranslated == []
    assert fuzzy == []


def test_placeholders_survive_translation():
    catalogue = polib.pofile(str(CATALOGUE))
    for entry in catalogue.translated_entries():
        for placeholder in ("%(row)d", "%(column)s", "%(count)d", "%(code)s", "%(phone)s"):
            if placeholder in entry.msgid:
                translations = (
                    entry.msgstr_plural.values() if entry.msgid_plural else [entry.msgstr]
                )
                for translation_text in translations:
                    assert placeholder in translation_text, entry.msgid


def test_chinese_is_the_default_and_english_is_available(client):
    response = client.get(reverse("login"))
    assert response.status_code == 200
    assert 'lang="zh-hans"' in response.content.decode()
    with translation.override("zh-hans"):
        assert translation.gettext("Username or mobile number") == "用户名或手机号"
    with translation.override("en"):
        assert translation.gettext("Username or mobile number") == "Username or mobile number"


@pytest.mark.django_db
def test_language_switch_changes_the_page_language(client):
    response = client.post(reverse("set_language"), {"language": "en", "next": "/accounts/login/"})
    assert response.status_code == 302
    content = client.get(reverse("login")).content.decode()
    assert 'lang="en"' in content
