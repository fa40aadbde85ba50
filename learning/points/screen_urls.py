"""Office screens (`/screens/`): the kiosk page and its JSON snapshot, opened by a token."""

from django.urls import path

from learning.points import screen_views

urlpatterns = [
    path("<str:token>/", screen_views.screen_page, name="screen"),
    path("<str:token>/snapshot.json", screen_views.screen_snapshot_view, name="screen_snapshot"),
]
