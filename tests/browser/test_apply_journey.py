"""The application journey in a real browser: the applicant drafts with budget lines and
submits, the org reviewer returns it, the applicant resubmits, the reviewer approves, and a
leadership member grades and approves it within the year's pool."""

from decimal import Decimal

import pytest

from projects.models import Project, State
from tests.browser.conftest import login
from tests.factories import PASSWORD, FundingPolicyFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _logout(page, live_server):
    page.context.clear_cookies()


def _press(page, live_server, project, name):
    page.goto(f"{live_server.url}/admin/projects/project/{project.pk}/change/")
    page.click(f"a.transition-button[data-transition={name}]")
    page.wait_for_selector("form input[name=_confirm]")


def _answer_checklist(page):
    for radio in page.query_selector_all("input[type=radio][value=yes]"):
        radio.check()


def test_application_from_draft_to_approved(
    page, live_server, applicant, reviewer, leader, screenshot
):
    FundingPolicyFactory()
    # The applicant drafts the application with two budget lines.
    login(page, live_server, applicant.username, PASSWORD)
    page.goto(f"{live_server.url}/admin/projects/project/add/")
    page.fill("#id_title", "党员微党课比赛")
    page.select_option("#id_category", "training")
    page.fill("#id_start_date", "2026-12-01")
    page.fill("#id_end_date", "2027-01-31")
    page.select_option("#id_proposed_grade", "3")
    for name, text in [
        ("leader_profile", "支部宣传委员"),
        ("purpose", "提升党员讲党课能力"),
        ("content", "微党课评比"),
        ("plan", "十二月初赛,一月决赛"),
        ("expected_outcome", "评出十堂优秀微党课"),
    ]:
        page.fill(f"#id_{name}", text)
    page.select_option("#id_budget_lines-0-item", "awards")
    page.fill("#id_budget_lines-0-description", "获奖党员奖品")
    page.fill("#id_budget_lines-0-quantity", "10")
    page.fill("#id_budget_lines-0-unit_price", "150")
    page.click("#budget_lines-group .add-row a")
    page.select_option("#id_budget_lines-1-item", "venue")
    page.fill("#id_budget_lines-1-description", "决赛场地")
    page.fill("#id_budget_lines-1-quantity", "1")
    page.fill("#id_budget_lines-1-unit_price", "500.00")
    page.click("input[name=_continue]")
    page.wait_for_selector(".messagelist .success")
    project = Project.objects.get(title="党员微党课比赛")
    assert project.requested_amount == Decimal("2000.00")
    screenshot("apply-01-draft")

    _press(page, live_server, project, "submit")
    page.click("input[name=_confirm]")
    page.wait_for_selector(".messagelist .success")
    project.refresh_from_db()
    assert project.state == State.ORG_REVIEW

    # The org reviewer raises questions (质疑) and returns it.
    _logout(page, live_server)
    login(page, live_server, reviewer.username, PASSWORD)
    assert "党员微党课比赛" in page.inner_text("#content-main")
    _press(page, live_server, project, "org_return")
    _answer_checklist(page)
    page.fill("#id_opinion", "请说明奖品标准。")
    page.click("input[name=_confirm]")
    page.wait_for_selector(".messagelist .success")
    project.refresh_from_db()
    assert project.state == State.RETURNED

    # The applicant resubmits; the reviewer approves the first review.
    _logout(page, live_server)
    login(page, live_server, applicant.username, PASSWORD)
    _press(page, live_server, project, "submit")
    page.fill("#id_opinion", "奖品每份不超过150元。")
    page.click("input[name=_confirm]")
    page.wait_for_selector(".messagelist .success")
    _logout(page, live_server)
    login(page, live_server, reviewer.username, PASSWORD)
    _press(page, live_server, project, "org_approve")
    _answer_checklist(page)
    page.fill("#id_opinion", "同意上报领导小组。")
    page.click("input[name=_confirm]")
    page.wait_for_selector(".messagelist .success")

    # Leadership: an over-request amount is refused with a message, then approved.
    _logout(page, live_server)
    login(page, live_server, leader.username, PASSWORD)
    _press(page, live_server, project, "approve")
    assert "年度经费剩余" in page.inner_text("#content-main")
    _answer_checklist(page)
    page.select_option("#id_grade", "3")
    page.fill("#id_approved_amount", "2500")
    page.fill("#id_opinion", "同意立项。")
    page.click("input[name=_confirm]")
    assert "不能超过申请金额" in page.inner_text(".errornote")
    page.fill("#id_approved_amount", "1800.00")
    _answer_checklist(page)
    page.click("input[name=_confirm]")
    page.wait_for_selector(".messagelist .success")
    project.refresh_from_db()
    assert (project.state, project.grade, project.approved_amount) == (
        State.APPROVED,
        3,
        Decimal("1800.00"),
    )
    assert "同意立项" in page.inner_text("#project-history")
    screenshot("apply-02-approved")
