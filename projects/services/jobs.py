"""Background jobs (issue 13): the one writer of BackgroundJob rows.

A job is created with its task enqueued once the creating transaction commits. A worker
runs it only after `job_claim` moved it from 排队中 to 进行中 in one conditional update
under a row lock taken with SKIP LOCKED, so two workers (or a task enqueued twice after a
recovery) never run the same job. While it runs, `job_progress` records the progress and
a heartbeat; every write of a running job is conditional on this worker still holding it
(a job recovered away from a worker that only looked dead stops at its next write with
JobLost). `job_recover` re-queues a job left 进行中 by a killed worker once and fails it
after a second interruption; `job_expire` deletes expired files through the storage API.
"""

from __future__ import annotations

import datetime
import hashlib
import os

from django.core.files import File
from django.db import transaction
from django.utils import timezone

from projects.models.jobs import KEEP_FOR, BackgroundJob
from projects.services.errors import WorkflowError

Status = BackgroundJob.Status
# A job is run at most this many times (the first run and one retry after an interruption).
MAX_ATTEMPTS = 2
# A running job whose heartbeat is older than this is taken for interrupted (its worker was
# killed). Runners beat at least every 1,000 rows, so this leaves a wide margin.
STALE_AFTER = datetime.timedelta(minutes=10)

INTERRUPTED_REQUEUED = "上次执行被中断(执行进程意外终止),已自动重新排队。"
INTERRUPTED_TWICE = "任务两次执行都被中断(执行进程意外终止),已停止。请稍后重新发起。"


class JobLost(Exception):
    """This worker no longer holds the job (it was recovered or finished elsewhere)."""


def _enqueue(job_id: int) -> None:
    from projects.tasks import run_job

    run_job.enqueue(job_id)


def job_start(*, kind: str, owner, title: str, params: dict | None = None) -> BackgroundJob:
    """A new job in 排队中; its task is enqueued when the current transaction commits."""
    if kind not in BackgroundJob.Kind.values:
        raise WorkflowError(f"不支持的后台任务类型:{kind}。")
    if owner is None or not owner.is_active:
        raise WorkflowError("后台任务必须由有效的用户发起。")
    with transaction.atomic():
        job = BackgroundJob.objects.create(
            kind=kind, owner=owner, title=title[:200], params=params or {}
        )
        transaction.on_commit(lambda: _enqueue(job.pk))
    return job


def job_claim(*, job_id: int, worker_id: str) -> BackgroundJob | None:
    """Take a queued job for this worker, or None (taken by another, finished, unknown)."""
    now = timezone.now()
    with transaction.atomic():
        job = (
            BackgroundJob.objects.select_for_update(skip_locked=True)
            .filter(pk=job_id, status=Status.QUEUED)
            .first()
        )
        if job is None:
            return None
        # Conditional as well: SQLite has no row locks, the status check is what holds there.
        taken = BackgroundJob.objects.filter(pk=job.pk, status=Status.QUEUED).update(
            status=Status.RUNNING,
            attempts=job.attempts + 1,
            worker_id=worker_id[:64],
            heartbeat=now,
            started_at=now,
            done=0,
        )
        if not taken:
            return None
    job.refresh_from_db()
    return job


def _held(job: BackgroundJob):
    return BackgroundJob.objects.filter(pk=job.pk, status=Status.RUNNING, worker_id=job.worker_id)


def job_progress(*, job: BackgroundJob, done: int, total: int | None = None) -> None:
    """Record progress and a heartbeat; JobLost if this worker no longer holds the job."""
    fields = {"done": done, "heartbeat": timezone.now()}
    if total is not None:
        fields["total"] = total
    if not _held(job).update(**fields):
        raise JobLost(job.pk)
    job.done = done
    if total is not None:
        job.total = total


def _digest(path: str) -> tuple[int, str]:
    sha = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            sha.update(block)
    return os.path.getsize(path), sha.hexdigest()


def job_finish(
    *, job: BackgroundJob, path: str | None = None, filename: str = "", message: str = ""
) -> BackgroundJob:
    """已完成, with the produced file (a local temporary path) saved through the storage API."""
    now = timezone.now()
    fields = {
        "status": Status.DONE,
        "finished_at": now,
        "heartbeat": now,
        "message": message,
        "done": job.total or job.done,
    }
    stored = None
    if path is not None:
        size, sha256 = _digest(path)
        with open(path, "rb") as handle:
            stored = job.file.storage.save(
                job.file.field.generate_filename(job, filename), File(handle)
            )
        fields.update(
            file=stored, filename=filename, size=size, sha256=sha256, expires_at=now + KEEP_FOR
        )
    if not _held(job).update(**fields):
        if stored:
            job.file.storage.delete(stored)
        raise JobLost(job.pk)
    job.refresh_from_db()
    return job


def job_fail(*, job: BackgroundJob, message: str) -> bool:
    """失败 with the Chinese reason; False if this worker no longer held the job."""
    now = timezone.now()
    return bool(
        _held(job).update(status=Status.FAILED, message=message, finished_at=now, heartbeat=now)
    )


def job_recover(*, stale_after: datetime.timedelta = STALE_AFTER, now=None) -> dict[str, int]:
    """Running jobs whose worker stopped beating: re-queued once, failed the second time."""
    now = now or timezone.now()
    counts = {"requeued": 0, "failed": 0}
    with transaction.atomic():
        stale = BackgroundJob.objects.select_for_update(skip_locked=True).filter(
            status=Status.RUNNING, heartbeat__lt=now - stale_after
        )
        for job in stale:
            _close_orphan_tasks(job, now)
            if job.attempts < MAX_ATTEMPTS:
                BackgroundJob.objects.filter(pk=job.pk).update(
                    status=Status.QUEUED, worker_id="", message=INTERRUPTED_REQUEUED
                )
                transaction.on_commit(lambda pk=job.pk: _enqueue(pk))
                counts["requeued"] += 1
            else:
                BackgroundJob.objects.filter(pk=job.pk).update(
                    status=Status.FAILED, message=INTERRUPTED_TWICE, finished_at=now
                )
                counts["failed"] += 1
    return counts


def _close_orphan_tasks(job: BackgroundJob, now) -> None:
    """The task row a killed worker left 运行中 in django-tasks-db's table is closed as failed
    (nobody else would: the framework does not notice a dead worker)."""
    from django_tasks_db.compat import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    DBTaskResult.objects.filter(
        status=TaskResultStatus.RUNNING,
        task_path="projects.tasks.run_job",
        args_kwargs__args=[job.pk],
    ).update(status=TaskResultStatus.FAILED, finished_at=now)


def job_expire(*, now=None) -> int:
    """Finished files past their date: deleted from the storage, the job marked 已过期."""
    now = now or timezone.now()
    expired = 0
    due = BackgroundJob.objects.filter(status=Status.DONE, expires_at__lte=now)
    for job in due.only("pk", "file"):
        with transaction.atomic():
            locked = (
                BackgroundJob.objects.select_for_update(skip_locked=True)
                .filter(pk=job.pk, status=Status.DONE)
                .first()
            )
            if locked is None:
                continue
            if locked.file:
                locked.file.delete(save=False)
            BackgroundJob.objects.filter(pk=job.pk).update(
                status=Status.EXPIRED, file="", message="文件已超过保存期限,已删除。"
            )
            expired += 1
    return expired
