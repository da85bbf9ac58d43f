"""Issue 11, finding 3 in the browser at 390×844 and 1366×768: the leader of a project with
an overdue monthly report clicks 填报…进展报告 on the dashboard's overdue row, finds project
and month filled in (a month picker), writes the report and saves it. Nothing wider than the
viewport, no serious or critical axe violation, no link ending in 403/404.
Screenshots: test-artifacts/day-<viewport>-6-report-*.png."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from projects.models import ProgressReport, Project
from projects.services import apply_transition
from tests.browser.accessibility import DayChecker
from tests.browser.conftest import login
from tests.factories import PASSWORD, BudgetLineFactory, FundingPolicyFactory, ProjectFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

VIEWPORTS = {"phone": (390, 844), "desktop": (1366, 768)}


@pytest.fixture(params=list(VIEWPORTS))
def viewport(request, page):
    width, height = VIEWPORTS[request.param]
    page.set_viewport_size({"width": width, "height": height})
    return request.param


def _running_with_a_missing_report(org_a, applicant, reviewer, leader):
    FundingPolicyFactory()
    project = ProjectFactory(
        organization=org_a,
        leader=applicant,
        start_date=timezone.localdate() - datetime.timedelta(days=3),
    )
    BudgetLineFactory(project=project, quantity=Decimal("1"), unit_price=Decimal("1000.00"))
    for name, actor, decision in (
        ("submit", applicant, {}),
        ("org_approve", reviewer, {"opinion": "同意"}),
        ("approve", leader, {"opinion": "同意", "grade": 3, "approved_amount": "1000.00"}),
        ("start", applicant, {}),
    ):
        project = apply_transition(project, name, actor=actor, **decision)
    # As in the running tests: the period began last month, whose report is now overdue.
    start = timezone.localdate().replace(day=1) - datetime.timedelta(days=40)
    Project.objects.filter(pk=project.pk).update(start_date=start)
    return project, start.replace(day=1)


def test_leader_files_the_overdue_report_from_the_dashboard(
    page, live_server, screenshot, viewport, org_a, applicant, reviewer, leader
):
    project, month = _running_with_a_missing_report(org_a, applicant, reviewer, leader)
    day = DayChecker(page, live_server.url, screenshot, f"day-{viewport}-6-report")
    login(page, live_server, applicant.username, PASSWORD)
    page.wait_for_selector(".role-menu")
    day.check("dashboard")
    page.click(f"a.row-action:has-text('填报{month.year}年{month.month}月进展报告')")
    page.wait_for_selector("#id_progress")
    assert page.get_attribute("#id_month", "type") == "month"
    assert page.input_value("#id_month") == f"{month:%Y-%m}"
    assert page.input_value("#id_project") == str(project.pk)
    day.check("report-form")
    page.fill("#id_progress", "入户走访十户,代购代办六次")
    page.click("input[name=_save]")
    page.wait_for_selector(".messagelist .success, .errornote, .errorlist")
    assert not page.locator(".errornote, .errorlist").count(), page.inner_text("#content-main")
    report = ProgressReport.objects.get(project=project)
    assert (report.month, report.author) == (month, applicant)
    day.check("report-saved")
    day.follow_links()
    day.assert_clean()
