"""Fixtures for the search backend tests: an index directory of their own, the backend on it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from modelsearch.backends import get_search_backend

from cms.search.backend import WhooshSearchBackend
from cms.search.signals import register_signal_handlers
from cms.search.storage import forget_searchers


@pytest.fixture
def index_dir(tmp_path: Path, settings) -> Iterator[Path]:
    directory = tmp_path / "search-index"
    settings.SEARCH_INDEX_DIR = directory
    settings.WAGTAILSEARCH_BACKENDS = {"default": {"BACKEND": "cms.search.backend"}}
    forget_searchers()
    yield directory
    forget_searchers()


@pytest.fixture
def backend(index_dir: Path) -> WhooshSearchBackend:
    register_signal_handlers()
    search_backend = get_search_backend()
    assert isinstance(search_backend, WhooshSearchBackend)
    return search_backend
