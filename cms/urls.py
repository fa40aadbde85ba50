"""The CMS's own routes beside Wagtail's page tree: search and the lesson heartbeat."""

from django.urls import path

from cms import search_views, views

urlpatterns = [
    path("search/", search_views.search_page, name="search"),
    path(
        "learn/lessons/<int:page_id>/heartbeat/",
        views.lesson_heartbeat_view,
        name="lesson_heartbeat",
    ),
]
