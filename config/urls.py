"""URL map; the members' side is in docs/design.md ("The members' URL map")."""

from django.conf import settings
from django.conf.urls.static import static
from django.urls import include, path
from wagtail import urls as wagtail_urls
from wagtail.admin import urls as wagtailadmin_urls
from wagtail.documents import urls as wagtaildocs_urls

from cms import search_views
from cms import views as cms_views
from learning import screen_views
from learning import views as learning_views

urlpatterns = [
    path("admin/", include(wagtailadmin_urls)),
    path("documents/", include(wagtaildocs_urls)),
    path("i18n/", include("django.conf.urls.i18n")),
    path("accounts/login/", learning_views.login_view, name="login"),
    path("accounts/logout/", learning_views.logout_view, name="logout"),
    path("accounts/password/", learning_views.password_change, name="password_change"),
    path("quiz/", include("quizzes.urls")),
    path("api/v1/", include("quizzes.api_urls")),
    path("search/", search_views.search_page, name="search"),
    path(
        "learn/lessons/<int:page_id>/heartbeat/",
        cms_views.lesson_heartbeat_view,
        name="lesson_heartbeat",
    ),
    path("screens/<str:token>/", screen_views.screen_page, name="screen"),
    path(
        "screens/<str:token>/snapshot.json",
        screen_views.screen_snapshot_view,
        name="screen_snapshot",
    ),
    path("", include("learning.urls")),
]

if settings.DEBUG:
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)

urlpatterns.append(path("", include(wagtail_urls)))
