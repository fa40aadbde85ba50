"""The project's URL map only includes: each app wires its own routes."""

from __future__ import annotations

from django.urls import URLResolver

from config import urls


def test_config_urls_only_includes_the_apps_url_modules() -> None:
    routes = [pattern for pattern in urls.urlpatterns if not isinstance(pattern, URLResolver)]
    assert routes == [], [str(route.pattern) for route in routes]
