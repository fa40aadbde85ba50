"""URL map: only includes; each app wires its own routes in its ``urls`` modules.

The members' side is described in docs/design.md ("The members' URL map").
"""

from django.conf import settings
from django.conf.urls.static import static
from django.urls import include, path
from wagtail import urls as wagtail_urls
from wagtail.admin import urls as wagtailadmin_urls
from wagtail.documents import urls as wagtaildocs_urls

urlpatterns = [
    # The health endpoints first: a load balancer's probe never reaches another app.
    path("", include("ops.urls")),
    path("admin/", include(wagtailadmin_urls)),
    path("documents/", include(wagtaildocs_urls)),
    path("i18n/", include("django.conf.urls.i18n")),
    path("accounts/", include("learning.account_urls")),
    path("quiz/", include("quizzes.urls")),
    path("api/v1/", include("quizzes.api.urls")),
    path("screens/", include("learning.points.screen_urls")),
    path("", include("cms.urls")),
    path("", include("learning.urls")),
]

if settings.DEBUG:
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)

# Last: Wagtail serves every path no route above claimed, as a page of its tree.
urlpatterns.append(path("", include(wagtail_urls)))
