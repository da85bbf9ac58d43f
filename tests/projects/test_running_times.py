"""Hole 7 (running side): every time a person sees in the running pages, the archive zip
and the reminder mails is Beijing time: a signature at 07:30 on 3 March Beijing time (23:30
on 2 March in UTC) shows as 3月3日 07:30."""

import datetime
import io
import zipfile

import pytest
from django.urls import reverse
from django.utils import timezone

from projects.models import ChangeRequest, ProgressReport, Review
from projects.services.archive import archive_write
from projects.services.change_requests import change_request_endorse, change_request_submit
from projects.services.reports import progress_report_read, progress_report_submit
from tests.factories import PASSWORD
from tests.projects.fixtures_running import *  # noqa: F403

pytestmark = pytest.mark.django_db

SIGNED = datetime.datetime(2026, 3, 2, 23, 30, tzinfo=datetime.UTC)  # 07:30 on 3 March, Beijing
SHOWN = "2026年3月3日 07:30"
WRONG = ("2日 23:30", "2026-03-02", "23:30")


@pytest.fixture
def signed(in_progress, applicant, reviewer):
    report = progress_report_submit(
        project=in_progress, actor=applicant, month=in_progress.start_date, progress="学习两次"
    )
    progress_report_read(report=report, actor=reviewer, comment="已阅")
    change = change_request_submit(
        project=in_progress, actor=applicant, kind="content", reason="天气", new_content="线上"
    )
    change_request_endorse(change=change, actor=reviewer, opinion="同意上报")
    ProgressReport.objects.filter(pk=report.pk).update(submitted_at=SIGNED, read_at=SIGNED)
    ChangeRequest.objects.filter(pk=change.pk).update(requested_at=SIGNED, org_at=SIGNED)
    Review.objects.filter(project=in_progress).update(signed_at=SIGNED)
    return in_progress, report, change


def archive_texts(project) -> dict[str, str]:
    buffer = io.BytesIO()
    archive_write(project, buffer)
    with zipfile.ZipFile(io.BytesIO(buffer.getvalue())) as archive:
        return {n: archive.read(n).decode() for n in archive.namelist() if n.endswith(".txt")}


def test_archive_prints_beijing_time(signed):
    project, _report, _change = signed
    texts = archive_texts(project)
    reports = texts["04-进展报告、问题上报与变更申请.txt"]
    assert f"提交时间:{SHOWN}" in reports and f"阅知时间:{SHOWN}" in reports
    assert f"申请时间:{SHOWN}" in reports and f"项目部签署时间:{SHOWN}" in reports
    assert f"签署时间:{SHOWN}" in texts["02-审核与决定.txt"]
    for text in texts.values():
        for wrong in WRONG:
            assert wrong not in text


def test_history_times_in_the_archive_are_beijing_time(signed):
    project, _report, _change = signed
    history = archive_texts(project)["03-项目历史.txt"]
    for row in project.history.all():
        local = timezone.localtime(row.created_at)
        assert f"{local.year}年{local.month}月{local.day}日 {local:%H:%M}" in history


@pytest.mark.parametrize("url_name,attr", [("progressreport", 1), ("changerequest", 2)])
def test_running_pages_show_beijing_time(client, signed, reviewer, url_name, attr):
    record = signed[attr]
    client.login(username=reviewer.username, password=PASSWORD)
    page = client.get(reverse(f"admin:projects_{url_name}_change", args=[record.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert SHOWN in html
    assert "2026年3月2日 23:30" not in html
    listing = client.get(reverse(f"admin:projects_{url_name}_changelist")).content.decode()
    assert SHOWN in listing


def test_dashboard_note_is_the_beijing_date(signed, leader):
    from projects.selectors.dashboard import change_requests_panel

    panel = change_requests_panel(leader)
    assert [row["note"] for row in panel.rows] == ["2026年3月3日 提出"]
