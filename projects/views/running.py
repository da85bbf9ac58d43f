"""Views of the running area, under /admin/ (staff login, scoped by Project.objects.visible_to).

Uploaded files are served only here, never from a media URL: the row is looked up through
the same scoping as the admin (another organisation's file is a 404), and the response is
always a download that the browser may not sniff into HTML.
"""

import tempfile

from django.contrib import admin
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404
from django.urls import path

from projects.downloads import protect_download
from projects.models import Document, Project
from projects.services.archive import archive_write
from projects.services.documents import safe_filename


def document_download(request, pk: int):
    document = get_object_or_404(Document.objects.visible_to(request.user), pk=pk)
    try:
        handle = document.file.open("rb")
    except (FileNotFoundError, OSError) as exc:
        raise Http404("文件不存在。") from exc
    response = FileResponse(handle, content_type=document.content_type)
    return protect_download(response, safe_filename(document.original_name))


def archive_download(request, pk: int):
    """三(五) 归档: the project's whole file as one zip, for whoever may see the project."""
    project = get_object_or_404(Project.objects.visible_to(request.user), pk=pk)
    # Spooled: small archives stay in memory, large ones (many photos) go to disk.
    target = tempfile.SpooledTemporaryFile(max_size=16 * 1024 * 1024)
    archive_write(project, target)
    target.seek(0)
    response = FileResponse(target, content_type="application/zip")
    return protect_download(response, f"{project.code}-项目档案.zip")


urlpatterns = [
    path(
        "projects/document/<int:pk>/download/",
        admin.site.admin_view(document_download),
        name="document_download",
    ),
    path(
        "projects/project/<int:pk>/archive/",
        admin.site.admin_view(archive_download),
        name="project_archive",
    ),
]
