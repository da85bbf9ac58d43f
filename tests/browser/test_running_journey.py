"""A running project in a real browser: the leader files this month's progress report and
tries a disguised upload; the org reviewer reads and comments; the archive downloads."""

from decimal import Decimal

import pytest
from django.utils import timezone

from projects.models import ProgressReport
from projects.services import apply_transition
from tests.browser.accessibility import DayChecker
from tests.browser.conftest import login
from tests.factories import PASSWORD, BudgetLineFactory, FundingPolicyFactory, ProjectFactory
from tests.projects.conftest import CHECKLIST_YES

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def running(org_a, applicant, reviewer, leader, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    FundingPolicyFactory()
    project = ProjectFactory(organization=org_a, leader=applicant, title="浏览器测试项目")
    BudgetLineFactory(project=project, quantity=Decimal("2"), unit_price=Decimal("500.00"))
    for name, actor, decision in [
        ("submit", applicant, {}),
        ("org_approve", reviewer, {"opinion": "同意", **CHECKLIST_YES}),
        ("approve", leader, {"opinion": "同意", "grade": 3, "approved_amount": "1000.00"}),
        ("start", applicant, {}),
    ]:
        project = apply_transition(project, name, actor=actor, **decision)
    return project


def test_progress_report_journey(
    page, live_server, running, applicant, reviewer, screenshot, tmp_path
):
    login(page, live_server, applicant.username, PASSWORD)
    page.goto(f"{live_server.url}/admin/projects/progressreport/add/")
    page.select_option("#id_project", str(running.pk))
    page.fill("#id_month", f"{timezone.localdate():%Y-%m}")  # the month picker
    page.fill("#id_progress", "本月组织集中学习两次。")
    page.click("input[name=_save]")
    page.wait_for_selector(".messagelist .success")
    report = ProgressReport.objects.get()
    assert report.author == applicant

    disguised = tmp_path / "发票.pdf"
    disguised.write_bytes(b"MZ\x90\x00" + b"\x00" * 64)
    page.goto(f"{live_server.url}/admin/projects/document/add/")
    page.select_option("#id_project", str(running.pk))
    page.set_input_files("#id_file", str(disguised))
    page.click("input[name=_save]")
    # A refusal of no field: the page's one notice (not under 请更正以下错误, finding 13).
    assert "不是允许的类型" in page.inner_text(".errornote")
    assert "请更正" not in page.inner_text("#content-main")
    screenshot("running-disguised-upload")

    sweep_running_pages(page, live_server, screenshot, "applicant", running, report)

    page.context.clear_cookies()
    login(page, live_server, reviewer.username, PASSWORD)
    page.goto(f"{live_server.url}/admin/projects/progressreport/{report.pk}/change/")
    page.fill("#id_org_comment", "进展良好,继续推进。")
    page.click("input[name=_save]")
    page.wait_for_selector(".messagelist .success")
    report.refresh_from_db()
    assert report.read_by == reviewer and report.org_comment == "进展良好,继续推进。"
    sweep_running_pages(page, live_server, screenshot, "reviewer", running, report)

    with page.expect_download() as download:
        page.evaluate(
            "url => { const a = document.createElement('a'); a.href = url; a.click(); }",
            f"/admin/projects/project/{running.pk}/archive/",
        )
    assert download.value.suggested_filename.endswith("项目档案.zip")


RUNNING_PAGES = [
    ("project", "/admin/projects/project/{project}/change/"),
    ("report", "/admin/projects/progressreport/{report}/change/"),
    ("reports", "/admin/projects/progressreport/"),
    ("problems", "/admin/projects/problemreport/"),
    ("changes", "/admin/projects/changerequest/"),
    ("summaries", "/admin/projects/summaryreport/"),
    ("documents", "/admin/projects/document/"),
]


def sweep_running_pages(page, live_server, screenshot, role, project, report):
    """The running area's pages and every link on them: none ends in 403/404 (people are
    plain names, not links to the user admin; finding 6). Screenshots running-<role>-*."""
    day = DayChecker(page, live_server.url, screenshot, f"running-{role}")
    for name, path in RUNNING_PAGES:
        page.goto(live_server.url + path.format(project=project.pk, report=report.pk))
        assert not page.locator("a[href*='/admin/accounts/user/']").count(), name
        day.check(name, axe=False)
    day.follow_links()
    day.assert_clean()
