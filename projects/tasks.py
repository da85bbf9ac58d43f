"""The task the workers run (django-tasks, database backend): run_job(job_id).

What a job does is looked up by its kind in RUNNERS, an explicit table in this module (no
registry filled in at import time by other modules). A runner gets the claimed job and
reports progress through `job_progress`; it ends with `job_finish` or raises JobFailed with
the Chinese reason the user reads in 我的下载.
"""

from __future__ import annotations

import datetime
import itertools
import logging
import os
import tempfile
import time

from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.core.exceptions import FieldError, PermissionDenied, SuspiciousOperation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import QueryDict
from django.test import RequestFactory
from django.utils import timezone
from django_tasks import task

from projects.models import Invoice, Project
from projects.models.jobs import BackgroundJob
from projects.services.jobs import (
    JobLost,
    job_claim,
    job_fail,
    job_finish,
    job_progress,
)

logger = logging.getLogger(__name__)
Kind = BackgroundJob.Kind
# Progress (and the heartbeat) is written after the first PROGRESS_EVERY rows, then at most
# once every PROGRESS_SECONDS (checked every PROGRESS_EVERY rows): a million-row export
# writes about one row of progress a second, not a thousand commits.
PROGRESS_EVERY = 1000
PROGRESS_SECONDS = 1.0
# The changelist query a job may carry: bounded, plain strings.
MAX_QUERY_PAIRS = 40
MAX_QUERY_VALUE = 500


class JobFailed(Exception):
    """A refusal the user reads: the job ends 失败 with this Chinese message."""


def worker_label(context) -> str:
    ids = list(getattr(context.task_result, "worker_ids", None) or [])
    return f"{(ids[-1] if ids else 'worker')[:40]}@{os.getpid()}"


@task(takes_context=True)
def run_job(context, job_id: int) -> str:
    job = job_claim(job_id=job_id, worker_id=worker_label(context))
    if job is None:
        # Taken by another worker, already finished, or recovered: nothing to do here.
        return "skipped"
    runner = RUNNERS[job.kind]
    try:
        runner(job)
    except JobLost:
        return "lost"
    except JobFailed as exc:
        job_fail(job=job, message=str(exc))
        return "failed"
    except Exception:
        logger.exception("background job %s failed", job.pk)
        job_fail(job=job, message="任务执行出错,已停止。请稍后重试;如仍失败,请联系管理员。")
        return "failed"
    return "done"


# --- reminders ------------------------------------------------------------------------------


def run_reminders(job: BackgroundJob) -> None:
    from projects.reminders import send_reminders

    today = job.params.get("today")
    try:
        day = datetime.date.fromisoformat(today) if today else timezone.localdate()
    except (TypeError, ValueError) as exc:
        raise JobFailed(f"提醒日期“{today}”无效。") from exc
    job_progress(job=job, done=0, total=1)
    run = send_reminders(day)
    sent = sum(1 for line in run.lines if line.startswith("已提醒"))
    if run.failed:
        # The failed ones are not marked as reminded: the next run sends them again.
        raise JobFailed(
            f"共发送 {sent} 封提醒邮件,{len(run.failed)} 封发送失败(下次运行时重发):"
            + ";".join(run.failed)[:1000]
        )
    job_finish(job=job, message=f"共发送 {sent} 封提醒邮件。")


# --- xlsx exports of a changelist -----------------------------------------------------------

EXPORTS = {
    Kind.EXPORT_INVOICES: (Invoice, "invoice", "发票"),
    Kind.EXPORT_PROJECTS: (Project, "project", "项目"),
}


def changelist_query(params: dict) -> QueryDict:
    """The changelist filters the job was started with, checked for shape."""
    pairs = params.get("query", [])
    if not isinstance(pairs, list) or len(pairs) > MAX_QUERY_PAIRS:
        raise JobFailed("导出的筛选条件无效,请回到列表重新筛选后再导出。")
    query = QueryDict(mutable=True)
    for pair in pairs:
        if (
            not isinstance(pair, list | tuple)
            or len(pair) != 2
            or not all(isinstance(part, str) and len(part) <= MAX_QUERY_VALUE for part in pair)
        ):
            raise JobFailed("导出的筛选条件无效,请回到列表重新筛选后再导出。")
        query.appendlist(*pair)
    return query


def export_queryset(job: BackgroundJob):
    """The changelist's queryset for the job's owner: the admin's own scoping (visible_to),
    filters, search and ordering, as the admin's 导出 Excel button uses it."""
    model, _key, label = EXPORTS[job.kind]
    model_admin = admin.site._registry[model]
    query = changelist_query(job.params)
    request = RequestFactory().get("/", data=query)
    request.user = job.owner
    if not (job.owner.is_active and model_admin.has_export_permission(request)):
        raise JobFailed(f"您没有导出{label}的权限。")
    try:
        queryset = model_admin.get_export_queryset(request)
        total = queryset.count()
    except (
        IncorrectLookupParameters,
        SuspiciousOperation,
        PermissionDenied,
        FieldError,
        DjangoValidationError,
        ValueError,
        TypeError,
    ) as exc:
        shown = "&".join(f"{k}={v}" for k, v in query.items())[:200]
        raise JobFailed(
            f"导出的筛选条件无效(“{shown}”),请回到{label}列表重新筛选后再导出。"
        ) from exc
    return queryset, total


def run_export(job: BackgroundJob) -> None:
    """One xlsx export as a job: the rows stream from the database in chunks into XlsxWriter
    in constant-memory mode (a temporary file), which is then saved through the storage API.
    The columns are the export resource's (the same as the admin's 导出 Excel)."""
    from projects.exchange import export as ie
    from projects.exchange.writer import write_xlsx

    _model, key, label = EXPORTS[job.kind]
    queryset, total = export_queryset(job)
    job_progress(job=job, done=0, total=total)
    resource = ie.RESOURCES[key](user=job.owner)

    def blocks():
        # Blocks of PROGRESS_EVERY rows, chained in C: this generator is resumed once a
        # block (to count and report), not once a row as the writer takes them.
        stream, done, written = ie.stream_rows(resource, queryset), 0, None
        while block := list(itertools.islice(stream, PROGRESS_EVERY)):
            yield block
            done += len(block)
            if len(block) < PROGRESS_EVERY:
                break  # the last block: job_finish records the total
            now = time.monotonic()
            if written is None or now - written >= PROGRESS_SECONDS:
                job_progress(job=job, done=done)
                written = now

    handle, path = tempfile.mkstemp(suffix=".xlsx")
    os.close(handle)
    try:
        headers, kinds = ie.export_headers(resource), ie.export_kinds(resource)
        write_xlsx(path, headers, itertools.chain.from_iterable(blocks()), sheet=label, kinds=kinds)
        stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
        job_finish(job=job, path=path, filename=f"{label}导出-{stamp}.xlsx")
    finally:
        os.unlink(path)


RUNNERS = {
    Kind.REMINDERS: run_reminders,
    Kind.EXPORT_INVOICES: run_export,
    Kind.EXPORT_PROJECTS: run_export,
}
