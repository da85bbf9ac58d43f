"""Background jobs (issue 13): the job_* services, the run_job task run by the real worker
command in-process (SQLite), the export's scope and filters, 我的下载 and its downloads."""

import datetime
import io

import pytest
from django.core.files.storage import default_storage
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.management.commands.db_worker import Worker
from django_tasks_db.models import DBTaskResult
from openpyxl import load_workbook

from projects.models import BackgroundJob, Project, State
from projects.services.jobs import (
    INTERRUPTED_REQUEUED,
    INTERRUPTED_TWICE,
    JobLost,
    job_claim,
    job_expire,
    job_fail,
    job_finish,
    job_progress,
    job_recover,
    job_start,
)
from tests.factories import PASSWORD, ProjectFactory
from tests.projects import fixtures_money, fixtures_running
from tests.projects.fixtures_money import add_invoices

accepted = fixtures_money.accepted
in_progress = fixtures_running.in_progress
in_acceptance = fixtures_running.in_acceptance
Status = BackgroundJob.Status
Kind = BackgroundJob.Kind


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def start(owner, kind=Kind.EXPORT_PROJECTS, query=(), capture=None):
    with capture(execute=True):
        return job_start(
            kind=kind,
            owner=owner,
            title="项目导出(后台)",
            params={"query": [list(p) for p in query]},
        )


def run_queued():
    """What a worker does with each ready task (db_worker's claim and run_task), in-process:
    the worker loop itself closes the connection between tasks, which would end the test's
    transaction; the loop is exercised by the PostgreSQL tests with real worker processes."""
    worker = Worker(
        queue_names=["default"],
        interval=0,
        batch=True,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id="test-worker",
        excluded_queue_names=[],
    )
    for result in DBTaskResult.objects.ready().order_by("enqueued_at"):
        result.claim(worker.worker_id)
        worker.run_task(result)


def sheet_rows(job):
    with default_storage.open(job.file.name, "rb") as handle:
        sheet = load_workbook(io.BytesIO(handle.read()), read_only=True).active
        return [tuple(row) for row in sheet.iter_rows(values_only=True)]


def titles_of(job):
    rows = sheet_rows(job)
    index = rows[0].index("项目名称")
    return {row[index] for row in rows[1:]}


def login(client, user):
    assert client.login(username=user.username, password=PASSWORD)
    return client


# --- services -------------------------------------------------------------------------------


def test_start_enqueues_the_task_on_commit(reviewer, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        job = job_start(kind=Kind.EXPORT_PROJECTS, owner=reviewer, title="导出", params={})
        assert not DBTaskResult.objects.exists()  # not before the job row is committed
    for callback in callbacks:
        callback()
    task = DBTaskResult.objects.get()
    assert task.task_path == "projects.tasks.run_job"
    assert task.args_kwargs["args"] == [job.pk]
    assert job.status == Status.QUEUED


def test_a_job_is_claimed_once(reviewer, django_capture_on_commit_callbacks):
    job = start(reviewer, capture=django_capture_on_commit_callbacks)
    first = job_claim(job_id=job.pk, worker_id="w1")
    assert first.status == Status.RUNNING and first.attempts == 1 and first.worker_id == "w1"
    assert first.heartbeat is not None and first.started_at is not None
    assert job_claim(job_id=job.pk, worker_id="w2") is None
    job.refresh_from_db()
    assert job.worker_id == "w1" and job.attempts == 1


def test_progress_is_recorded_and_a_lost_job_stops(reviewer, django_capture_on_commit_callbacks):
    job = job_claim(
        job_id=start(reviewer, capture=django_capture_on_commit_callbacks).pk, worker_id="w1"
    )
    job_progress(job=job, done=1000, total=4000)
    stored = BackgroundJob.objects.get(pk=job.pk)
    assert (stored.done, stored.total, stored.percent) == (1000, 4000, 25)
    # Recovered away from this worker (it looked dead): its next write stops it.
    BackgroundJob.objects.filter(pk=job.pk).update(worker_id="w2")
    with pytest.raises(JobLost):
        job_progress(job=job, done=2000)
    assert BackgroundJob.objects.get(pk=job.pk).done == 1000


def test_fail_keeps_the_chinese_reason(reviewer, django_capture_on_commit_callbacks):
    job = job_claim(
        job_id=start(reviewer, capture=django_capture_on_commit_callbacks).pk, worker_id="w1"
    )
    assert job_fail(job=job, message="筛选条件无效")
    job.refresh_from_db()
    assert job.status == Status.FAILED and job.message == "筛选条件无效"
    assert job.finished_at is not None


def test_unknown_kind_is_refused(reviewer):
    from projects.services import WorkflowError

    with pytest.raises(WorkflowError, match="不支持的后台任务类型"):
        job_start(kind="rm -rf", owner=reviewer, title="x", params={})
    assert not BackgroundJob.objects.exists()


def test_recover_requeues_once_then_fails(reviewer, django_capture_on_commit_callbacks):
    job = job_claim(
        job_id=start(reviewer, capture=django_capture_on_commit_callbacks).pk, worker_id="w1"
    )
    fresh = job_recover(stale_after=datetime.timedelta(minutes=10))
    assert fresh == {"requeued": 0, "failed": 0}  # heartbeat is recent: left alone
    old = timezone.now() - datetime.timedelta(hours=1)
    BackgroundJob.objects.filter(pk=job.pk).update(heartbeat=old)
    # The killed worker's task row stays 运行中 in the framework's table.
    DBTaskResult.objects.filter(args_kwargs__args=[job.pk]).update(status="RUNNING")
    before = DBTaskResult.objects.count()
    with django_capture_on_commit_callbacks(execute=True):
        assert job_recover(stale_after=datetime.timedelta(minutes=10))["requeued"] == 1
    job.refresh_from_db()
    assert job.status == Status.QUEUED and job.message == INTERRUPTED_REQUEUED
    assert DBTaskResult.objects.count() == before + 1  # a new task for the retry
    statuses = DBTaskResult.objects.filter(args_kwargs__args=[job.pk]).values_list("status")
    assert sorted(status for (status,) in statuses) == ["FAILED", "READY"]
    second = job_claim(job_id=job.pk, worker_id="w2")
    assert second.attempts == 2
    BackgroundJob.objects.filter(pk=job.pk).update(heartbeat=old)
    assert job_recover(stale_after=datetime.timedelta(minutes=10))["failed"] == 1
    job.refresh_from_db()
    assert job.status == Status.FAILED and job.message == INTERRUPTED_TWICE


def test_expire_deletes_the_file_from_storage(
    client, reviewer, tmp_path, django_capture_on_commit_callbacks
):
    job = job_claim(
        job_id=start(reviewer, capture=django_capture_on_commit_callbacks).pk, worker_id="w1"
    )
    source = tmp_path / "out.xlsx"
    source.write_bytes(b"PK-test-bytes")
    job = job_finish(job=job, path=str(source), filename="项目导出.xlsx")
    name = job.file.name
    assert default_storage.exists(name) and job.size == 13 and len(job.sha256) == 64
    assert job.expires_at - job.finished_at == datetime.timedelta(days=7)
    login(client, reviewer)
    url = reverse("projects:job_download", args=[job.pk])
    assert b"".join(client.get(url).streaming_content) == b"PK-test-bytes"
    assert job_expire() == 0  # not yet due
    assert job_expire(now=job.expires_at + datetime.timedelta(seconds=1)) == 1
    job.refresh_from_db()
    assert job.status == Status.EXPIRED and not job.file
    assert not default_storage.exists(name)
    response = client.get(url)  # the owner is sent back to 我的下载 with the reason
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:projects_backgroundjob_changelist")


# --- the task, run by the worker command ----------------------------------------------------


def test_export_job_respects_scope_and_filters(
    reviewer, outsider, org_a, org_b, django_capture_on_commit_callbacks
):
    ours = [ProjectFactory(organization=org_a, title=f"甲项目{i}") for i in range(3)]
    ProjectFactory(organization=org_b, title="乙项目")
    Project.objects.filter(pk=ours[0].pk).update(state=State.ORG_REVIEW)
    capture = django_capture_on_commit_callbacks
    everything = start(reviewer, capture=capture)
    filtered = start(reviewer, query=[("state__exact", State.DRAFT)], capture=capture)
    searched = start(reviewer, query=[("q", "乙项目")], capture=capture)
    theirs = start(outsider, capture=capture)
    run_queued()
    for job in (everything, filtered, searched, theirs):
        job.refresh_from_db()
        assert job.status == Status.DONE, job.message
    assert titles_of(everything) == {"甲项目0", "甲项目1", "甲项目2"}
    assert everything.total == 3 and everything.percent == 100
    assert titles_of(filtered) == {"甲项目1", "甲项目2"}
    # Another organisation's project does not exist for the reviewer, even when searched.
    assert sheet_rows(searched)[1:] == []
    assert titles_of(theirs) == {"乙项目"}


@pytest.mark.parametrize(
    "query",
    [
        [["no_such_field__exact", "1"]],
        [["state__exact", "draft"], ["organization__password", "x"]],
        "not-a-list",
        [["a", "b", "c"]],
    ],
)
def test_a_bad_filter_fails_the_job_with_a_chinese_reason(
    reviewer, org_a, query, django_capture_on_commit_callbacks
):
    ProjectFactory(organization=org_a)
    with django_capture_on_commit_callbacks(execute=True):
        job = job_start(
            kind=Kind.EXPORT_PROJECTS, owner=reviewer, title="导出", params={"query": query}
        )
    run_queued()
    job.refresh_from_db()
    assert job.status == Status.FAILED
    assert "筛选条件无效" in job.message
    assert not job.file


def test_invoice_export_job(accepted, applicant, reviewer, django_capture_on_commit_callbacks):
    add_invoices(accepted, applicant, "100.00", "250.50")
    job = start(reviewer, kind=Kind.EXPORT_INVOICES, capture=django_capture_on_commit_callbacks)
    run_queued()
    job.refresh_from_db()
    assert job.status == Status.DONE, job.message
    rows = sheet_rows(job)
    assert rows[0][0] == "项目编号"
    totals = sorted(row[rows[0].index("价税合计")] for row in rows[1:])
    assert totals == [100, 250.5]


@pytest.mark.parametrize(("seconds", "written"), [(0, [0, 1000, 2000, 3000]), (3600, [0, 1000])])
def test_export_progress_is_written_at_the_first_thousand_rows_then_by_the_clock(
    reviewer, org_a, monkeypatch, seconds, written, django_capture_on_commit_callbacks
):
    """A million-row export must not commit a progress row every 1,000 rows: after the
    first 1,000 rows, progress is written at most once every PROGRESS_SECONDS."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from projects import tasks
    from tests.projects.test_jobs_workers import invoices

    monkeypatch.setattr(tasks, "PROGRESS_SECONDS", seconds)
    invoices(3500, org=org_a)
    job = start(reviewer, kind=Kind.EXPORT_INVOICES, capture=django_capture_on_commit_callbacks)
    with CaptureQueriesContext(connection) as queries:
        run_queued()
    job.refresh_from_db()
    assert job.status == Status.DONE and job.done == job.total == 3500
    progress = [
        q["sql"]
        for q in queries
        if q["sql"].startswith('UPDATE "projects_backgroundjob" SET "done"')
    ]
    assert [int(sql.split('"done" = ')[1].split(",")[0]) for sql in progress] == written


def test_reminders_job(leader, django_capture_on_commit_callbacks, mailoutbox):
    job = start(leader, kind=Kind.REMINDERS, capture=django_capture_on_commit_callbacks)
    run_queued()
    job.refresh_from_db()
    assert job.status == Status.DONE
    assert job.message == f"共发送 {len(mailoutbox)} 封提醒邮件。"
    assert not job.file


def test_a_job_without_permission_fails(applicant, org_a, django_capture_on_commit_callbacks):
    ProjectFactory(organization=org_a)
    job = start(applicant, kind=Kind.EXPORT_INVOICES, capture=django_capture_on_commit_callbacks)
    applicant.user_permissions.clear()
    applicant.groups.clear()
    run_queued()
    job.refresh_from_db()
    assert job.status == Status.FAILED and job.message == "您没有导出发票的权限。"


# --- presentation ---------------------------------------------------------------------------


def test_another_users_job_is_a_404(
    client, reviewer, outsider, org_a, django_capture_on_commit_callbacks
):
    ProjectFactory(organization=org_a)
    job = start(reviewer, capture=django_capture_on_commit_callbacks)
    run_queued()
    job.refresh_from_db()
    assert job.downloadable
    login(client, outsider)
    assert client.get(reverse("projects:job_download", args=[job.pk])).status_code == 404
    status = client.get(reverse("projects:jobs_status") + f"?ids={job.pk}").json()
    assert status == {"jobs": []}
    page = client.get(reverse("admin:projects_backgroundjob_changelist"))
    assert page.status_code == 200 and f'id="job-{job.pk}"' not in page.content.decode()
    # 我的下载 is a list only: a job has no change page whose id could be guessed.
    assert client.get(f"/admin/projects/backgroundjob/{job.pk}/change/").status_code == 404
    login(client, reviewer)
    response = client.get(reverse("projects:job_download", args=[job.pk]))
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    assert (
        client.get(reverse("projects:jobs_status") + f"?ids={job.pk}").json()["jobs"][0]["percent"]
        == 100
    )


def test_changelist_button_starts_the_job_for_the_current_filters(
    client, reviewer, org_a, django_capture_on_commit_callbacks
):
    ProjectFactory(organization=org_a)
    login(client, reviewer)
    page = client.get(reverse("admin:projects_project_changelist") + "?state__exact=draft")
    html = page.content.decode()
    assert "后台导出" in html
    assert reverse("projects:project_background_export") + "?state__exact=draft" in html
    url = reverse("projects:project_background_export") + "?state__exact=draft&p=2"
    response = client.get(url)  # only a POST starts a job; a GET goes back to the list
    assert response.status_code == 302 and not BackgroundJob.objects.exists()
    assert response["Location"].endswith("/admin/projects/project/?state__exact=draft&p=2")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url)
    job = BackgroundJob.objects.get()
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:projects_backgroundjob_changelist"))
    assert job.owner == reviewer and job.params == {"query": [["state__exact", "draft"]]}
    assert DBTaskResult.objects.filter(args_kwargs__args=[job.pk]).exists()
    page = client.get(response["Location"]).content.decode()
    assert "我的下载" in page and "dangfei/jobs.js" in page
    assert "<script>" not in page and " style=" not in page
    assert f'data-job="{job.pk}"' in page
    invoices = client.get(
        reverse("admin:projects_invoice_changelist") + "?check_status__exact=pending"
    )
    action = reverse("projects:invoice_background_export") + "?check_status__exact=pending"
    assert action in invoices.content.decode()


def test_export_start_needs_the_export_permission(client, applicant):
    applicant.groups.clear()
    login(client, applicant)
    url = reverse("projects:invoice_background_export")
    assert client.post(url).status_code == 403
    assert not BackgroundJob.objects.exists()


def test_enqueue_reminders_command(leader, django_capture_on_commit_callbacks):
    from django.core.management import CommandError, call_command

    with pytest.raises(CommandError, match="找不到有效的账号"):
        call_command("enqueue_reminders", "--owner", "nobody")
    with django_capture_on_commit_callbacks(execute=True):
        call_command("enqueue_reminders", "--owner", leader.username)
    job = BackgroundJob.objects.get()
    assert job.kind == Kind.REMINDERS and job.params["today"] == timezone.localdate().isoformat()
    run_queued()
    job.refresh_from_db()
    assert job.status == Status.DONE and job.message.startswith("共发送")


def test_reminders_job_with_a_bad_date_fails(leader, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        job = job_start(kind=Kind.REMINDERS, owner=leader, title="提醒", params={"today": "明天"})
    run_queued()
    job.refresh_from_db()
    assert job.status == Status.FAILED and job.message == "提醒日期“明天”无效。"


def test_reminders_job_says_which_mails_failed(
    in_acceptance, leader, settings, django_capture_on_commit_callbacks
):
    from accounts.models import User
    from tests.projects.mail_backends import RefusingOneAddressBackend

    User.objects.filter(pk=leader.pk).update(email="dora@example.org")
    settings.EMAIL_BACKEND = "tests.projects.mail_backends.RefusingOneAddressBackend"
    RefusingOneAddressBackend.refused = {"dora@example.org"}
    RefusingOneAddressBackend.attempts = []
    try:
        job = start(leader, kind=Kind.REMINDERS, capture=django_capture_on_commit_callbacks)
        run_queued()
    finally:
        RefusingOneAddressBackend.refused = set()
    job.refresh_from_db()
    assert RefusingOneAddressBackend.attempts == ["dora@example.org"]
    assert job.status == Status.FAILED
    assert job.message.startswith("共发送 0 封提醒邮件,1 封发送失败(下次运行时重发)")
    assert "dora@example.org" in job.message


def test_the_task_table_has_no_english_admin(client, django_user_model, org_a):
    from django.contrib import admin

    root = django_user_model.objects.create_superuser(
        "root", "root@example.org", PASSWORD, organization=org_a
    )
    assert not admin.site.is_registered(DBTaskResult)
    client.force_login(root)
    index = client.get(reverse("admin:index")).content.decode()
    assert "我的下载" in index and "Tasks Database Backend" not in index
