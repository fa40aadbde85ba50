"""Where an index lives on disk, and how it is swapped without readers noticing.

Layout under ``SEARCH_INDEX_DIR`` for an index named ``wagtailcore_page``::

    wagtailcore_page/
        CURRENT            name of the generation searches use, e.g. "g-20261127-0912-a1b2c3"
        g-…/               a complete Whoosh index (one generation)
        REBUILDING         name of the generation being rebuilt, while a rebuild runs
        g-….journal        keys written by ordinary updates while that rebuild runs
        .coordination      lock file for creating and swapping generations

A rebuild writes a new generation next to the live one and then replaces ``CURRENT`` with
``os.replace``, which is atomic: a search sees either the old complete index or the new
complete one. Updates that happen while the rebuild runs go to the live generation *and*
are listed in the journal; before the swap the rebuild re-reads those objects from the
database into the new generation, holding the live generation's write lock so nothing
slips in between. The previous generation stays on disk until the next swap, so a search
that opened it a moment before the swap still finishes.

Whoosh allows one writer per generation (a file lock). Writers wait for it for a bounded
time and then raise :class:`IndexBusyError` instead of Whoosh's bare ``LockError``.
"""

from __future__ import annotations

import fcntl
import os
import secrets
import shutil
import threading
import time
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.utils import timezone
from whoosh import index as whoosh_index
from whoosh.fields import FieldType, Schema
from whoosh.index import FileIndex, LockError
from whoosh.query import Query
from whoosh.searching import Searcher
from whoosh.writing import SegmentWriter

CURRENT = "CURRENT"
REBUILDING = "REBUILDING"
COORDINATION_LOCK = ".coordination"
GENERATION_PREFIX = "g-"
LOCK_POLL_SECONDS = 0.05
OPEN_ATTEMPTS = 10


class IndexBusyError(RuntimeError):
    """Another process held the index's write lock for longer than we may wait."""


@dataclass
class IndexStore:
    """The generations of one named index in one directory."""

    directory: Path
    write_timeout: float = 30.0

    # --- generations ---------------------------------------------------------

    def current_generation(self) -> str | None:
        try:
            name = (self.directory / CURRENT).read_text(encoding="ascii").strip()
        except FileNotFoundError:
            return None
        return name or None

    def generation_path(self, generation: str) -> Path:
        return self.directory / generation

    def open(self, generation: str) -> FileIndex:
        """Open ``generation``, retrying while another process's commit replaces its TOC.

        Whoosh finds the newest table of contents by listing the directory and then opens
        it; a commit in another process between the two deletes that file. Whoosh's own
        readers retry in that case, but opening the index does not, so we do.
        """
        path = self.generation_path(generation)
        for attempt in range(OPEN_ATTEMPTS):
            try:
                return whoosh_index.open_dir(str(path))
            except FileNotFoundError:
                if attempt == OPEN_ATTEMPTS - 1 or not path.is_dir():
                    raise
                time.sleep(LOCK_POLL_SECONDS)
        raise AssertionError("unreachable")

    def create_generation(self, schema: Schema) -> str:
        """Create an empty generation directory with ``schema``; do not publish it."""
        stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
        generation = f"{GENERATION_PREFIX}{stamp}-{secrets.token_hex(3)}"
        path = self.generation_path(generation)
        path.mkdir(parents=True)
        whoosh_index.create_in(str(path), schema)
        return generation

    def publish(self, generation: str) -> None:
        """Point ``CURRENT`` at ``generation`` atomically (write a temp file, rename it)."""
        self._write_atomically(CURRENT, generation)

    def ensure(self, schema: Schema) -> str:
        """The current generation, creating and publishing an empty one if there is none."""
        generation = self.current_generation()
        if generation is not None:
            return generation
        with self.coordination_lock():
            generation = self.current_generation()
            if generation is None:
                generation = self.create_generation(schema)
                self.publish(generation)
        return generation

    def remove_stale_generations(self, keep: set[str]) -> None:
        """Delete generations that are neither in ``keep`` nor current nor being rebuilt."""
        keep = keep | {self.current_generation(), self.rebuilding()} - {None}
        for path in self.directory.glob(f"{GENERATION_PREFIX}*"):
            name = path.name.removesuffix(".journal")
            if name in keep:
                continue
            if path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)

    # --- rebuild bookkeeping -------------------------------------------------

    def rebuilding(self) -> str | None:
        try:
            name = (self.directory / REBUILDING).read_text(encoding="ascii").strip()
        except FileNotFoundError:
            return None
        return name or None

    def start_rebuild(self, generation: str) -> None:
        self._journal_path(generation).touch()
        self._write_atomically(REBUILDING, generation)

    def end_rebuild(self, generation: str) -> None:
        if self.rebuilding() == generation:
            (self.directory / REBUILDING).unlink(missing_ok=True)
        self._journal_path(generation).unlink(missing_ok=True)

    def journal_append(self, generation: str, keys: list[tuple[str, str]]) -> None:
        """Record ``(model label, pk)`` pairs written while ``generation`` is being rebuilt."""
        lines = "".join(f"{label} {pk}\n" for label, pk in keys)
        descriptor = os.open(
            self._journal_path(generation), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644
        )
        try:
            os.write(descriptor, lines.encode())
        finally:
            os.close(descriptor)

    def journal_read(self, generation: str) -> list[tuple[str, str]]:
        try:
            text = self._journal_path(generation).read_text(encoding="utf-8")
        except FileNotFoundError:
            return []
        keys = []
        for line in text.splitlines():
            label, _, pk = line.partition(" ")
            if label and pk:
                keys.append((label, pk))
        return list(dict.fromkeys(keys))

    def _journal_path(self, generation: str) -> Path:
        return self.directory / f"{generation}.journal"

    # --- locks ---------------------------------------------------------------

    @contextmanager
    def coordination_lock(self, timeout: float | None = None) -> Iterator[None]:
        """An exclusive lock for creating or swapping generations (not for writing them)."""
        timeout = self.write_timeout if timeout is None else timeout
        self.directory.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(self.directory / COORDINATION_LOCK, os.O_WRONLY | os.O_CREAT, 0o644)
        try:
            deadline = time.monotonic() + timeout
            while True:
                try:
                    fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        raise IndexBusyError(
                            f"Search index {self.directory} is being created or swapped by "
                            f"another process; gave up after {timeout:g} s."
                        ) from None
                    time.sleep(LOCK_POLL_SECONDS)
            yield
        finally:
            os.close(descriptor)  # closing the descriptor releases the lock

    def locked_writer(
        self, generation: str, timeout: float | None = None, **writer_options: object
    ) -> SegmentWriter:
        """A Whoosh writer for ``generation``, waiting at most ``timeout`` for its lock."""
        timeout = self.write_timeout if timeout is None else timeout
        try:
            return self.open(generation).writer(
                timeout=timeout, delay=LOCK_POLL_SECONDS, **writer_options
            )
        except LockError as error:
            raise IndexBusyError(
                f"Search index {self.directory.name} ({generation}) stayed locked by another "
                f"writer for {timeout:g} s; the update was not applied."
            ) from error

    def _write_atomically(self, name: str, content: str) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        temporary = self.directory / f".{name}.{secrets.token_hex(4)}.tmp"
        temporary.write_text(content + "\n", encoding="ascii")
        os.replace(temporary, self.directory / name)


def add_missing_fields(writer: SegmentWriter, wanted: dict[str, FieldType]) -> None:
    """Add fields that a newer model definition needs to an existing index's schema."""
    for name, field_type in wanted.items():
        if name not in writer.schema:
            writer.add_field(name, field_type)


# --- searchers ----------------------------------------------------------------------


@dataclass
class _CachedSearcher:
    generation: str
    pointer_stamp: tuple[int, int]
    directory_stamp: int
    searcher: Searcher = field(repr=False)


_local = threading.local()
# A generation directory changed less than this long ago may have been committed to twice
# within the file system's timestamp resolution; ask Whoosh instead of trusting mtimes.
_RECENT_SECONDS = 2.0


def _stamp(path: Path) -> tuple[int, int]:
    status = path.stat()
    return status.st_ino, status.st_mtime_ns


def cached_searcher(store: IndexStore) -> Searcher | None:
    """An open searcher on the current generation, reused per thread while still fresh.

    Opening a Whoosh index reads its table of contents and segment files, which costs
    milliseconds; a query should not pay that. Two ``stat`` calls tell whether ``CURRENT``
    moved to another generation or the generation got a new commit; only then is a new
    searcher opened (file timestamps are coarse, so a very recent change also asks Whoosh
    for the latest commit number). Searchers are
    per thread because Whoosh does not promise that one searcher serves threads safely.
    """
    cache: dict[str, _CachedSearcher] = _local.__dict__.setdefault("searchers", {})
    key = str(store.directory)
    try:
        pointer_stamp = _stamp(store.directory / CURRENT)
    except FileNotFoundError:
        cache.pop(key, None)
        return None
    cached = cache.get(key)
    if cached is not None and cached.pointer_stamp == pointer_stamp:
        directory_stamp = store.generation_path(cached.generation).stat().st_mtime_ns
        fresh = directory_stamp == cached.directory_stamp
        if fresh and time.time() - directory_stamp / 1e9 > _RECENT_SECONDS:
            return cached.searcher
        if fresh and cached.searcher.up_to_date():
            return cached.searcher
    # Whoosh's Searcher.refresh() would reuse segment readers, but it keeps a segment's
    # old reader when only that segment's deletions changed (a deleted page would stay
    # findable), so a changed index gets a newly opened searcher instead.
    for attempt in range(3):
        generation = store.current_generation()
        if generation is None:
            return None
        try:
            path = store.generation_path(generation)
            directory_stamp = path.stat().st_mtime_ns
            searcher = store.open(generation).searcher()
            break
        except (FileNotFoundError, whoosh_index.EmptyIndexError):
            # A swap or commit removed files between listing and opening them.
            if attempt == 2:
                raise
            time.sleep(LOCK_POLL_SECONDS)
            pointer_stamp = _stamp(store.directory / CURRENT)
    if cached is not None:
        cached.searcher.close()
    cache[key] = _CachedSearcher(generation, pointer_stamp, directory_stamp, searcher)
    return searcher


_filter_sets: weakref.WeakKeyDictionary[Searcher, dict[Any, set[int]]] = weakref.WeakKeyDictionary()
#: Distinct filters remembered per searcher (live pages, a section, a content type …).
FILTER_CACHE_SIZE = 32


def filter_documents(searcher: Searcher, filter_query: Query) -> set[int]:
    """The document numbers matching ``filter_query``, remembered for this searcher.

    Whoosh evaluates a query filter into a set of document numbers on every search, a
    few milliseconds for 10,000 pages. The same handful of filters (live pages of one
    type) recur in every query, and a searcher is a fixed snapshot, so the set is computed
    once per searcher and reused until the next commit opens a new one. Callers must
    not change the set; Whoosh wants a ``set`` and ignores an empty one, so check for
    emptiness before searching.
    """
    cache = _filter_sets.setdefault(searcher, {})
    found = cache.get(filter_query)
    if found is None:
        found = set(searcher.docs_for_query(filter_query))
        if len(cache) >= FILTER_CACHE_SIZE:
            cache.pop(next(iter(cache)))
        cache[filter_query] = found
    return found


def forget_searchers() -> None:
    """Close this thread's cached searchers (tests, and after a process forks)."""
    cache: dict[str, _CachedSearcher] = _local.__dict__.setdefault("searchers", {})
    for cached in cache.values():
        cached.searcher.close()
    cache.clear()
