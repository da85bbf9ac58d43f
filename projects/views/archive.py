"""The archive package download (issue 13): the stored bytes of a closed project's package,
the same the `archive_package` command writes. Staff, scoped: another organisation's
project is a 404; a project without a package gets a Chinese message, never a 500."""

from django.contrib import admin, messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import path, reverse

from projects.downloads import protect_download
from projects.models import Project
from projects.services.errors import WorkflowError


def archive_package_download(request, pk: int):
    from projects.archive.package import package_filename, stored_package

    project = get_object_or_404(Project.objects.visible_to(request.user), pk=pk)
    try:
        _package, data = stored_package(project)
    except WorkflowError as exc:
        for text in exc.messages:
            messages.error(request, text)
        return redirect(reverse("admin:projects_project_change", args=[project.pk]))
    response = HttpResponse(data, content_type="application/zip")
    return protect_download(response, package_filename(project))


urlpatterns = [
    path(
        "projects/project/<int:pk>/archive/package/",
        admin.site.admin_view(archive_package_download),
        name="project_archive_package",
    ),
]
