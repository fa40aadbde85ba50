"""Playwright fixtures: one headless Chromium per session, a fresh context per page.

The browser is the system Chromium (never downloaded). When it is missing the browser
tests are skipped, unless ``REQUIRE_BROWSER_TESTS=1`` (CI), where that is a failure.
The database is per test: tests use ``live_server`` with
``@pytest.mark.django_db(transaction=True, serialized_rollback=True)`` so the rows
created by data migrations (roles, the home page, the site) are restored each time.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
CHROMIUM_PATH = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
SCREENSHOT_DIR = Path(
    os.environ.get("SCREENSHOT_DIR", REPO_ROOT / "var" / "test-artifacts" / "screenshots")
)
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]

MOBILE = {"width": 390, "height": 844}
SMALL_MOBILE = {"width": 360, "height": 740}
DESKTOP = {"width": 1280, "height": 800}

BROWSER_DIR = Path(__file__).resolve().parent


def _browser_unavailable_reason() -> str | None:
    if not Path(CHROMIUM_PATH).exists():
        return f"Chromium not found at {CHROMIUM_PATH} (set CHROMIUM_PATH)"
    if importlib.util.find_spec("playwright") is None:
        return "the playwright package is not installed"
    return None


def _browser_required() -> bool:
    return os.environ.get("REQUIRE_BROWSER_TESTS") == "1"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark everything in this folder as a browser test; skip it all without Chromium."""
    reason = _browser_unavailable_reason()
    for item in items:
        if BROWSER_DIR not in Path(str(item.path)).parents:
            continue
        item.add_marker(pytest.mark.browser)
        if reason and not _browser_required():
            item.add_marker(pytest.mark.skip(reason=reason))


def _serialized_test_databases() -> dict[str, str]:
    from django.db import connections

    return {
        alias: connections[alias]._test_serialized_contents
        for alias in connections
        if hasattr(connections[alias], "_test_serialized_contents")
    }


def _restore_serialized_test_databases(contents: dict[str, str]) -> None:
    from django.db import connections

    for alias, serialized in contents.items():
        connections[alias]._test_serialized_contents = serialized


@pytest.fixture(scope="session")
def browser(django_db_setup: None) -> Iterator[Any]:
    """Headless system Chromium, shared by all browser tests."""
    reason = _browser_unavailable_reason()
    if reason:
        # Only reached when REQUIRE_BROWSER_TESTS=1; otherwise collection skipped us.
        pytest.fail(f"{reason} (REQUIRE_BROWSER_TESTS=1, so this is an error)", pytrace=False)
    from playwright.sync_api import sync_playwright

    serialized = _serialized_test_databases()
    # Playwright's sync API runs an event loop in this thread; Django would otherwise
    # refuse database access from the test body as "async-unsafe". Set only while the
    # browser runs, so the rest of the suite keeps Django's guard.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        # Once Playwright's event loop runs in this thread, Django keeps connections in
        # context-local storage: new connection objects without the snapshot taken when
        # the test database was created. Hand it over so serialized_rollback still works.
        _restore_serialized_test_databases(serialized)
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM_PATH, headless=True, args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()
    if previous is None:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    else:
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def new_page(browser: Any, live_server: Any) -> Iterator[Callable[..., Any]]:
    """Open a page in a fresh context (own cookies) with the given viewport."""
    contexts: list[Any] = []

    def open_page(viewport: dict[str, int] = MOBILE, **options: Any) -> Any:
        mobile = viewport["width"] < 768
        settings = {
            "viewport": viewport,
            "device_scale_factor": 2 if mobile else 1,
            "is_mobile": mobile,
            "has_touch": mobile,
            "base_url": live_server.url,
            # Members' phones are set to Chinese; Django picks the language from this.
            "locale": "zh-CN",
            "timezone_id": "Asia/Shanghai",
            **options,
        }
        context = browser.new_context(**settings)
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context.new_page()

    yield open_page
    for context in contexts:
        context.close()


@pytest.fixture(scope="session")
def screenshot_dir() -> Path:
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    return SCREENSHOT_DIR


@pytest.fixture
def screenshot(screenshot_dir: Path) -> Callable[[Any, str], Path]:
    """Save a full-page screenshot as ``<name>.png`` for people to look at."""

    def take(page: Any, name: str) -> Path:
        path = screenshot_dir / f"{name}.png"
        # Grow the viewport to the whole page first, so fixed elements (the phone tab
        # bar) are drawn where a member sees them: at the bottom, not mid-page.
        viewport = page.viewport_size
        height = page.evaluate("() => document.documentElement.scrollHeight")
        page.set_viewport_size(
            {"width": viewport["width"], "height": max(height, viewport["height"])}
        )
        try:
            page.screenshot(path=str(path), full_page=True)
        finally:
            page.set_viewport_size(viewport)
        return path

    return take
