"""Readable page slugs: ASCII words, or the numbered pattern the demo uses.

Wagtail makes a page's slug from its title. From a Chinese title that is a Chinese slug,
and every link to the page reads ``/courses/course-5/%E8%AF%BB%E5%8E%9F…``. Here a page
whose title has no ASCII spelling is numbered instead, among its siblings:

- a course: ``course-N``;
- a lesson: ``lesson-N-M`` in course ``course-N`` (``lesson-M`` in a course named
  otherwise);
- a policy document: ``policy-YYYY-NN`` by the year it was issued.

A slug the editor typed in ASCII is kept; a Chinese one is numbered like an empty one.
The next number follows the highest one in use, counting the old addresses of renamed or
moved pages that still redirect: an address in links members have is not given to another
page. (A number below the highest is never reused; a deleted page leaves no redirect, so
deleting the highest-numbered page frees its number.) Slug changes leave redirects behind
(``wagtail.contrib.redirects``, see docs/study.md).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from django.utils.text import slugify
from django.utils.translation import gettext_lazy as _
from wagtail.admin.forms import WagtailAdminPageForm
from wagtail.contrib.redirects.models import Redirect
from wagtail.models import Page


def ascii_slug_of_title(title: str) -> str:
    """The title's slug when all of its words are ASCII (else ``""``: number the page)."""
    ascii_slug = slugify(title)
    if ascii_slug and ascii_slug == slugify(title, allow_unicode=True):
        return ascii_slug
    return ""


def next_numbered_slug(prefix: str, taken: Iterable[str], *, width: int = 1) -> str:
    """``prefix`` and one more than the highest number that follows it in ``taken``."""
    pattern = re.compile(re.escape(prefix) + r"(\d+)")
    numbers = [int(match.group(1)) for slug in taken if (match := pattern.fullmatch(slug))]
    return f"{prefix}{max(numbers, default=0) + 1:0{width}d}"


def is_ascii_slug(slug: str) -> bool:
    """True for a slug that links read as typed (no percent-encoded characters)."""
    return bool(slug) and slug.isascii()


def redirected_slugs_under(parent: Page) -> list[str]:
    """The slugs of addresses under ``parent`` that redirect elsewhere (renamed, moved).

    Such an address is still in links members have; a new page numbered with it would
    take it over (a live page wins over a redirect), so its number counts as used.
    """
    url_parts = parent.get_url_parts()
    if url_parts is None:
        return []
    prefix = Redirect.normalise_path(url_parts[2]).rstrip("/") + "/"
    old_paths = Redirect.objects.filter(old_path__startswith=prefix).values_list(
        "old_path", flat=True
    )
    return [path.removeprefix(prefix) for path in old_paths if "/" not in path[len(prefix) :]]


class ReadableSlugMixin:
    """A page that numbers itself when its title gives no ASCII slug.

    Runs before Wagtail fills in an empty slug (in ``full_clean`` and ``minimal_clean``),
    once the page's parent is known: when it is added to the tree, or on every later save.
    """

    slug_number_width = 1
    # False when the number depends on fields the editor has not filled in yet (a year).
    slug_number_known_in_advance = True

    def numbered_slug_prefix(self, parent: Page) -> str:
        raise NotImplementedError

    def numbered_slug_under(self, parent: Page) -> str:
        """The next free numbered slug among ``parent``'s children."""
        taken = [
            *Page.objects.child_of(parent).exclude(pk=self.pk).values_list("slug", flat=True),
            *redirected_slugs_under(parent),
        ]
        return next_numbered_slug(
            self.numbered_slug_prefix(parent), taken, width=self.slug_number_width
        )

    def make_slug_readable(self) -> None:
        if is_ascii_slug(self.slug):
            return
        parent = self._parent_if_known()
        if parent is None:
            return
        if not self.slug and ascii_slug_of_title(self.title):
            return  # Wagtail makes the slug from the title's ASCII words.
        self.slug = self.numbered_slug_under(parent)

    def _parent_if_known(self) -> Page | None:
        if self.path:
            return self.get_parent()
        return getattr(self, "_cached_parent_obj", None)

    def full_clean(self, *args: Any, **kwargs: Any) -> None:
        self.make_slug_readable()
        super().full_clean(*args, **kwargs)

    def minimal_clean(self) -> None:
        self.make_slug_readable()
        super().minimal_clean()


SLUG_HELP = _(
    "The page's address: ASCII letters, digits and hyphens. Left empty or typed in Chinese, "
    "it is numbered (e.g. lesson-5-2). After a change the old address leads here."
)


class ReadableSlugPageForm(WagtailAdminPageForm):
    """Shows a new page's numbered slug in the admin, so the editor sees its address.

    Wagtail's script copies the title into the slug only while the slug is empty or still
    matches the title, so a Chinese title leaves this slug alone; an editor may type an
    ASCII one instead.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if "slug" not in self.fields or self.parent_page is None:
            return
        # Wagtail's script empties the slug of a Chinese title: that means "number it".
        self.fields["slug"].required = False
        self.fields["slug"].help_text = SLUG_HELP
        page = self.instance
        if page.pk is None and page.slug_number_known_in_advance and not self.initial.get("slug"):
            self.initial["slug"] = page.numbered_slug_under(self.parent_page)

    def clean_slug(self) -> str:
        # A Chinese slug is left empty here: the page numbers itself when it is saved,
        # once every field it numbers by (a policy document's year) is on it.
        slug = self.cleaned_data.get("slug") or ""
        if not is_ascii_slug(slug):
            return ""
        if self._offered_number_taken_since(slug):
            # Another editor's page took the number offered when this form opened: the
            # page takes the next one when it is saved, not an error about a slug the
            # editor never typed.
            return ""
        return slug

    def _offered_number_taken_since(self, slug: str) -> bool:
        page = self.instance
        if page.pk is not None or not page.slug_number_known_in_advance:
            return False
        prefix = page.numbered_slug_prefix(self.parent_page)
        if not re.fullmatch(re.escape(prefix) + r"\d+", slug):
            return False
        return not Page._slug_is_available(slug, self.parent_page, page)
