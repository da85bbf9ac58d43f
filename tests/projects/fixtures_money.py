"""Fixtures of the money area (issue 5): an accepted project and valid invoice data.

Import explicitly: `from tests.projects.fixtures_money import *  # noqa: F403`.
"""

import datetime
import itertools
from decimal import Decimal

import pytest
from django.utils import timezone

from projects.models import SummaryReport
from projects.models.money import Invoice
from projects.services.invoices import invoice_add, invoice_check

SELLER_ID = "91350100M000100Y43"
OTHER_SELLER_ID = "91110108551385082Q"
_numbers = itertools.count(10000001)


def invoice_data(project, **overrides) -> dict:
    """A valid VAT invoice on the project's first budget line (a fresh number each call)."""
    data = {
        "kind": Invoice.Kind.VAT_ORDINARY,
        "code": "3100231130",
        "number": str(next(_numbers)),
        "issue_date": timezone.localdate(),
        "seller_name": "示例文化用品有限公司",
        "seller_tax_id": SELLER_ID,
        "buyer_name": project.organization.name,
        "amount": Decimal("1000.00"),
        "tax": Decimal("0.00"),
        "total": Decimal("1000.00"),
        "budget_line": project.budget_lines.order_by("pk").first(),
    }
    data.update(overrides)
    return data


def reach_accepted(project, *, applicant, reviewer, leader, advance):
    project = advance(project, ("start", applicant, {}))
    SummaryReport.objects.create(
        project=project,
        goals="目标",
        conduct="开展情况",
        self_assessment="自评",
        lessons="经验",
        participant_feedback="心得",
        effect="效果",
        author=applicant,
    )
    return advance(
        project,
        ("finish", reviewer, {"opinion": "活动已完成"}),
        ("accept", leader, {"opinion": "验收通过", "conclusion": "pass"}),
    )


@pytest.fixture
def accepted(approved, applicant, reviewer, leader, advance):
    """Organisation A's project, approved ¥3,000 (one ¥3,000 budget line), now accepted."""
    return reach_accepted(
        approved, applicant=applicant, reviewer=reviewer, leader=leader, advance=advance
    )


def add_invoices(project, actor, *totals) -> list[Invoice]:
    return [
        invoice_add(project=project, actor=actor, **invoice_data(project, amount=t, total=t))
        for t in totals
    ]


def check_all(invoices, finance, *, unqualified=()):
    for invoice in invoices:
        bad = invoice.pk in {i.pk for i in unqualified}
        invoice_check(
            invoice=invoice, actor=finance, qualified=not bad, reason="抬头不符" if bad else ""
        )


def settle_decision(project, **overrides) -> dict:
    data = {
        "opinion": "",
        "voucher_number": f"PZ-{project.pk}-{next(_numbers)}",
        "voucher_date": timezone.localdate(),
        "payment_method": "allocation",
        "payee_name": project.organization.name,
        "payee_bank": "测试银行",
        "payee_account": "6222000000000001",
        "bank_serial": "SN0001",
        "paid_on": timezone.localdate(),
    }
    data.update(overrides)
    return data


def request_and_approve(project, *, reviewer, leader, limit, advance):
    line = project.budget_lines.order_by("pk").first()
    return advance(
        project,
        ("request_settlement", reviewer, {"opinion": "", "actual_amounts": {line.pk: "3000.00"}}),
        ("approve_payment", leader, {"opinion": "同意拨付", "payable_limit": Decimal(limit)}),
    )


YESTERDAY = timezone.localdate() - datetime.timedelta(days=1)
