from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from projects.views.documents import public_urlpatterns

urlpatterns = [
    path("", RedirectView.as_view(url="/admin/", permanent=False)),
    path("admin/signin/", include("twofactor.urls")),
    path("admin/", include("projects.urls")),
    path("admin/", admin.site.urls),
    # The verification page a printed document's QR leads to: public, no login.
    *public_urlpatterns,
]

# A lost database connection outside the view (e.g. while saving the session) is a 503 too.
handler500 = "config.middleware.server_error"
