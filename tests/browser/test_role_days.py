"""Issue 11: each role's main task done by clicking, on a phone (390×844) and on a desktop
(1366×768). On every page of the day: nothing wider than the viewport, no serious or critical
axe-core violation, and no link that ends in 403/404. Screenshots: test-artifacts/day-*.png.

The applicant drafts with three budget lines (total computed as typed) and submits; the org
reviewer reads the application beside the form, is refused when a condition is 不符合 and
approves with the checklist; leadership sees those answers and approves; the auditor finds
the project by its leader's full name and reads it, its printed 申请书, the statistics and
the ledger. Finance checks invoices and settles in test_finance_day.py.
"""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from projects.models import Project, State
from tests.browser.accessibility import DayChecker
from tests.browser.conftest import login
from tests.factories import PASSWORD, FundingPolicyFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TITLE = "党员志愿服务进社区"
VIEWPORTS = {"phone": (390, 844), "desktop": (1366, 768)}


@pytest.fixture(params=list(VIEWPORTS))
def viewport(request, page):
    width, height = VIEWPORTS[request.param]
    page.set_viewport_size({"width": width, "height": height})
    return request.param


def _logout(page):
    page.context.clear_cookies()


def _date_value(page, selector: str, day: datetime.date) -> str:
    # Phones get the native date picker (ISO value); desktops type it the Chinese way.
    if page.get_attribute(selector, "type") == "date":
        return day.isoformat()
    return f"{day.year}年{day.month}月{day.day}日"


def _answer_checklist(page, no: str = "") -> None:
    for radio in page.query_selector_all("input[type=radio][value=yes]"):
        radio.check()
    if no:
        page.check(f"input[name={no}][value=no]")


def test_each_roles_day_on_phone_and_desktop(
    page, live_server, screenshot, viewport, applicant, reviewer, leader, auditor
):
    FundingPolicyFactory()
    start = timezone.localdate() + datetime.timedelta(days=10)
    end = start + datetime.timedelta(days=20)

    # --- the applicant drafts with three budget lines and submits ------------------------
    day = DayChecker(page, live_server.url, screenshot, f"day-{viewport}-1-applicant")
    page.goto(f"{live_server.url}/admin/login/")
    day.check("login")
    login(page, live_server, applicant.username, PASSWORD)
    page.wait_for_selector(".role-menu")
    assert applicant.display_name in page.inner_text("#user-tools")
    day.check("dashboard")
    page.click(".role-menu a:has-text('新建项目申请')")
    page.wait_for_selector("#id_title")
    day.check("add-form")
    page.fill("#id_title", TITLE)
    page.select_option("#id_category", "training")
    page.fill("#id_start_date", _date_value(page, "#id_start_date", start))
    page.fill("#id_end_date", _date_value(page, "#id_end_date", end))
    page.select_option("#id_proposed_grade", "3")
    assert "三级拨款项目 ≤ ¥5,000.00" in page.inner_text(".field-proposed_grade")
    for name, text in [
        ("leader_profile", "社区党支部组织委员"),
        ("purpose", "组织党员为社区老人提供志愿服务"),
        ("content", "每周末入户走访、代购代办"),
        ("plan", "第一周动员,第二、三周服务,第四周总结"),
        ("expected_outcome", "服务老人五十户次"),
    ]:
        page.fill(f"#id_{name}", text)
    lines = [
        ("materials", "服务手册印制", "50", "6.50"),
        ("transport", "志愿者交通补贴", "20", "15"),
        ("other", "慰问用品", "10", "80.00"),
    ]
    for index, (item, description, quantity, price) in enumerate(lines):
        if index:
            page.click("#budget_lines-group .add-row a")
        page.select_option(f"#id_budget_lines-{index}-item", item)
        page.fill(f"#id_budget_lines-{index}-description", description)
        page.fill(f"#id_budget_lines-{index}-quantity", quantity)
        page.fill(f"#id_budget_lines-{index}-unit_price", price)
    # 325 + 300 + 800, computed in the page as it was typed.
    assert "¥1,425.00" in page.inner_text("#budget-total")
    assert page.inner_text("#budget_lines-2 td.field-budget_amount").strip() == "¥800.00"
    # Filled in: the width and a screenshot again. (Chromium ignored the next click on 保存
    # after a full-page screenshot taken with the focus still in a number box: blur first.)
    page.evaluate("document.activeElement && document.activeElement.blur()")
    day.check("add-form-filled", axe=False)
    page.click("input[name=_save]")
    page.wait_for_selector(".messagelist .success, .errornote, .errorlist")
    assert not page.locator(".errorlist").count(), page.inner_text("#content-main")[:1500]
    project = Project.objects.get(title=TITLE)
    assert project.requested_amount == Decimal("1425.00")
    assert project.start_date == start
    # The saved draft lands on its own page, with 提交 as the primary decision.
    assert page.url.endswith(f"/admin/projects/project/{project.pk}/change/")
    assert "项目申请" in page.inner_text(".flow-steps .step-current")
    day.check("project-draft")
    page.click("a.primary-button[data-transition=submit]")
    page.wait_for_selector("input[name=_confirm]")
    day.check("submit-form")
    page.click("input[name=_confirm]")
    page.wait_for_selector(".messagelist .success")
    project.refresh_from_db()
    assert project.state == State.ORG_REVIEW
    assert "项目部初审" in page.inner_text(".flow-steps .step-current")
    assert "期限" in page.inner_text(".status-now")
    day.check("project-submitted")
    day.follow_links()
    day.assert_clean()

    # --- the org reviewer reviews with the checklist ---------------------------------------
    _logout(page)
    day = DayChecker(page, live_server.url, screenshot, f"day-{viewport}-2-reviewer")
    login(page, live_server, reviewer.username, PASSWORD)
    page.wait_for_selector(".role-menu")
    day.check("dashboard")
    page.click(f"#content-main a:has-text('{TITLE}')")
    page.wait_for_selector(".project-status")
    # The read-only page has no number boxes to add up: no total computed from nothing.
    assert "预算合计:¥0.00" not in page.inner_text("#content-main")
    day.check("project")
    page.click("a.primary-button[data-transition=org_approve]")
    page.wait_for_selector("input[name=_confirm]")
    assert "志愿者交通补贴" in page.inner_text(".transition-application")
    day.check("review-form")
    _answer_checklist(page, no="cond_budget")
    page.fill("#id_opinion", "同意上报。")
    page.click("input[name=_confirm]")
    page.wait_for_selector(".errornote")
    assert "退回修改" in page.inner_text(".errornote")
    project.refresh_from_db()
    assert project.state == State.ORG_REVIEW
    day.check("review-refused")
    _answer_checklist(page)
    page.fill("#id_opinion", "同意上报领导小组。")
    page.click("input[name=_confirm]")
    page.wait_for_selector(".messagelist .success")
    project.refresh_from_db()
    assert project.state == State.LEADERSHIP_REVIEW
    assert "符合" in page.inner_text("#project-reviews")
    day.check("project-reviewed")
    day.follow_links()
    day.assert_clean()

    # --- leadership approves ---------------------------------------------------------------
    _logout(page)
    day = DayChecker(page, live_server.url, screenshot, f"day-{viewport}-3-leadership")
    login(page, live_server, leader.username, PASSWORD)
    page.wait_for_selector(".role-menu")
    day.check("dashboard")
    page.click(f"#content-main a:has-text('{TITLE}')")
    page.wait_for_selector(".project-status")
    day.check("project")
    page.click("a.primary-button[data-transition=approve]")
    page.wait_for_selector("input[name=_confirm]")
    # The first review's six answers stand beside the form.
    assert "严谨准确的财务预算" in page.inner_text(".transition-application .checklist-answers")
    day.check("approve-form")
    _answer_checklist(page)
    page.select_option("#id_grade", "3")
    page.fill("#id_approved_amount", "1400.00")
    page.fill("#id_opinion", "同意立项。")
    page.click("input[name=_confirm]")
    page.wait_for_selector(".messagelist .success")
    project.refresh_from_db()
    assert (project.state, project.approved_amount) == (State.APPROVED, Decimal("1400.00"))
    day.check("project-approved")
    day.follow_links()
    day.assert_clean()

    # --- the auditor reads -----------------------------------------------------------------
    _logout(page)
    day = DayChecker(page, live_server.url, screenshot, f"day-{viewport}-4-auditor")
    login(page, live_server, auditor.username, PASSWORD)
    page.wait_for_selector(".role-menu")
    day.check("dashboard")
    page.click(".role-menu a:has-text('全部项目')")
    page.wait_for_selector("#searchbar")
    day.check("project-list")
    page.fill("#searchbar", applicant.display_name)  # last + first name joined
    page.press("#searchbar", "Enter")
    page.wait_for_selector(f"#result_list a:has-text('{TITLE}')")
    day.check("search")
    page.click(f"#result_list a:has-text('{TITLE}')")
    page.wait_for_selector(".project-status")
    day.check("project")
    # 打印申请书 opens in a new tab: followed here in the same tab.
    page.goto(
        live_server.url + page.get_attribute(".utility-links a:has-text('打印申请书')", "href")
    )
    assert "严谨准确的财务预算:是" in page.inner_text("body")
    day.check("print")
    page.goto(f"{live_server.url}/admin/")
    page.click(".role-menu a:has-text('年度统计')")
    page.wait_for_load_state("load")
    day.check("statistics")
    page.goto(f"{live_server.url}/admin/")
    page.click(".role-menu a:has-text('经费总账')")
    page.wait_for_load_state("load")
    day.check("ledger")
    day.follow_links()
    day.assert_clean()
