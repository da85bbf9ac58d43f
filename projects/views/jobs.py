"""我的下载 (issue 13): start a background export, follow its progress, fetch its file.

Every lookup is `owner=request.user`: another person's job (or a guessed id) is a 404. The
file is read through the storage API and sent as a protected download, never a media URL.
"""

import mimetypes

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import path, reverse
from django.views.decorators.http import require_GET

from projects.downloads import protect_download
from projects.models import Invoice, Project
from projects.models.jobs import BackgroundJob
from projects.services.errors import WorkflowError
from projects.services.jobs import job_start

# Changelist parameters that are not filters (pagination, the admin's own markers).
NOT_FILTERS = {"p", "e", "_changelist_filters", "_to_field", "_popup", "all"}
EXPORTS = {
    "invoice": (Invoice, BackgroundJob.Kind.EXPORT_INVOICES, "发票"),
    "project": (Project, BackgroundJob.Kind.EXPORT_PROJECTS, "项目"),
}


def my_jobs(user):
    return BackgroundJob.objects.filter(owner=user)


def job_state(job: BackgroundJob) -> dict:
    return {
        "id": job.pk,
        "status": job.status,
        "status_label": job.get_status_display(),
        "done": job.done,
        "total": job.total,
        "percent": job.percent,
        "message": job.message,
        "download": reverse("projects:job_download", args=[job.pk]) if job.downloadable else "",
    }


def export_start(request, model: str):
    """后台导出 on a changelist: the current filters (the query string) become the job.
    Only a POST starts one; a GET (a bookmarked address) goes back to the list."""
    if model not in EXPORTS:
        raise Http404("没有这种导出。")
    model_cls, kind, label = EXPORTS[model]
    model_admin = admin.site._registry[model_cls]
    if not model_admin.has_export_permission(request):
        raise PermissionDenied
    changelist = reverse(f"admin:projects_{model}_changelist")
    if request.method != "POST":
        query = request.GET.urlencode()
        return redirect(f"{changelist}?{query}" if query else changelist)
    query = [
        [key, value]
        for key, values in request.GET.lists()
        if key not in NOT_FILTERS
        for value in values
    ]
    try:
        job = job_start(
            kind=kind,
            owner=request.user,
            title=f"{label}导出(后台)",
            params={"query": query},
        )
    except WorkflowError as exc:
        for message in exc.messages:
            messages.error(request, message)
        return redirect(changelist)
    messages.success(request, f"已开始在后台导出{label}。完成后可在“我的下载”中下载文件。")
    return redirect(f"{reverse('admin:projects_backgroundjob_changelist')}#job-{job.pk}")


@require_GET
def jobs_status(request):
    """The progress of the user's jobs named in ?ids=1,2 (for dangfei/jobs.js)."""
    ids = [int(part) for part in request.GET.get("ids", "").split(",")[:100] if part.isdigit()]
    jobs = my_jobs(request.user).filter(pk__in=ids)
    return JsonResponse({"jobs": [job_state(job) for job in jobs]})


def job_download(request, pk: int):
    """The owner's file; another person's job is the same 404 as one that does not exist."""
    job = get_object_or_404(my_jobs(request.user), pk=pk)
    try:
        handle = job.file.open("rb") if job.downloadable else None
    except (FileNotFoundError, OSError):
        handle = None
    if handle is None:
        messages.error(request, f"“{job.title}”的文件尚未生成、生成失败或已过期。")
        return redirect("admin:projects_backgroundjob_changelist")
    name = job.filename or f"下载-{job.pk}"
    content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
    return protect_download(FileResponse(handle, content_type=content_type), name)


# Before the admin site's own projects/backgroundjob/<id>/ routes (projects.urls comes first).
urlpatterns = [
    *(
        path(
            f"projects/{model}/background-export/",
            admin.site.admin_view(export_start),
            {"model": model},
            name=f"{model}_background_export",
        )
        for model in EXPORTS
    ),
    path("projects/backgroundjob/status/", admin.site.admin_view(jobs_status), name="jobs_status"),
    path(
        "projects/backgroundjob/<int:pk>/download/",
        admin.site.admin_view(job_download),
        name="job_download",
    ),
]
