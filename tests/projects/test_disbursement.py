"""Disbursements are append-only: a correction is a reversing entry (红字冲销)."""

from decimal import Decimal

import pytest
from django.utils import timezone

from projects.models import ProjectHistory
from projects.models.money import Disbursement
from projects.services import WorkflowError, apply_transition
from projects.services.disbursements import (
    disbursed_total,
    disbursement_record,
    disbursement_reverse,
)
from tests.projects import fixtures_money
from tests.projects.fixtures_money import (
    add_invoices,
    check_all,
    request_and_approve,
    settle_decision,
)

pytestmark = pytest.mark.django_db
accepted = fixtures_money.accepted


@pytest.fixture
def settled(accepted, applicant, reviewer, leader, finance, advance):
    invoices = add_invoices(accepted, applicant, Decimal("1000.00"), Decimal("1500.00"))
    check_all(invoices, finance)
    project = request_and_approve(
        accepted, reviewer=reviewer, leader=leader, limit="2500", advance=advance
    )
    return apply_transition(project, "settle", actor=finance, **settle_decision(project))


def _payment(**overrides):
    data = {
        "voucher_number": "PZ-NEW-1",
        "voucher_date": timezone.localdate(),
        "payment_method": "allocation",
        "payee_name": "甲社区党支部",
        "payee_bank": "测试银行",
        "payee_account": "6222000000000009",
    }
    return {**data, **overrides}


def test_reversal_points_at_the_original_and_a_corrected_payment_follows(settled, finance):
    original = Disbursement.objects.get(project=settled)
    reversal = disbursement_reverse(
        disbursement=original,
        actor=finance,
        voucher_number="PZ-R-1",
        voucher_date=timezone.localdate(),
        reason="收款账号有误",
    )
    assert reversal.amount == -original.amount and reversal.reverses == original
    assert disbursed_total(settled) == Decimal("0.00")
    corrected = disbursement_record(project=settled, actor=finance, amount="2500.00", **_payment())
    assert corrected.amount == Decimal("2500.00")
    assert disbursed_total(settled) == settled.settlement_amount
    # Nothing was edited: the original row is intact; history records both entries.
    original.refresh_from_db()
    assert original.amount == Decimal("2500.00")
    assert list(
        ProjectHistory.objects.filter(project=settled).values_list("transition", flat=True)
    )[-2:] == ["disbursement_reverse", "disbursement_record"]


def test_one_reversal_per_original_and_no_reversal_of_a_reversal(settled, finance):
    original = Disbursement.objects.get(project=settled)
    reversal = disbursement_reverse(
        disbursement=original,
        actor=finance,
        voucher_number="PZ-R-1",
        voucher_date=timezone.localdate(),
        reason="错误",
    )
    with pytest.raises(WorkflowError, match="已经冲销过"):
        disbursement_reverse(
            disbursement=original,
            actor=finance,
            voucher_number="PZ-R-2",
            voucher_date=timezone.localdate(),
            reason="再次",
        )
    with pytest.raises(WorkflowError, match="不能再冲销"):
        disbursement_reverse(
            disbursement=reversal,
            actor=finance,
            voucher_number="PZ-R-3",
            voucher_date=timezone.localdate(),
            reason="再次",
        )
    assert Disbursement.objects.count() == 2


def test_reversal_needs_reason_and_a_new_voucher(settled, finance):
    original = Disbursement.objects.get(project=settled)
    with pytest.raises(WorkflowError, match="冲销原因"):
        disbursement_reverse(
            disbursement=original,
            actor=finance,
            voucher_number="PZ-R-1",
            voucher_date=timezone.localdate(),
            reason="",
        )
    with pytest.raises(WorkflowError, match="不能重复"):
        disbursement_reverse(
            disbursement=original,
            actor=finance,
            voucher_number=original.voucher_number,
            voucher_date=timezone.localdate(),
            reason="错误",
        )
    assert Disbursement.objects.count() == 1


def test_payments_never_exceed_the_settlement(settled, finance):
    with pytest.raises(WorkflowError, match="超出可拨付余额"):
        disbursement_record(project=settled, actor=finance, amount="0.01", **_payment())
    original = Disbursement.objects.get(project=settled)
    disbursement_reverse(
        disbursement=original,
        actor=finance,
        voucher_number="PZ-R-1",
        voucher_date=timezone.localdate(),
        reason="错误",
    )
    with pytest.raises(WorkflowError, match="超出可拨付余额"):
        disbursement_record(project=settled, actor=finance, amount="2500.01", **_payment())
    for bad in ("-1", "0", "1.001", "abc"):
        with pytest.raises(WorkflowError):
            disbursement_record(project=settled, actor=finance, amount=bad, **_payment())
    assert disbursed_total(settled) == Decimal("0.00")


def test_only_finance_other_than_the_approver_reverses(
    settled, leader, applicant, reviewer, auditor
):
    original = Disbursement.objects.get(project=settled)
    for actor in (leader, applicant, reviewer, auditor):
        with pytest.raises(WorkflowError):
            disbursement_reverse(
                disbursement=original,
                actor=actor,
                voucher_number="PZ-R-1",
                voucher_date=timezone.localdate(),
                reason="错误",
            )
        with pytest.raises(WorkflowError):
            disbursement_record(project=settled, actor=actor, amount="1", **_payment())
    assert Disbursement.objects.count() == 1


def test_database_refuses_a_positive_reversal(settled, finance):
    from django.db import IntegrityError, transaction

    original = Disbursement.objects.get(project=settled)
    with pytest.raises(IntegrityError), transaction.atomic():
        Disbursement.objects.create(
            project=settled,
            amount=Decimal("1"),
            purpose="x",
            voucher_number="X",
            voucher_date=timezone.localdate(),
            method="direct",
            payee_name="x",
            payee_bank="x",
            payee_account="x",
            prepared_by=finance,
            approved_by=finance,
            paid_by=finance,
            reverses=original,
        )


def test_reversal_and_corrected_payment_are_verifiable_events_with_before_and_after(
    settled, finance
):
    from projects.models import ProjectHistory
    from projects.services import events

    original = Disbursement.objects.get(project=settled)
    disbursement_reverse(
        disbursement=original,
        actor=finance,
        voucher_number="R-EV",
        voucher_date=timezone.localdate(),
        reason="账号错误",
    )
    reversal = ProjectHistory.objects.filter(project=settled).order_by("-seq").first()
    assert reversal.transition == "disbursement_reverse"
    assert reversal.data["before"] == {"disbursed": "2500.00"}
    assert reversal.data["after"] == {"disbursed": "0.00"}
    assert events.verify().ok
    for bad in ("1e3", "+100", "1_000", "١٠٠", "100.001"):
        with pytest.raises(WorkflowError):
            disbursement_record(project=settled, actor=finance, amount=bad, **_payment())
    disbursement_record(project=settled, actor=finance, amount="1,000.00", **_payment())
    record = ProjectHistory.objects.filter(project=settled).order_by("-seq").first()
    assert record.transition == "disbursement_record"
    assert record.data["after"] == {"disbursed": "1000.00"}
    assert events.verify().ok
