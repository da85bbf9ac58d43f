"""Background jobs with real worker processes on PostgreSQL (issue 13): a job whose worker is
killed (SIGKILL) mid-way is retried once and completes; two workers on twenty jobs never run
a job twice. The workers are `manage.py run_worker` subprocesses on the test database."""

import datetime
import io
import os
import signal
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.core.files.storage import default_storage
from django.db import connection, transaction
from django.utils import timezone
from django_tasks_db.models import DBTaskResult
from openpyxl import load_workbook

from projects.models import BackgroundJob, Invoice
from projects.services.jobs import job_start
from tests.factories import BudgetLineFactory, ProjectFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
ROOT = Path(settings.BASE_DIR)
Status = BackgroundJob.Status


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def database_url() -> str:
    s = connection.settings_dict
    auth = quote(s["USER"] or "postgres")
    if s["PASSWORD"]:
        auth += ":" + quote(s["PASSWORD"])
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


def worker(media, *args) -> subprocess.Popen:
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "DJANGO_MEDIA_ROOT": str(media),
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DJANGO_DEBUG": "",
    }
    return subprocess.Popen(
        [sys.executable, "manage.py", "run_worker", "--interval", "0.2", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


def invoices(count: int, org=None) -> None:
    project = ProjectFactory(**({"organization": org} if org else {}))
    line = BudgetLineFactory(project=project, quantity=Decimal("1"), unit_price=Decimal("1.00"))
    today = timezone.localdate()
    Invoice.objects.bulk_create(
        [
            Invoice(
                project=project,
                budget_line=line,
                kind=Invoice.Kind.VAT_ORDINARY,
                code="3100231130",
                number=f"{n:08d}",
                identity=f"3100231130:{n:08d}",
                issue_date=today,
                seller_name="示例文化用品有限公司",
                seller_tax_id="91350100M000100Y43",
                buyer_name="甲社区党支部",
                amount=Decimal("10.00"),
                tax=Decimal("0.00"),
                total=Decimal("10.00"),
                created_by=project.leader,
            )
            for n in range(count)
        ],
        batch_size=5000,
    )


def wait_for(predicate, timeout=60.0, step=0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(step)
    raise AssertionError("等待超时")


def finish(process: subprocess.Popen, timeout=120) -> str:
    out, _ = process.communicate(timeout=timeout)
    return out.decode()


def test_a_job_whose_worker_is_killed_is_retried_once_and_completes(media, leader):
    rows = 20_000
    invoices(rows)
    job = job_start(kind=BackgroundJob.Kind.EXPORT_INVOICES, owner=leader, title="发票导出")
    first = worker(media, "--worker-id", "first")
    try:
        wait_for(lambda: BackgroundJob.objects.filter(pk=job.pk, done__gte=1000).exists())
        # Hold the worker at its next write of the job (progress or finish), so that it is
        # killed mid-way whatever the machine's speed, then kill it.
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("LOCK TABLE projects_backgroundjob IN EXCLUSIVE MODE")
            time.sleep(0.5)
            seen = BackgroundJob.objects.get(pk=job.pk)
            first.send_signal(signal.SIGKILL)
            first.wait(timeout=30)
    finally:
        if first.poll() is None:
            first.kill()
    assert seen.status == Status.RUNNING and seen.attempts == 1
    assert 1000 <= seen.done < rows and seen.worker_id.startswith("first")
    time.sleep(1.5)  # its heartbeat is now older than --stale-after
    second = worker(media, "--worker-id", "second", "--stale-after", "1", "--batch")
    output = finish(second)
    job.refresh_from_db()
    assert "重新排队 1 个" in output, output
    assert job.status == Status.DONE, (job.message, output)
    assert job.attempts == 2 and job.worker_id.startswith("second")
    assert job.done == job.total == rows
    with default_storage.open(job.file.name, "rb") as handle:
        sheet = load_workbook(io.BytesIO(handle.read()), read_only=True).active
        assert sum(1 for _ in sheet.iter_rows(values_only=True)) == rows + 1
    # The task row the killed worker left running is closed; the retry's task succeeded.
    tasks = DBTaskResult.objects.filter(args_kwargs__args=[job.pk]).order_by("enqueued_at")
    assert [t.status for t in tasks] == ["FAILED", "SUCCESSFUL"]
    assert [t.worker_ids for t in tasks] == [["first"], ["second"]]
    # Another recovery finds nothing to do: the job is not run a third time.
    third = worker(media, "--worker-id", "third", "--stale-after", "1", "--batch")
    assert "重新排队" not in finish(third)
    assert BackgroundJob.objects.get(pk=job.pk).attempts == 2


def test_two_workers_never_run_the_same_job(media, leader):
    invoices(300)
    jobs = [
        job_start(kind=BackgroundJob.Kind.EXPORT_INVOICES, owner=leader, title=f"导出{i}")
        for i in range(20)
    ]
    table = DBTaskResult._meta.db_table
    workers = []
    try:
        # Both workers wait at the start line (the task table locked), then go at once.
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(f"LOCK TABLE {table} IN EXCLUSIVE MODE")
                workers = [worker(media, "--worker-id", name, "--batch") for name in "AB"]

                def both_waiting():
                    cursor.execute(
                        "SELECT count(*) FROM pg_locks"
                        " WHERE NOT granted AND relation = %s::regclass",
                        [table],
                    )
                    return cursor.fetchone()[0] >= 2

                wait_for(both_waiting, timeout=90, step=0.1)
        outputs = [finish(process) for process in workers]
    finally:
        for process in workers:
            if process.poll() is None:
                process.kill()
    done = BackgroundJob.objects.filter(pk__in=[j.pk for j in jobs])
    assert all(job.status == Status.DONE for job in done), outputs
    assert {job.attempts for job in done} == {1}
    assert {job.worker_id.split("@")[0] for job in done} == {"A", "B"}
    tasks = DBTaskResult.objects.filter(task_path="projects.tasks.run_job")
    assert tasks.count() == 20
    assert all(len(task.worker_ids) == 1 for task in tasks)
    assert sorted(task.return_value for task in tasks) == ["done"] * 20
    assert all(job.finished_at - job.started_at < datetime.timedelta(minutes=5) for job in done)
