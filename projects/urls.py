"""Custom pages beside the admin's own (prints, downloads, ledgers, reports), one module an
area. Mounted under /admin/ before the admin site, with paths that the admin does not use."""

from projects.views import archive, documents, jobs, money, printing, reports, running

app_name = "projects"
urlpatterns = [
    *printing.urlpatterns,
    *running.urlpatterns,
    *money.urlpatterns,
    *reports.urlpatterns,
    *documents.urlpatterns,
    *jobs.urlpatterns,
    *archive.urlpatterns,
]
