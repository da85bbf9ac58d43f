"""Invoices (DESIGN.md §4): validation, the one-claim rule, flags, finance's check."""

import datetime
from decimal import Decimal

import pytest

from accounts.roles import Role
from projects.models import ProjectHistory
from projects.models.money import Invoice
from projects.selectors.invoices import buyer_matches, invoice_flags, invoice_risks
from projects.services import WorkflowError, events
from projects.services.invoices import (
    invoice_add,
    invoice_check,
    invoice_identity,
    invoice_recheck,
    invoice_update,
)
from tests.factories import BudgetLineFactory, ProjectFactory
from tests.projects import fixtures_money
from tests.projects.fixtures_money import OTHER_SELLER_ID, invoice_data

accepted = fixtures_money.accepted

pytestmark = pytest.mark.django_db


def refused(project, actor, **overrides) -> str:
    before = Invoice.objects.filter(project=project).count()
    with pytest.raises(WorkflowError) as err:
        invoice_add(project=project, actor=actor, **invoice_data(project, **overrides))
    # A refused entry stores nothing: the project's invoices are what they were before.
    assert Invoice.objects.filter(project=project).count() == before
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
        ({"amount": "-5.00", "tax": "10.00", "total": "5.00"}, "蓝字发票的金额和税额不能为负数"),
        ({"amount": "-15.00", "tax": "5.00", "total": "-10.00"}, "红字发票"),
        ({"cancels": "310023113012345678"}, "只有红字发票"),
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
    assert "period" in [r.key for r in invoice_risks(early)]
    other_buyer = invoice_add(
        project=accepted, actor=applicant, **invoice_data(accepted, buyer_name="别的单位")
    )
    assert [r.key for r in invoice_risks(other_buyer)] == ["buyer"]
    assert "“别的单位”" in invoice_flags(other_buyer)[0]
    # ¥1,000 + ¥1,000 + ¥1,500 on a ¥3,000 line: the last goes over the remaining ¥1,000.
    over = invoice_add(
        project=accepted,
        actor=applicant,
        **invoice_data(accepted, amount="1500.00", total="1500.00"),
    )
    assert "over_line" in [r.key for r in invoice_risks(over)]
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


# --- hole 5: one paper invoice, one identity ------------------------------------------------


@pytest.mark.parametrize(
    "digits",
    [
        "\u0661\u0662\u0663\u0664\u0665\u0666\u0667\u0668",  # Arabic-Indic ١٢٣٤٥٦٧٨
        "\u06f1\u06f2\u06f3\u06f4\u06f5\u06f6\u06f7\u06f8",  # Extended Arabic-Indic
        "\u0967\u0968\u0969\u096a\u096b\u096c\u096d\u096e",  # Devanagari १२३४५६७८
        "\u09e7\u09e8\u09e9\u09ea\u09eb\u09ec\u09ed\u09ee",  # Bengali
    ],
)
def test_other_scripts_digits_are_not_an_invoice_number(accepted, applicant, digits):
    invoice_add(project=accepted, actor=applicant, **invoice_data(accepted, number="12345678"))
    # The same number in another script would be a second identity: refused, not stored.
    assert "应为8位数字" in refused(accepted, applicant, number=digits)
    digital = "\u0662" * 20
    assert "应为20位数字" in refused(accepted, applicant, kind="digital", code="", number=digital)
    assert "应为10位或12位数字" in refused(accepted, applicant, code="\u0663" * 10)
    assert Invoice.objects.count() == 1


def test_full_width_digits_fold_to_the_same_invoice(accepted, applicant):
    invoice_add(project=accepted, actor=applicant, **invoice_data(accepted, number="12345678"))
    message = refused(accepted, applicant, code="３１００２３１１３０", number="１２３４５６７８")
    assert "只能报销一次" in message


def test_vat_invoice_re_entered_as_a_digital_number_is_the_same_invoice(accepted, applicant):
    vat = invoice_add(
        project=accepted,
        actor=applicant,
        **invoice_data(accepted, kind="vat_special", code="310023113011", number="12345678"),
    )
    assert vat.identity == "31002311301112345678"
    # Its 12-digit code and 8-digit number typed as one 20-digit 数电 number.
    message = refused(accepted, applicant, kind="digital", code="", number="31002311301112345678")
    assert "只能报销一次" in message
    # … or under 其他 with the same code and number.
    message = refused(accepted, applicant, kind="other", code="310023113011", number="12345678")
    assert "只能报销一次" in message
    assert Invoice.objects.count() == 1


def test_digital_invoice_first_then_the_vat_form_is_refused(accepted, applicant):
    invoice_add(
        project=accepted,
        actor=applicant,
        **invoice_data(accepted, kind="digital", code="", number="31002311301187654321"),
    )
    message = refused(
        accepted, applicant, kind="vat_ordinary", code="310023113011", number="87654321"
    )
    assert "只能报销一次" in message


def test_database_refuses_the_cross_kind_duplicate(accepted, applicant):
    from django.db import IntegrityError, transaction

    vat = invoice_add(
        project=accepted,
        actor=applicant,
        **invoice_data(accepted, code="310023113011", number="12345678"),
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        Invoice.objects.create(
            project=accepted,
            budget_line=vat.budget_line,
            kind="digital",
            code="",
            number="31002311301112345678",
            identity=invoice_identity("", "31002311301112345678"),
            issue_date=vat.issue_date,
            seller_name="x",
            seller_tax_id=vat.seller_tax_id,
            buyer_name="x",
            amount=1,
            tax=0,
            total=1,
            created_by=applicant,
        )


@pytest.mark.parametrize("amount", ["1e3", "+100", "1_000", "\u0661\u0660\u0660", "12.345"])
def test_invoice_amounts_go_through_the_one_money_parser(accepted, applicant, amount):
    assert "金额" in refused(accepted, applicant, amount=amount, total=amount)


def test_invoice_amount_with_thousands_separators_is_accepted(accepted, applicant):
    data = invoice_data(accepted, amount="1,000.00", tax="0", total="1,000.00")
    invoice = invoice_add(project=accepted, actor=applicant, **data)
    assert invoice.total == Decimal("1000.00")


# --- hole 2: a decided check changes only by 改判 ------------------------------------------


def last_event(project) -> ProjectHistory:
    return ProjectHistory.objects.filter(project=project).order_by("-seq").first()


def test_decided_check_is_not_flipped_by_a_second_check(accepted, applicant, finance):
    invoice = invoice_add(project=accepted, actor=applicant, **invoice_data(accepted))
    invoice_check(invoice=invoice, actor=finance, qualified=True)
    for qualified, reason in ((False, "抬头不符"), (True, "")):
        with pytest.raises(WorkflowError, match="改判"):
            invoice_check(invoice=invoice, actor=finance, qualified=qualified, reason=reason)
    invoice.refresh_from_db()
    assert invoice.check_status == "qualified"
    assert ProjectHistory.objects.filter(project=accepted, transition="invoice_check").count() == 1


def test_recheck_needs_a_reason_and_is_its_own_signed_event(accepted, applicant, finance):
    invoice = invoice_add(project=accepted, actor=applicant, **invoice_data(accepted))
    with pytest.raises(WorkflowError, match="尚未审核"):
        invoice_recheck(invoice=invoice, actor=finance, qualified=False, reason="x")
    invoice_check(invoice=invoice, actor=finance, qualified=True)
    with pytest.raises(WorkflowError, match="改判理由"):
        invoice_recheck(invoice=invoice, actor=finance, qualified=False, reason="  ")
    with pytest.raises(WorkflowError, match="已是"):
        invoice_recheck(invoice=invoice, actor=finance, qualified=True, reason="复核无误")
    rechecked = invoice_recheck(
        invoice=invoice, actor=finance, qualified=False, reason="复核发现抬头不符"
    )
    assert rechecked.check_status == "unqualified"
    assert rechecked.check_reason == "复核发现抬头不符"
    event = last_event(accepted)
    assert event.transition == "invoice_recheck"
    assert event.actor == finance and event.opinion == "复核发现抬头不符"
    assert event.data["before"]["check_status"] == "qualified"
    assert event.data["after"]["check_status"] == "unqualified"
    assert event.data["reason"] == "复核发现抬头不符"
    assert events.verify().ok
    # And back again: a second 改判 is a second event.
    invoice_recheck(invoice=invoice, actor=finance, qualified=True, reason="补充材料后合格")
    assert ProjectHistory.objects.filter(transition="invoice_recheck").count() == 2
    assert events.verify().ok


def test_every_invoice_write_leaves_a_verifiable_event_with_before_and_after(
    accepted, applicant, finance
):
    invoice = invoice_add(project=accepted, actor=applicant, **invoice_data(accepted))
    assert last_event(accepted).transition == "invoice_add"
    assert last_event(accepted).data["after"]["total"] == "1000.00"
    assert events.verify().ok
    invoice_update(
        invoice=invoice,
        actor=applicant,
        **invoice_data(accepted, number=invoice.number, amount="800.00", total="800.00"),
    )
    event = last_event(accepted)
    assert event.transition == "invoice_update"
    assert (event.data["before"]["total"], event.data["after"]["total"]) == ("1000.00", "800.00")
    assert events.verify().ok
    invoice_check(invoice=invoice, actor=finance, qualified=False, reason="抬头不符")
    event = last_event(accepted)
    assert event.transition == "invoice_check"
    assert event.data["before"]["check_status"] == "pending"
    assert event.data["after"] == {"check_status": "unqualified", "check_reason": "抬头不符"}
    assert events.verify().ok


# --- hole 13: the payment's approver checks none of its invoices ----------------------------


@pytest.fixture
def finance2(work_committee):
    """Like the demo's finance2: a leadership member who also holds the finance role."""
    from tests.factories import UserFactory

    return UserFactory(
        username="finance2", organization=work_committee, roles=[Role.LEADERSHIP, Role.FINANCE]
    )


def test_payment_approver_may_not_check_or_recheck_that_projects_invoices(
    accepted, applicant, reviewer, finance, finance2, advance
):
    first, second, third = (
        invoice_add(project=accepted, actor=applicant, **invoice_data(accepted, amount=t, total=t))
        for t in ("1000.00", "500.00", "300.00")
    )
    # finance2 (also leadership) checks none of them: whoever checked one may not approve
    # the payment (the other half of the rule, tested in test_settlement).
    invoice_check(invoice=first, actor=finance, qualified=True)
    line = accepted.budget_lines.get()
    project = advance(
        accepted,
        ("request_settlement", reviewer, {"opinion": "", "actual_amounts": {line.pk: "1800"}}),
        ("approve_payment", finance2, {"opinion": "同意", "payable_limit": Decimal("1800.00")}),
    )
    assert project.payment_approved_by == finance2
    with pytest.raises(WorkflowError, match="职责分离"):
        invoice_check(invoice=second, actor=finance2, qualified=True)
    with pytest.raises(WorkflowError, match="职责分离"):
        invoice_recheck(invoice=first, actor=finance2, qualified=False, reason="改主意")
    second.refresh_from_db()
    first.refresh_from_db()
    assert (first.check_status, second.check_status) == ("qualified", "pending")
    # Another finance member still can.
    invoice_check(invoice=second, actor=finance, qualified=True)
    invoice_recheck(invoice=first, actor=finance, qualified=False, reason="复核不符")
    assert events.verify().ok
    from projects import permissions as perm

    assert not perm.may_check_invoices(project, finance2)
    assert perm.may_check_invoices(project, finance)
    # finance2's to-do list no longer offers the project's pending invoice; finance's does.
    from projects.selectors.invoices import pending_checks

    assert [row["project_id"] for row in pending_checks(finance)] == [project.pk]
    assert pending_checks(finance2) == []
    assert third.check_status == "pending"


def test_identity_migration_rewrites_old_rows_and_stops_on_a_hidden_double_claim(
    accepted, applicant
):
    import importlib

    from django.apps import apps

    migration = importlib.import_module("projects.migrations.0009_invoice_identity_across_kinds")
    vat = invoice_add(
        project=accepted,
        actor=applicant,
        **invoice_data(accepted, code="310023113011", number="12345678"),
    )
    other = invoice_add(project=accepted, actor=applicant, **invoice_data(accepted))
    # As 0007 stored them: "CODE|NUMBER".
    Invoice.objects.filter(pk=vat.pk).update(identity="310023113011|12345678")
    Invoice.objects.filter(pk=other.pk).update(identity=f"3100231130|{other.number}")
    migration.forwards(apps, None)
    vat.refresh_from_db()
    other.refresh_from_db()
    assert vat.identity == "31002311301112345678"
    assert other.identity == f"3100231130{other.number}"
    # A 数电 row stored under the old scheme that is the same paper invoice: named, not merged.
    Invoice.objects.filter(pk=other.pk).update(
        kind="digital", code="", number="31002311301112345678", identity="|31002311301112345678"
    )
    with pytest.raises(RuntimeError, match="是同一张发票"):
        migration.forwards(apps, None)
