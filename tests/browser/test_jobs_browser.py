"""In a real browser: 后台导出 on the project list starts a job, 我的下载 shows its progress
(refreshed by dangfei/jobs.js under the strict CSP) reach 100 %, and the file downloads."""

import io
import threading

import pytest
from django.db import connection
from django_tasks_db.management.commands.db_worker import Worker
from openpyxl import load_workbook

from projects.models import BackgroundJob
from tests.browser.conftest import login
from tests.browser.test_csp import watch_console
from tests.factories import PASSWORD, ProjectFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def worker_thread():
    """A worker beside the live server, in a thread (the test database is in memory)."""
    stop = threading.Event()

    def loop():
        worker = Worker(
            queue_names=["default"],
            interval=0.2,
            batch=True,
            backend_name="default",
            startup_delay=False,
            max_tasks=None,
            worker_id="browser",
            excluded_queue_names=[],
        )
        try:
            while not stop.is_set():
                worker.run()
                stop.wait(0.3)
        finally:
            connection.close()

    thread = threading.Thread(target=loop, daemon=True)
    yield thread.start
    stop.set()
    thread.join(timeout=10)


def test_background_export_in_the_browser(
    page, live_server, org_a, reviewer, media, worker_thread, screenshot
):
    for i in range(3):
        ProjectFactory(organization=org_a, title=f"浏览器导出项目{i}")
    problems = watch_console(page)
    login(page, live_server, reviewer.username, PASSWORD)
    page.goto(f"{live_server.url}/admin/projects/project/?q=浏览器导出")
    screenshot("jobs-changelist-button")
    page.click("button.job-export-button")
    page.wait_for_url("**/admin/projects/backgroundjob/**")
    assert page.locator("text=已开始在后台导出项目").count() == 1
    job = BackgroundJob.objects.get()
    assert job.status == BackgroundJob.Status.QUEUED
    screenshot("jobs-queued")
    worker_thread()  # the job runs now, while the page is polling
    page.wait_for_selector(f"[data-job-download='{job.pk}'][href]", timeout=30_000)
    assert page.locator(f"progress[data-job='{job.pk}']").get_attribute("value") == "100"
    assert page.locator(f"[data-job-percent='{job.pk}']").inner_text() == "100 %"
    assert page.locator(f"[data-job-status='{job.pk}']").inner_text() == "已完成"
    screenshot("jobs-done")
    with page.expect_download() as download_info:
        page.click(f"[data-job-download='{job.pk}']")
    download = download_info.value
    assert download.suggested_filename.endswith(".xlsx")
    sheet = load_workbook(io.BytesIO(open(download.path(), "rb").read()), read_only=True).active
    rows = list(sheet.iter_rows(values_only=True))
    title = rows[0].index("项目名称")
    assert sorted(row[title] for row in rows[1:]) == [f"浏览器导出项目{i}" for i in range(3)]
    assert problems == []
