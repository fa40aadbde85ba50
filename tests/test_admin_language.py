"""The admin speaks Chinese to the people who use it: no English left in its interface.

A secretary, an editor and an approver each walk the admin pages their menus offer (and
the pages behind them: page edit and create, member edit, a page awaiting approval),
with Chinese as the language. Every visible text, label, button, title, placeholder and
accessible name is read from the HTML, and the menus from the JSON Wagtail renders them
from (the sidebar props). A word of Latin letters there is English the user sees, unless
it is data (usernames, emails, codes, URLs, numbers) or one of the few names below.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.urls import reverse
from wagtail.documents.models import Document
from wagtail.images.tests.utils import get_test_image_file

from tests.factories.pages import add_course, add_lesson
from tests.factories.people import MemberFactory

# Names that stay as they are in a Chinese interface. Keep it short: each entry is a name
# or a file format, never a word of the interface.
ACCEPTED_WORDS = {
    "PDF",  # file formats, written the same in Chinese text
    "Excel",
    "CSV",
    "XLSX",
    "DOCX",
    "GIFT",  # the question import formats are named after their specifications
    "Aiken",
    "Moodle",  # named in the question help text for its partial-credit convention
    "API",
    "Wagtail",  # product names: "Wagtail 8.0 编辑指南", "需要 JavaScript"
    "JavaScript",
    "English",  # a language named in its own language, so its readers find it
}

# Text Wagtail writes into its templates without a msgid, so no catalogue can translate
# it: (where, text) → why it may stay. Both are read only by screen readers.
WAGTAIL_LITERALS = {
    ("<input value>", "Search"): "the no-JavaScript submit button of the search box, "
    "visually hidden (w-sr-only); the search field itself has a Chinese label",
    ("<nav aria-label>", "Actions"): "the name of the header's button bar "
    "(wagtailadmin/shared/headers/_actions.html)",
}

# Attributes whose text a person sees or hears.
TEXT_ATTRIBUTES = {"title", "placeholder", "aria-label", "alt", "data-w-tooltip-content-value"}
# Elements whose content is not interface text.
# <kbd>: key names (Ctrl, Shift, Esc) are written as they are printed on the keys.
SKIPPED_ELEMENTS = {"script", "style", "code", "pre", "svg", "textarea", "kbd"}
VOID_ELEMENTS = {
    "area",
    "base",
    "br",
    "col",
    "embed",
    "hr",
    "img",
    "input",
    "link",
    "meta",
    "source",
    "track",
    "wbr",
}

WORD = re.compile(r"[^\s]+")
LATIN_WORD = re.compile(r"^[\(\[\"'“‘«]*([A-Za-z][a-z]*|[A-Za-z]+)[\)\]\"'”’».,:;!?…]*$")


def english_words(text: str) -> list[str]:
    """The words of ``text`` that are English interface words, not data.

    A token with a digit, ``_``, ``@``, ``/``, ``.`` inside or ``-`` is a username, code,
    email, URL or number: data. A token in capitals only is a code (ZB1, DW). What is
    left and made of Latin letters is a word somebody forgot to translate.
    """
    found = []
    for token in WORD.findall(text):
        match = LATIN_WORD.match(token)
        if not match:
            continue
        word = match.group(1)
        if len(word) < 2 or word.isupper() or word in ACCEPTED_WORDS:
            continue
        found.append(word)
    return found


class InterfaceText(HTMLParser):
    """Collects the texts a person sees or hears on a page, and Wagtail's JSON props."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.texts: list[tuple[str, str]] = []
        self.json_blobs: list[tuple[str, str]] = []
        self._stack: list[str] = []
        self._hidden_depth: int | None = None
        self._json_id: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "script" and attributes.get("type") == "application/json":
            self._json_id = attributes.get("id") or "json"
        if tag in VOID_ELEMENTS:
            if self._hidden_depth is None:
                self._attribute_texts(tag, attributes)
            return
        self._stack.append(tag)
        hidden = "hidden" in attributes or attributes.get("aria-hidden") == "true"
        if hidden and self._hidden_depth is None:
            # Seen by nobody until a script shows it; its text is checked where it is shown.
            self._hidden_depth = len(self._stack)
        if self._hidden_depth is None:
            self._attribute_texts(tag, attributes)

    def _attribute_texts(self, tag: str, attributes: dict[str, str | None]) -> None:
        for name in TEXT_ATTRIBUTES:
            value = attributes.get(name)
            if value:
                self.texts.append((f"<{tag} {name}>", value))
        if tag == "input" and attributes.get("type") in {"submit", "button"}:
            self.texts.append(("<input value>", attributes.get("value") or ""))

    def handle_endtag(self, tag: str) -> None:
        if tag in self._stack:
            while self._stack and self._stack.pop() != tag:
                pass
        if self._hidden_depth is not None and len(self._stack) < self._hidden_depth:
            self._hidden_depth = None
        if tag == "script":
            self._json_id = None

    def handle_data(self, data: str) -> None:
        if self._json_id is not None:
            self.json_blobs.append((self._json_id, data))
            return
        if self._hidden_depth is not None or any(tag in SKIPPED_ELEMENTS for tag in self._stack):
            return
        if data.strip():
            self.texts.append((f"<{self._stack[-1] if self._stack else ''}>", data.strip()))


def _json_labels(value: Any, key: str = "") -> Iterator[str]:
    """The human-readable strings in Wagtail's sidebar props and config."""
    if isinstance(value, dict):
        for child_key, child in value.items():
            yield from _json_labels(child, child_key)
    elif isinstance(value, list):
        for child in value:
            yield from _json_labels(child, key)
    elif isinstance(value, str) and key in {"label", "footer_text", "title", "STRINGS_VALUE"}:
        yield value


def _config_strings(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for child in value.values():
            yield from _config_strings(child)
    elif isinstance(value, list):
        for child in value:
            yield from _config_strings(child)
    elif isinstance(value, str):
        yield value


@dataclass
class Finding:
    url: str
    where: str
    text: str
    words: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        return f"{self.url} {self.where}: {self.text[:120]!r} {self.words}"


def english_on_page(url: str, html: str) -> list[Finding]:
    parser = InterfaceText()
    parser.feed(html)
    findings = []
    for where, text in parser.texts:
        if (where, text) in WAGTAIL_LITERALS:
            continue
        words = english_words(text)
        if words:
            findings.append(Finding(url, where, text, words))
    for blob_id, blob in parser.json_blobs:
        try:
            data = json.loads(blob)
        except ValueError:
            continue
        if blob_id == "wagtail-config":
            strings = list(_config_strings(data.get("STRINGS", {})))
        else:
            strings = list(_json_labels(data))
        for text in strings:
            words = english_words(text)
            if words:
                findings.append(Finding(url, f"json {blob_id}", text, words))
    return findings


def menu_urls(html: str) -> list[str]:
    """Every admin URL in the sidebar the user is shown."""
    parser = InterfaceText()
    parser.feed(html)
    urls: list[str] = []

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            url = value.get("url")
            if isinstance(url, str) and url.startswith("/admin/") and url not in urls:
                urls.append(url)
            for child in value.values():
                walk(child)
        elif isinstance(value, list):
            for child in value:
                walk(child)

    for blob_id, blob in parser.json_blobs:
        if blob_id == "wagtail-sidebar-props":
            walk(json.loads(blob))
    return urls


# --- the pure helpers -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("81 Pages created in 智慧党建", ["Pages", "created", "in"]),
        ("Exploring: Root", ["Exploring", "Root"]),
        ("Referenced 0 times", ["Referenced", "times"]),
        ("Search all pages…", ["Search", "all", "pages"]),
        ("已被更新", []),
        ("secretary_a zhang@example.org /admin/users/ 2026-12-07 ZB1", []),
        ("导出 PDF 或 Excel", []),
    ],
)
def test_english_words_are_told_apart_from_data(text, words):
    assert english_words(text) == words


def test_menu_labels_in_the_sidebar_json_are_read():
    props = {
        "modules": [
            {
                "_type": "x",
                "_args": [{"name": "explorer", "label": "Pages", "url": "/admin/pages/"}],
            }
        ]
    }
    html = (
        '<script id="wagtail-sidebar-props" type="application/json">'
        + json.dumps(props)
        + "</script>"
    )
    findings = english_on_page("/admin/", html)
    assert [finding.text for finding in findings] == ["Pages"]
    assert menu_urls(html) == ["/admin/pages/"]


def test_attributes_and_buttons_are_read_but_scripts_are_not():
    html = (
        '<input type="search" placeholder="Search all pages…">'
        '<button aria-label="Close">×</button><script>var Pages = 1;</script>'
        '<input type="submit" value="保存">'
    )
    texts = [finding.text for finding in english_on_page("/", html)]
    assert texts == ["Search all pages…", "Close"]


def test_what_nobody_sees_is_not_read():
    html = (
        '<div hidden><span>None</span></div><p aria-hidden="true">Icon</p><p>Shown <b>again</b></p>'
    )
    texts = [finding.text for finding in english_on_page("/", html)]
    assert texts == ["Shown", "again"]


# --- the walk ---------------------------------------------------------------------------


@pytest.fixture
def admin_content(content, editor, tree):
    """A course with a lesson waiting for approval, an image, a document and a member."""
    course = add_course("党史学习")
    lesson = add_lesson(course, "待审课时")
    lesson.save_revision(user=editor)
    workflow = lesson.get_workflow()
    workflow.start(lesson, editor)
    from wagtail.images.models import Image

    image = Image.objects.create(title="党建活动照片", file=get_test_image_file())
    document = Document.objects.create(
        title="党章全文", file=ContentFile(b"%PDF-1.4\n", name="dangzhang.pdf")
    )
    member = MemberFactory(username="zhang_san", display_name="张三", organization=tree.branch_a1)
    return {
        "course": course,
        "lesson": lesson,
        "member": member,
        "image": image,
        "document": document,
    }


def _walk(client, user, extra_urls: list[str]) -> list[Finding]:
    client.force_login(user)
    dashboard = client.get("/admin/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert dashboard.status_code == 200
    urls = ["/admin/", *menu_urls(dashboard.content.decode()), *extra_urls]
    findings: list[Finding] = []
    visited = set()
    for url in urls:
        if url in visited:
            continue
        visited.add(url)
        response = client.get(url, HTTP_ACCEPT_LANGUAGE="zh-hans", follow=True)
        assert response.status_code == 200, url
        if "html" not in response.get("Content-Type", ""):
            continue
        findings.extend(english_on_page(url, response.content.decode()))
    return findings


def _unique(findings: list[Finding]) -> list[str]:
    seen: dict[str, str] = {}
    for finding in findings:
        seen.setdefault(finding.text, str(finding))
    return sorted(seen.values())


def test_a_secretary_sees_no_english_in_the_admin(client, secretary_a, admin_content):
    member = admin_content["member"]
    extra = [
        reverse("wagtailusers_users:index"),
        reverse("wagtailusers_users:edit", args=[member.pk]),
        reverse("wagtailusers_users:add"),
        reverse("assignments:add"),
        reverse("wagtailadmin_account"),
    ]
    english = _unique(_walk(client, secretary_a, extra))
    assert english == [], "\n".join(english)


def test_an_editor_sees_no_english_in_the_admin(client, editor, admin_content):
    course, lesson = admin_content["course"], admin_content["lesson"]
    extra = [
        reverse("wagtailadmin_explore_root"),
        reverse("wagtailadmin_explore", args=[course.pk]),
        reverse("wagtailadmin_pages:edit", args=[lesson.pk]),
        reverse("wagtailadmin_pages:add_subpage", args=[course.pk]),
        reverse("wagtailadmin_pages:add", args=["cms", "lessonpage", course.pk]),
        reverse("wagtailadmin_pages:history", args=[lesson.pk]),
        reverse("wagtailimages:add_multiple"),
        reverse("wagtailimages:edit", args=[admin_content["image"].pk]),
        reverse("wagtaildocs:add_multiple"),
        reverse("wagtaildocs:edit", args=[admin_content["document"].pk]),
        reverse("wagtailsnippets:index"),
        reverse("wagtailsnippets_quizzes_question:add"),
        reverse("wagtailsnippets_cms_coursecategory:add"),
        reverse("quiz_admin:add"),
        reverse("question_categories:add"),
        reverse("assignments:add"),
        reverse("wagtailadmin_account"),
    ]
    english = _unique(_walk(client, editor, extra))
    assert english == [], "\n".join(english)


def test_an_approver_sees_no_english_in_the_admin(client, approver, admin_content):
    lesson = admin_content["lesson"]
    extra = [
        reverse("wagtailadmin_explore", args=[lesson.get_parent().pk]),
        reverse("wagtailadmin_pages:edit", args=[lesson.pk]),
        reverse("wagtailadmin_pages:workflow_history", args=[lesson.pk]),
        reverse("wagtailadmin_account"),
    ]
    english = _unique(_walk(client, approver, extra))
    assert english == [], "\n".join(english)
