"""Issue 11, finance's day by clicking, on a phone (390×844) and a desktop (1366×768): the
dashboard, the pending invoices, 合格 on one and 不合格 with a reason on the other, the settle
form with its box of figures, and the settlement. On every page: nothing wider than the
viewport, no serious or critical axe violation, no link ending in 403/404.
Screenshots: test-artifacts/day-<viewport>-5-finance-*.png."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from projects.models import State
from projects.models.money import Disbursement, Invoice
from projects.services import apply_transition
from tests.browser.accessibility import DayChecker
from tests.browser.conftest import login
from tests.factories import PASSWORD, BudgetLineFactory, FundingPolicyFactory, ProjectFactory
from tests.projects.fixtures_money import add_invoices, reach_accepted, request_and_approve

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

VIEWPORTS = {"phone": (390, 844), "desktop": (1366, 768)}


@pytest.fixture(params=list(VIEWPORTS))
def viewport(request, page):
    width, height = VIEWPORTS[request.param]
    page.set_viewport_size({"width": width, "height": height})
    return request.param


def _advance(project, *steps):
    for name, actor, decision in steps:
        project = apply_transition(project, name, actor=actor, **decision)
    return project


def _awaiting_payment(org_a, applicant, reviewer, leader):
    """A project in 待拨付 (limit ¥2,000.00) with two invoices finance has not checked."""
    FundingPolicyFactory()
    project = ProjectFactory(
        organization=org_a,
        leader=applicant,
        start_date=timezone.localdate() - datetime.timedelta(days=30),
    )
    BudgetLineFactory(project=project, quantity=Decimal("3"), unit_price=Decimal("1000.00"))
    project = _advance(
        project,
        ("submit", applicant, {}),
        ("org_approve", reviewer, {"opinion": "同意"}),
        ("approve", leader, {"opinion": "同意", "grade": 3, "approved_amount": "3000.00"}),
    )
    project = reach_accepted(
        project, applicant=applicant, reviewer=reviewer, leader=leader, advance=_advance
    )
    invoices = add_invoices(project, applicant, Decimal("1000.00"), Decimal("1500.00"))
    project = request_and_approve(
        project, reviewer=reviewer, leader=leader, limit="2000.00", advance=_advance
    )
    assert project.state == State.PAYMENT
    return project, invoices


def test_finance_checks_invoices_and_settles(
    page, live_server, screenshot, viewport, org_a, applicant, reviewer, leader, finance
):
    project, (bad, good) = _awaiting_payment(org_a, applicant, reviewer, leader)
    day = DayChecker(page, live_server.url, screenshot, f"day-{viewport}-5-finance")
    login(page, live_server, finance.username, PASSWORD)
    page.wait_for_selector(".role-menu")
    day.check("dashboard")

    # the pending invoices of the project, from the dashboard's 待审核的发票
    page.click("#content-main a[href*='check_status__exact=pending']")
    page.wait_for_selector("#result_list")
    day.check("pending-invoices")

    # 合格 with one click on its row
    page.click(f"#result_list tr:has-text('{good.number}') button.check-button")
    page.wait_for_selector(".messagelist .success")
    good.refresh_from_db()
    assert good.check_status == Invoice.CheckStatus.QUALIFIED
    assert "已审核为合格" in page.inner_text(".messagelist")
    day.check("after-qualified")

    # 不合格 asks for the reason, then back to the list
    page.click(f"#result_list tr:has-text('{bad.number}') a.check-button:has-text('不合格')")
    page.wait_for_selector("#id_reason")
    day.check("unqualified-reason")
    page.click("input.danger-button")
    page.wait_for_selector(".errorlist")
    bad.refresh_from_db()
    assert bad.check_status == Invoice.CheckStatus.PENDING
    page.fill("#id_reason", "发票抬头与单位名称不符")
    page.click("input.danger-button")
    page.wait_for_selector(".messagelist .success")
    bad.refresh_from_db()
    assert (bad.check_status, bad.check_reason) == (
        Invoice.CheckStatus.UNQUALIFIED,
        "发票抬头与单位名称不符",
    )
    assert "/admin/projects/invoice/" in page.url
    day.check("after-unqualified")

    # the settle form: the figures box at the top, then the payment
    page.goto(f"{live_server.url}/admin/")
    page.click(f"#content-main a[href$='/admin/projects/project/{project.pk}/change/']")
    page.wait_for_selector(".project-status")
    day.check("project")
    page.click("a[data-transition=settle]")
    page.wait_for_selector(".settlement-box")
    box = page.inner_text(".settlement-box")
    for text in ("合格发票合计", "¥1,500.00", "批准拨付限额", "¥2,000.00", "结算金额"):
        assert text in box
    assert "票据不合格损失" in box and "¥1,000.00" in box
    assert page.inner_text(".settlement-amount .money").strip() == "¥1,500.00"
    if viewport == "phone":
        assert page.get_attribute("#id_voucher_date", "type") == "date"
    day.check("settle-form")
    page.fill("#id_voucher_number", f"PZ-{project.pk}-001")
    page.fill("#id_bank_serial", "SN20261210")
    page.click("input[name=_confirm]")
    page.wait_for_selector(".messagelist .success, .errornote, .errorlist")
    assert not page.locator(".errornote, .errorlist").count(), page.inner_text("#content-main")
    project.refresh_from_db()
    assert project.state == State.SETTLED
    assert Disbursement.objects.get(project=project).amount == Decimal("1500.00")
    day.check("settled")

    # the project list offers 导出 Excel to finance (finding 7), and it downloads
    page.goto(f"{live_server.url}/admin/")
    page.click(".role-menu a:text-is('项目')")
    page.wait_for_selector("#result_list")
    day.check("project-list")
    export = page.locator(".object-tools a.export_link")
    assert export.text_content().strip() == "导出 Excel"
    with page.expect_download() as download:
        export.click()
    assert download.value.suggested_filename.endswith(".xlsx")
    day.follow_links()
    day.assert_clean()
