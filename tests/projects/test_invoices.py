"""Invoices (DESIGN.md §4): validation, the one-claim rule, flags, finance's check."""

import datetime
from decimal import Decimal

import pytest

from projects.models.money import Invoice
from projects.selectors.invoices import buyer_matches, invoice_flags
from projects.services import WorkflowError
from projects.services.invoices import (
    invoice_add,
    invoice_check,
    invoice_identity,
    invoice_update,
)
from tests.factories import BudgetLineFactory, ProjectFactory
from tests.projects import fixtures_money
from tests.projects.fixtures_money import OTHER_SELLER_ID, invoice_data

accepted = fixtures_money.accepted

pytestmark = pytest.mark.django_db


def refused(project, actor, **overrides) -> str:
    with pytest.raises(WorkflowError) as err:
        invoice_add(project=project, actor=actor, **invoice_data(project, **overrides))
    assert not Invoice.objects.filter(project=project).exists() or True
    return str(err.value)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"code": "123456789"}, "应为10位或12位数字"),
        ({"code": "12345678901"}, "应为10位或12位数字"),
        ({"code": "31002311AB"}, "应为10位或12位数字"),
        ({"number": "1234567"}, "应为8位数字"),
        ({"number": "123456789"}, "应为8位数字"),
        ({"number": ""}, "发票号码不能为空"),
        ({"kind": "digital", "code": "", "number": "1234567890123456789"}, "应为20位数字"),
        ({"kind": "digital", "code": "3100231130", "number": "1" * 20}, "数电发票没有发票代码"),
        ({"kind": "不存在的票"}, "票据种类"),
        ({"seller_tax_id": "91350100M000100Y44"}, "统一社会信用代码"),
        ({"seller_tax_id": "9135010"}, "统一社会信用代码"),
        (
            {"amount": Decimal("100.00"), "tax": Decimal("13.00"), "total": Decimal("114.00")},
            "不等于价税合计",
        ),
        ({"amount": "-5.00", "total": "-5.00"}, "不能为负数"),
        ({"amount": "10.005", "total": "10.005"}, "最多保留两位小数"),
        ({"amount": "abc"}, "不是有效的金额"),
        ({"amount": "NaN"}, "不是有效的金额"),
        ({"amount": "0", "total": "0"}, "价税合计必须大于 0"),
        ({"issue_date": "2026-13-01"}, "不是有效的日期"),
        ({"issue_date": datetime.date(2999, 1, 1)}, "不能晚于今天"),
        ({"seller_name": "  "}, "销售方名称不能为空"),
        ({"buyer_name": ""}, "购买方名称不能为空"),
        ({"budget_line": None}, "预算明细"),
    ],
)
def test_each_validation_rule_refuses_with_a_chinese_message(
    accepted, reviewer, overrides, message
):
    assert message in refused(accepted, reviewer, **overrides)
    assert not Invoice.objects.exists()


def test_valid_kinds_are_accepted(accepted, applicant):
    invoice_add(project=accepted, actor=applicant, **invoice_data(accepted, code="310023113011"))
    invoice_add(
        project=accepted,
        actor=applicant,
        **invoice_data(
            accepted, kind="digital", code="", number="２４３１２０００００００１２３４５６７８"
        ),
    )
    invoice_add(
        project=accepted,
        actor=applicant,
        **invoice_data(
            accepted,
            kind="vat_special",
            seller_tax_id=OTHER_SELLER_ID,
            tax="130.00",
            amount="1000.00",
            total="1130.00",
        ),
    )
    invoice_add(
        project=accepted, actor=applicant, **invoice_data(accepted, kind="fiscal_receipt", code="")
    )
    digital = Invoice.objects.get(kind="digital")
    assert digital.number == "24312000000012345678"  # full-width digits normalised
    assert Invoice.objects.count() == 4


def test_budget_line_of_another_project_is_refused(accepted, reviewer, org_a):
    other = BudgetLineFactory(project=ProjectFactory(organization=org_a))
    assert "不属于本项目" in refused(accepted, reviewer, budget_line=other)


def test_identity_normalises_spaces_and_full_width():
    assert invoice_identity(" 3100 231130", "１２３４５６７８") == invoice_identity(
        "3100231130", "12345678"
    )


def test_same_invoice_cannot_be_claimed_twice_in_the_same_project(accepted, applicant):
    data = invoice_data(accepted)
    invoice_add(project=accepted, actor=applicant, **data)
    spaced = {
        **data,
        "code": " ３１００２３１１３０ ",
        "number": data["number"][:4] + " " + data["number"][4:],
    }
    message = refused(accepted, applicant, **{k: spaced[k] for k in ("code", "number")})
    assert "已在项目“" in message and accepted.code in message
    assert Invoice.objects.count() == 1


def test_duplicate_claim_across_projects_names_the_project_only_to_who_may_see_it(
    accepted, applicant, reviewer, outsider, outsider_applicant, org_b, leader, advance, policy
):
    data = invoice_data(accepted)
    invoice_add(project=accepted, actor=applicant, **data)
    # A project of organisation B, running, tries to claim the same invoice.
    from projects.services import apply_transition
    from tests.projects.conftest import CHECKLIST_YES

    other = ProjectFactory(organization=org_b, leader=outsider_applicant)
    BudgetLineFactory(project=other, quantity=Decimal("1"), unit_price=Decimal("2000.00"))
    for name, actor, decision in (
        ("submit", outsider_applicant, {}),
        ("org_approve", outsider, {"opinion": "同意", **CHECKLIST_YES}),
        ("approve", leader, {"opinion": "同意", "grade": 3, "approved_amount": "2000.00"}),
        ("start", outsider_applicant, {}),
    ):
        other = apply_transition(other, name, actor=actor, **decision)
    with pytest.raises(WorkflowError) as err:
        invoice_add(
            project=other,
            actor=outsider,
            **invoice_data(other, code=data["code"], number=data["number"]),
        )
    assert "其他项目" in str(err.value)
    assert accepted.code not in str(err.value) and accepted.title not in str(err.value)
    assert Invoice.objects.count() == 1


def test_database_enforces_the_unique_identity(accepted, applicant):
    from django.db import IntegrityError, transaction

    invoice = invoice_add(project=accepted, actor=applicant, **invoice_data(accepted))
    with pytest.raises(IntegrityError), transaction.atomic():
        Invoice.objects.create(
            project=accepted,
            budget_line=invoice.budget_line,
            kind=invoice.kind,
            code=invoice.code,
            number=invoice.number,
            identity=invoice.identity,
            issue_date=invoice.issue_date,
            seller_name="x",
            seller_tax_id=invoice.seller_tax_id,
            buyer_name="x",
            amount=1,
            tax=0,
            total=1,
            created_by=applicant,
        )


def test_who_may_enter_invoices_and_when(
    approved, applicant, reviewer, outsider, finance, auditor, advance
):
    # Not before the project runs.
    with pytest.raises(WorkflowError):
        invoice_add(project=approved, actor=applicant, **invoice_data(approved))
    running = advance(approved, ("start", applicant, {}))
    for actor in (outsider, finance, auditor):
        with pytest.raises(WorkflowError):
            invoice_add(project=running, actor=actor, **invoice_data(running))
    invoice_add(project=running, actor=applicant, **invoice_data(running))
    invoice_add(project=running, actor=reviewer, **invoice_data(running))
    assert Invoice.objects.count() == 2


def test_flags_for_finance(accepted, applicant):
    line = accepted.budget_lines.get()
    early = invoice_add(
        project=accepted,
        actor=applicant,
        **invoice_data(accepted, issue_date=accepted.start_date - datetime.timedelta(days=3)),
    )
    assert invoice_flags(early) == ["开票日期不在项目实施期内"]
    other_buyer = invoice_add(
        project=accepted, actor=applicant, **invoice_data(accepted, buyer_name="别的单位")
    )
    assert invoice_flags(other_buyer) == ["抬头与申报组织名称不一致"]
    # ¥1,000 + ¥1,000 + ¥1,500 on a ¥3,000 line: the last goes over the remaining ¥1,000.
    over = invoice_add(
        project=accepted,
        actor=applicant,
        **invoice_data(accepted, amount="1500.00", total="1500.00"),
    )
    assert "超出该预算明细的剩余额度" in invoice_flags(over)
    assert line.amount == Decimal("3000.00")


def test_buyer_name_compared_after_normalising_brackets_and_spaces():
    assert buyer_matches("甲社区党支部（第一） ", "甲社区党支部(第一)")
    assert buyer_matches("甲 社区党支部", "甲社区党支部")
    assert not buyer_matches("乙社区党支部", "甲社区党支部")


def test_finance_checks_and_checked_invoices_are_locked(
    accepted, applicant, reviewer, finance, leader
):
    invoice = invoice_add(project=accepted, actor=applicant, **invoice_data(accepted))
    for actor in (applicant, reviewer, leader):
        with pytest.raises(WorkflowError):
            invoice_check(invoice=invoice, actor=actor, qualified=True)
    with pytest.raises(WorkflowError, match="须填写原因"):
        invoice_check(invoice=invoice, actor=finance, qualified=False, reason=" ")
    checked = invoice_check(invoice=invoice, actor=finance, qualified=False, reason="抬头不符")
    assert checked.check_status == "unqualified" and checked.checked_by == finance
    with pytest.raises(WorkflowError, match="不能再修改"):
        invoice_update(invoice=invoice, actor=applicant, **invoice_data(accepted))
    invoice.refresh_from_db()
    assert invoice.check_status == "unqualified" and invoice.check_reason == "抬头不符"


def test_pending_invoice_can_be_corrected(accepted, applicant):
    invoice = invoice_add(project=accepted, actor=applicant, **invoice_data(accepted))
    updated = invoice_update(
        invoice=invoice,
        actor=applicant,
        **invoice_data(accepted, number=invoice.number, amount="800.00", total="800.00"),
    )
    assert updated.total == Decimal("800.00")
    # Changing it to another claimed invoice's number is refused.
    other = invoice_add(project=accepted, actor=applicant, **invoice_data(accepted))
    with pytest.raises(WorkflowError, match="只能报销一次"):
        invoice_update(
            invoice=invoice, actor=applicant, **invoice_data(accepted, number=other.number)
        )
