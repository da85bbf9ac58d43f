from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

urlpatterns = [
    path("", RedirectView.as_view(url="/admin/", permanent=False)),
    path("admin/", include("projects.urls")),
    path("admin/", admin.site.urls),
]

# A lost database connection outside the view (e.g. while saving the session) is a 503 too.
handler500 = "config.middleware.server_error"
