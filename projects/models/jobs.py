"""Long work in the background (issue 13): what the user sees in 我的下载.

One row a job the user started (an export, the reminders …). The task framework's own row
(django_tasks_db's DBTaskResult) only says "run run_job(id)"; this row holds what the
person sees and what a worker needs to run the job exactly once: status, progress, the
Chinese reason of a failure, the produced file (on the default storage, served only to its
owner through projects.views.jobs), attempts, the worker that holds it and its heartbeat.
"""

import datetime

from django.conf import settings
from django.db import models
from django.utils import timezone

# A finished file is kept this long, then job_expire deletes it from the storage.
KEEP_FOR = datetime.timedelta(days=7)


def job_file_path(job, filename: str) -> str:
    # Never the user's name for the file on disk: the job id and a fixed extension.
    ext = filename.rsplit(".", 1)[-1].lower() if "." in filename else "bin"
    return f"jobs/{timezone.now():%Y/%m}/job-{job.pk}.{ext[:8]}"


class BackgroundJob(models.Model):
    class Kind(models.TextChoices):
        REMINDERS = "reminders", "发送待办提醒"
        EXPORT_INVOICES = "export_invoices", "导出发票"
        EXPORT_PROJECTS = "export_projects", "导出项目"

    class Status(models.TextChoices):
        QUEUED = "queued", "排队中"
        RUNNING = "running", "进行中"
        DONE = "done", "已完成"
        FAILED = "failed", "失败"
        EXPIRED = "expired", "已过期"

    kind = models.CharField("类型", max_length=30, choices=Kind.choices)
    title = models.CharField("名称", max_length=200)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="background_jobs",
        verbose_name="发起人",
    )
    params = models.JSONField("参数", default=dict, blank=True)
    status = models.CharField(
        "状态", max_length=10, choices=Status.choices, default=Status.QUEUED, db_index=True
    )
    done = models.PositiveBigIntegerField("已完成", default=0)
    total = models.PositiveBigIntegerField("总数", default=0)
    message = models.TextField("说明", blank=True)
    file = models.FileField("文件", upload_to=job_file_path, max_length=200, blank=True)
    filename = models.CharField("文件名", max_length=200, blank=True)
    size = models.PositiveBigIntegerField("大小(字节)", default=0)
    sha256 = models.CharField("SHA-256", max_length=64, blank=True)
    attempts = models.PositiveSmallIntegerField("执行次数", default=0)
    worker_id = models.CharField("执行进程", max_length=64, blank=True)
    heartbeat = models.DateTimeField("最近心跳", null=True, blank=True)
    created_at = models.DateTimeField("创建时间", default=timezone.now)
    started_at = models.DateTimeField("开始时间", null=True, blank=True)
    finished_at = models.DateTimeField("结束时间", null=True, blank=True)
    expires_at = models.DateTimeField("到期时间", null=True, blank=True)

    class Meta:
        verbose_name = "我的下载"
        verbose_name_plural = "我的下载"
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["owner", "-created_at"], name="job_owner_recent"),
            models.Index(fields=["status", "heartbeat"], name="job_status_heartbeat"),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def percent(self) -> int:
        if self.status == self.Status.DONE:
            return 100
        if not self.total:
            return 0
        return min(100, self.done * 100 // self.total)

    @property
    def downloadable(self) -> bool:
        return (
            self.status == self.Status.DONE
            and bool(self.file)
            and (self.expires_at is None or self.expires_at > timezone.now())
        )
