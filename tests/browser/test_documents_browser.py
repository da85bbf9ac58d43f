"""In a real browser under the strict CSP: the printed 结算单 shows its QR (inline SVG, no
inline style), and its address, opened without a login, says genuine; after a 红字冲销 the
same address says superseded."""

from decimal import Decimal

import pytest
from django.utils import timezone

from projects.models.money import Disbursement
from projects.services import apply_transition
from projects.services.disbursements import disbursement_reverse
from tests.browser.conftest import login
from tests.browser.test_csp import watch_console
from tests.browser.test_money_browser import _accepted
from tests.factories import PASSWORD
from tests.projects.fixtures_money import add_invoices, check_all, settle_decision

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_settlement_qr_genuine_then_superseded(
    page, live_server, org_a, applicant, reviewer, leader, finance, screenshot
):
    project = _accepted(org_a, applicant, reviewer, leader)
    check_all(add_invoices(project, applicant, Decimal("1200.00")), finance)
    line = project.budget_lines.get()
    for name, actor, decision in (
        ("request_settlement", reviewer, {"opinion": "", "actual_amounts": {line.pk: "1200"}}),
        ("approve_payment", leader, {"opinion": "同意", "payable_limit": Decimal("1200")}),
    ):
        project = apply_transition(project, name, actor=actor, **decision)
    project = apply_transition(project, "settle", actor=finance, **settle_decision(project))

    problems = watch_console(page)
    login(page, live_server, finance.username, PASSWORD)
    page.goto(f"{live_server.url}/admin/projects/project/{project.pk}/money/settlement-sheet/")
    qr = page.locator(".verification svg.verify-qr")
    assert qr.is_visible() and qr.bounding_box()["width"] > 50
    address = page.inner_text(".verification-url").strip()
    assert "/verify/" in address
    screenshot("document-settlement-qr")

    page.context.clear_cookies()  # the verifier is anyone holding the paper
    page.goto(address)
    assert "真实有效" in page.inner_text("main") and "人民币壹仟贰佰元整" in page.inner_text("main")
    screenshot("document-verify-genuine")

    disbursement_reverse(
        disbursement=Disbursement.objects.get(project=project),
        actor=finance,
        voucher_number="PZ-R-B1",
        voucher_date=timezone.localdate(),
        reason="收款账号有误",
    )
    page.goto(address)
    assert "已被新版本取代" in page.inner_text("main")
    screenshot("document-verify-superseded")
    assert problems == []
