"""Fixtures for the search backend tests: each backend on an index of its own.

``backend`` is parametrised: every test that takes it runs on the Whoosh backend and, where
the database is PostgreSQL (``DATABASE_URL=postgres://…``), on the PostgreSQL backend too
(its parameter is marked ``postgres`` and skipped elsewhere).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from modelsearch.backends import get_search_backend

from cms.search.signals import register_signal_handlers
from cms.search.storage import forget_searchers

#: The configuration of each backend as the tests use it: writes in the calling process.
BACKENDS = {
    "whoosh": {"BACKEND": "cms.search.backend"},
    "postgres": {"BACKEND": "cms.search.postgres"},
}
BACKEND_PARAMS = [
    pytest.param("whoosh", id="whoosh"),
    pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
]


@pytest.fixture
def index_dir(tmp_path: Path, settings) -> Iterator[Path]:
    directory = tmp_path / "search-index"
    settings.SEARCH_INDEX_DIR = directory
    settings.WAGTAILSEARCH_BACKENDS = {"default": BACKENDS["whoosh"]}
    forget_searchers()
    yield directory
    forget_searchers()


@pytest.fixture(params=BACKEND_PARAMS)
def backend_name(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def backend(backend_name: str, index_dir: Path, settings) -> Any:
    """The default search backend, Whoosh or PostgreSQL, writing in the calling process."""
    settings.WAGTAILSEARCH_BACKENDS = {"default": BACKENDS[backend_name]}
    register_signal_handlers()
    return get_search_backend()


@pytest.fixture
def whoosh_backend(index_dir: Path) -> Any:
    """The Whoosh backend alone, for what only it has (files, generations, the lock)."""
    register_signal_handlers()
    return get_search_backend()
