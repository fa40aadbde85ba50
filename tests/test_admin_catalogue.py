"""Our catalogue never gives a Wagtail or Django string a different meaning.

Django looks a msgid up in the project's catalogue first (``LOCALE_PATHS``), then in the
installed apps' catalogues. An entry of ours whose msgid Wagtail also uses therefore
replaces Wagtail's text in the admin: "Pages" translated for the pager as 分页 turned the
admin's Pages menu into "pagination". The project's own meanings carry a message context
(``pgettext``) instead; the differences left are the synonyms listed here.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import polib
import pytest
from django.apps import apps
from django.conf import settings

ROOT = Path(__file__).resolve().parent.parent
CATALOGUE = ROOT / "locale/zh_Hans/LC_MESSAGES/django.po"
WAGTAIL_SUPPLEMENT = ROOT / "locale_wagtail/zh_Hans/LC_MESSAGES/django.po"

# msgid → why our wording may stand in for the installed app's. Each is a synonym (or the
# more precise word) in every place the app uses the string; none changes its meaning.
SYNONYMS_ALLOWED = {
    "Image": "图片 and 图像 both mean image; 图片 is the everyday word",
    "description": "说明 and 描述 both mean description",
    "Text": "正文 (body text) where Django says 文本 (text): same thing in a form",
    "Email": "电子邮箱 (email address) is what the field holds; Wagtail says 电子邮件",
    "active": "启用 (enabled) for an account or a rule; Wagtail's 有效 means the same here",
    "English": "a language's name in its own language, so English readers find it",
    "Last login": "最近登录 and 上次登录 both mean the last login",
    "Not started": "未开始 is the usual wording; Wagtail's 未启动 reads as a machine",
    "created at": "创建时间 and 创建于 both label a creation time",
    "finished at": "完成时间 and 完成于 both label a finishing time",
    "started at": "开始时间 and 启动于 both label a starting time",
    "Skip to main content": "跳到正文 and 跳到主要内容 both skip to the content",
    "Filter": "筛选 is the usual word for filtering a list; 过滤器 is a device",
    "Previous": "上一页: Wagtail uses it only in pagination, as we do",
    "Next": "下一页: Wagtail uses it only in pagination, as we do",
    "Breadcrumb": "导航路径 and 面包屑导航 both name the breadcrumb trail",
    "Log out": "退出登录 is the usual wording for 注销",
    "Actions": "操作 is the usual word for a column of actions; 动作 is literal",
    "All": "全部 and 所有 both mean all",
    "Saving…": "the same words with a Chinese ellipsis",
    "name": "名称 (the name of a thing), as Wagtail's forms and Django's auth say; 名字 too",
}


def _app_catalogues() -> list[tuple[str, polib.POFile]]:
    """The zh_Hans catalogue of every installed app that has one, and Django's own."""
    catalogues = []
    django_conf = Path(__import__("django").__file__).parent / "conf/locale"
    candidates = [("django", django_conf)] + [
        (config.label, Path(config.path) / "locale") for config in apps.get_app_configs()
    ]
    project_dirs = {Path(path).resolve() for path in settings.LOCALE_PATHS}
    for label, locale_dir in candidates:
        if locale_dir.resolve() in project_dirs:
            continue
        po_path = locale_dir / "zh_Hans/LC_MESSAGES/django.po"
        if po_path.exists():
            catalogues.append((label, polib.pofile(str(po_path))))
    return catalogues


def _english_msgids(domain: str = "django") -> set[tuple[str | None, str]]:
    """Every msgid the installed Wagtail apps use, translated into Chinese or not."""
    msgids: set[tuple[str | None, str]] = set()
    for config in apps.get_app_configs():
        if not config.name.startswith("wagtail"):
            continue
        po_path = Path(config.path) / f"locale/en/LC_MESSAGES/{domain}.po"
        if po_path.exists():
            msgids |= {(entry.msgctxt, entry.msgid) for entry in polib.pofile(str(po_path))}
    return msgids


def catalogue_differences() -> dict[str, list[str]]:
    """Our msgids that an installed app translates differently, with both translations."""
    ours = polib.pofile(str(CATALOGUE))
    theirs: dict[tuple[str | None, str], list[tuple[str, str]]] = {}
    for label, catalogue in _app_catalogues():
        for entry in catalogue.translated_entries():
            theirs.setdefault((entry.msgctxt, entry.msgid), []).append((label, entry.msgstr))
    differences: dict[str, list[str]] = {}
    for entry in ours.translated_entries():
        for label, msgstr in theirs.get((entry.msgctxt, entry.msgid), []):
            if msgstr.strip() != entry.msgstr.strip():
                differences.setdefault(entry.msgid, []).append(
                    f"ours {entry.msgstr!r}, {label} {msgstr!r}"
                )
    return differences


def test_every_difference_from_an_installed_apps_translation_is_a_listed_synonym():
    differences = catalogue_differences()
    unexplained = {
        msgid: found for msgid, found in differences.items() if msgid not in SYNONYMS_ALLOWED
    }
    assert unexplained == {}


def test_the_synonym_list_names_only_real_differences():
    stale = set(SYNONYMS_ALLOWED) - set(catalogue_differences())
    assert stale == set()


def test_our_catalogue_does_not_fill_wagtails_gaps_with_the_projects_meanings():
    """A Wagtail msgid Wagtail leaves untranslated belongs in the Wagtail supplement.

    "Shortcuts" (the admin's keyboard shortcuts) read 常用入口, the home page's shortcuts,
    because the project's catalogue supplied the only Chinese for it.
    """
    wagtail_msgids = _english_msgids()
    translated_by_apps = {
        (entry.msgctxt, entry.msgid)
        for _label, catalogue in _app_catalogues()
        for entry in catalogue.translated_entries()
    }
    ours = polib.pofile(str(CATALOGUE))
    filled = sorted(
        entry.msgid
        for entry in ours.translated_entries()
        if (entry.msgctxt, entry.msgid) in wagtail_msgids - translated_by_apps
    )
    assert filled == []


@pytest.mark.parametrize("domain", ["django", "djangojs"])
def test_the_wagtail_supplement_translates_only_wagtails_untranslated_strings(domain):
    supplement = polib.pofile(str(WAGTAIL_SUPPLEMENT.with_name(f"{domain}.po")))
    wagtail_msgids = _english_msgids(domain)
    foreign = [
        entry.msgid
        for entry in supplement
        if not entry.obsolete and (entry.msgctxt, entry.msgid) not in wagtail_msgids
    ]
    assert foreign == []
    assert supplement.untranslated_entries() == []
    assert supplement.fuzzy_entries() == []
    # Never a second opinion on what Wagtail already translates: it would replace it.
    translated_by_wagtail = set()
    for config in apps.get_app_configs():
        po_path = Path(config.path) / f"locale/zh_Hans/LC_MESSAGES/{domain}.po"
        if config.name.startswith("wagtail") and po_path.exists():
            translated_by_wagtail |= {
                (entry.msgctxt, entry.msgid)
                for entry in polib.pofile(str(po_path)).translated_entries()
            }
    overriding = [
        entry.msgid for entry in supplement if (entry.msgctxt, entry.msgid) in translated_by_wagtail
    ]
    assert overriding == []


@pytest.mark.parametrize("domain", ["django", "djangojs"])
def test_placeholders_survive_in_the_wagtail_supplement(domain):
    supplement = polib.pofile(str(WAGTAIL_SUPPLEMENT.with_name(f"{domain}.po")))
    placeholder = re.compile(r"%\(\w+\)[sd]|\{\w+\}")
    for entry in supplement.translated_entries():
        wanted = set(placeholder.findall(entry.msgid_plural or entry.msgid))
        translations = entry.msgstr_plural.values() if entry.msgid_plural else [entry.msgstr]
        for text in translations:
            assert set(placeholder.findall(text)) <= wanted | set(placeholder.findall(entry.msgid))
            if not entry.msgid_plural:
                assert set(placeholder.findall(text)) == wanted, entry.msgid


def test_the_admin_javascript_speaks_chinese(client, editor):
    client.force_login(editor)
    response = client.get("/admin/jsi18n/")
    assert response.status_code == 200
    catalogue = response.content.decode()
    for words in ("区块", "此菜单中有"):
        assert words in catalogue or json.dumps(words)[1:-1] in catalogue
