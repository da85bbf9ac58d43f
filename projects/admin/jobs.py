"""我的下载: each person's own background jobs, read-only (issue 13).

The list shows status, a progress bar that dangfei/jobs.js refreshes from the JSON status
endpoint (no inline script or style: the CSP refuses both), the reason of a failure and the
download link while the file is kept. Nobody adds, changes or deletes a job here.
"""

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html
from django_tasks_db.models import DBTaskResult

from projects.dates import format_datetime
from projects.models.jobs import BackgroundJob

# django-tasks-db's own admin of its task rows (English, raw arguments and tracebacks) is not
# for the people of this back-office: they see 我的下载; operators read the worker's log.
if admin.site.is_registered(DBTaskResult):
    admin.site.unregister(DBTaskResult)


@admin.register(BackgroundJob)
class BackgroundJobAdmin(admin.ModelAdmin):
    change_list_template = "admin/projects/backgroundjob/change_list.html"
    list_display = [
        "title_anchor",
        "status_display",
        "progress_display",
        "message_display",
        "created_display",
        "expires_display",
        "download_display",
    ]
    list_display_links = None
    list_filter = ["status"]
    list_per_page = 50
    show_full_result_count = False
    actions = None

    def get_queryset(self, request):
        return super().get_queryset(request).filter(owner=request.user)

    def get_urls(self):
        # The list is the whole page: no change, history or delete page of a job (another
        # person's job id leads nowhere; the download is projects.views.jobs, owner only).
        name = f"{self.opts.app_label}_{self.opts.model_name}_changelist"
        return [pattern for pattern in super().get_urls() if pattern.name == name]

    def has_module_permission(self, request) -> bool:
        return request.user.is_active and request.user.is_staff

    def has_view_permission(self, request, obj=None) -> bool:
        user = request.user
        if not (user.is_active and user.is_staff):
            return False
        return obj is None or obj.owner_id == user.pk

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    # --- columns ------------------------------------------------------------------------

    @admin.display(description="名称")
    def title_anchor(self, obj):
        return format_html('<span id="job-{}">{}</span>', obj.pk, obj.title)

    @admin.display(description="状态")
    def status_display(self, obj):
        return format_html('<span data-job-status="{}">{}</span>', obj.pk, obj.get_status_display())

    @admin.display(description="进度")
    def progress_display(self, obj):
        active = obj.status in (BackgroundJob.Status.QUEUED, BackgroundJob.Status.RUNNING)
        return format_html(
            '<progress max="100" value="{}" data-job="{}" data-active="{}"></progress>'
            ' <span data-job-percent="{}">{} %</span>'
            ' <span class="job-count" data-job-count="{}">{}</span>',
            obj.percent,
            obj.pk,
            "1" if active else "0",
            obj.pk,
            obj.percent,
            obj.pk,
            f"{obj.done:,} / {obj.total:,}" if obj.total else "",
        )

    @admin.display(description="说明")
    def message_display(self, obj):
        return format_html('<span data-job-message="{}">{}</span>', obj.pk, obj.message)

    @admin.display(description="创建时间")
    def created_display(self, obj):
        return format_datetime(obj.created_at)

    @admin.display(description="保存至")
    def expires_display(self, obj):
        return format_datetime(obj.expires_at) if obj.expires_at else ""

    @admin.display(description="下载")
    def download_display(self, obj):
        if obj.downloadable:
            url = reverse("projects:job_download", args=[obj.pk])
            return format_html(
                '<a href="{}" data-job-download="{}">下载 {}</a>', url, obj.pk, obj.filename
            )
        return format_html('<span data-job-download="{}"></span>', obj.pk)
