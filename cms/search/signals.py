"""Keep the index right when a page moves.

modelsearch re-indexes an object when it is saved or deleted. Moving a page saves only the
page itself: treebeard rewrites its descendants' ``path`` and ``depth`` with one SQL update,
so their ``path`` filter values in the index would go stale, and searches limited to a
section (``descendant_of``) would miss them. This handler re-syncs the whole subtree.

Call :func:`register_signal_handlers` from the ``cms`` app config's ``ready()``.
"""

from __future__ import annotations

from typing import Any

from modelsearch.backends import get_search_backends_with_name
from wagtail.models import Page
from wagtail.signals import post_page_move


def reindex_subtree(page: Page) -> None:
    """Sync ``page`` and all its descendants with every auto-updated Whoosh backend."""
    from cms.search.backend import WhooshSearchBackend

    pks = list(Page.objects.descendant_of(page, inclusive=True).values_list("pk", flat=True))
    for _, backend in get_search_backends_with_name(with_auto_update=True):
        if isinstance(backend, WhooshSearchBackend):
            backend.sync_later(Page, pks)


def _page_moved(sender: Any, instance: Page, **kwargs: Any) -> None:
    reindex_subtree(instance)


def register_signal_handlers() -> None:
    post_page_move.connect(_page_moved, dispatch_uid="cms.search.page_moved")
