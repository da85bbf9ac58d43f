"""In a real browser: the applicant imports invoices (upload → preview → confirm), finance
marks one unqualified with a reason, and the settlement sheet prints."""

import datetime
from decimal import Decimal
from io import BytesIO

import pytest
from django.utils import timezone
from openpyxl import Workbook

from projects.models.money import Invoice
from projects.services import apply_transition
from projects.services.invoice_imports import COLUMNS
from tests.browser.conftest import login
from tests.factories import PASSWORD, BudgetLineFactory, FundingPolicyFactory, ProjectFactory
from tests.projects.fixtures_money import reach_accepted

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _accepted(org_a, applicant, reviewer, leader):
    FundingPolicyFactory()
    project = ProjectFactory(
        organization=org_a,
        leader=applicant,
        start_date=timezone.localdate() - datetime.timedelta(days=30),
    )
    BudgetLineFactory(project=project, quantity=Decimal("3"), unit_price=Decimal("1000.00"))
    for name, actor, decision in (
        ("submit", applicant, {}),
        ("org_approve", reviewer, {"opinion": "同意"}),
        ("approve", leader, {"opinion": "同意", "grade": 3, "approved_amount": "3000.00"}),
    ):
        project = apply_transition(project, name, actor=actor, **decision)

    def advance(project, *steps):
        for name, actor, decision in steps:
            project = apply_transition(project, name, actor=actor, **decision)
        return project

    return reach_accepted(
        project, applicant=applicant, reviewer=reviewer, leader=leader, advance=advance
    )


def _xlsx(path, project):
    workbook = Workbook()
    workbook.active.append(list(COLUMNS))
    for i in range(3):
        workbook.active.append(
            [
                "3100231130",
                f"7000000{i}",
                timezone.localdate(),
                "示例文化用品有限公司",
                "91350100M000100Y43",
                project.organization.name,
                500,
                0,
                500,
                "增值税普通发票",
                1,
            ]
        )
    buffer = BytesIO()
    workbook.save(buffer)
    path.write_bytes(buffer.getvalue())


def test_import_then_finance_checks(
    page, live_server, org_a, applicant, reviewer, leader, finance, screenshot, tmp_path
):
    project = _accepted(org_a, applicant, reviewer, leader)
    upload = tmp_path / "发票清单.xlsx"
    _xlsx(upload, project)
    login(page, live_server, applicant.username, PASSWORD)
    page.goto(f"{live_server.url}/admin/projects/project/{project.pk}/money/invoice-import/")
    page.set_input_files("input[type=file]", str(upload))
    page.click("input[value='上传并预览']")
    page.wait_for_selector("text=全部通过校验")
    screenshot("money-import-preview")
    page.click("input[value='确认导入']")
    page.wait_for_selector("text=已导入 3 张发票")
    assert Invoice.objects.filter(project=project).count() == 3

    page.context.clear_cookies()
    login(page, live_server, finance.username, PASSWORD)
    page.goto(f"{live_server.url}/admin/projects/invoice/")
    page.locator("input.action-select").first.check()
    page.select_option("select[name=action]", "mark_unqualified")
    page.click("button[name=index]")
    page.fill("#id_reason", "抬头不符")
    page.click("input[value='确认标记为不合格']")
    page.wait_for_selector("text=已审核 1 张发票")
    screenshot("money-invoices-checked")
    assert Invoice.objects.filter(check_status="unqualified", check_reason="抬头不符").count() == 1
    page.goto(f"{live_server.url}/admin/projects/project/{project.pk}/money/final-accounts/")
    assert "¥1,500.00" in page.content()
