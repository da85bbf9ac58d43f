"""The money invariant under real concurrency on PostgreSQL (each thread its own connection):
disbursed total ≤ settlement amount ≤ approved amount, the pool never below zero, and one
invoice claimed once."""

import threading
import time
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

from projects.models import Project, State
from projects.models.money import Disbursement, Invoice
from projects.services import WorkflowError, apply_transition
from projects.services.disbursements import (
    disbursed_total,
    disbursement_record,
    disbursement_reverse,
)
from projects.services.invoice_imports import invoice_import
from tests.projects import fixtures_money
from tests.projects.fixtures_money import (
    add_invoices,
    check_all,
    invoice_data,
    request_and_approve,
    settle_decision,
)

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
accepted = fixtures_money.accepted
THREADS = 8


def race(func, count=THREADS) -> list:
    """Run func(i) in `count` threads released together; returns results or exceptions."""
    barrier = threading.Barrier(count)
    results = [None] * count

    def run(i):
        try:
            barrier.wait()
            results[i] = func(i)
        except Exception as exc:  # noqa: BLE001 - collected and asserted by the test
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def assert_invariant(project):
    project = Project.objects.get(pk=project.pk)
    paid = disbursed_total(project)
    assert paid <= (project.settlement_amount or 0) <= project.approved_amount
    assert project.policy().remaining() >= 0


@pytest.fixture
def in_payment(accepted, applicant, reviewer, leader, finance, advance):
    invoices = add_invoices(accepted, applicant, Decimal("1000.00"), Decimal("1500.00"))
    check_all(invoices, finance)
    return request_and_approve(
        accepted, reviewer=reviewer, leader=leader, limit="2500", advance=advance
    )


def test_many_finance_settles_at_once_pay_once(in_payment, finance):
    def settle(i):
        return apply_transition(in_payment, "settle", actor=finance, **settle_decision(in_payment))

    results = race(settle)
    assert sum(isinstance(r, Project) for r in results) == 1
    assert all(isinstance(r, Project | WorkflowError) for r in results), results
    assert Disbursement.objects.filter(project=in_payment).count() == 1
    assert Project.objects.get(pk=in_payment.pk).state == State.SETTLED
    assert_invariant(in_payment)


def test_many_corrected_payments_at_once_stay_within_the_settlement(in_payment, finance):
    settled = apply_transition(in_payment, "settle", actor=finance, **settle_decision(in_payment))
    disbursement_reverse(
        disbursement=Disbursement.objects.get(project=settled),
        actor=finance,
        voucher_number="R-0",
        voucher_date=timezone.localdate(),
        reason="账号错误",
    )

    def pay(i):
        return disbursement_record(
            project=settled,
            actor=finance,
            amount="1000.00",
            voucher_number=f"C-{i}",
            voucher_date=timezone.localdate(),
            payment_method="allocation",
            payee_name="甲",
            payee_bank="测试银行",
            payee_account="6222",
        )

    results = race(pay)
    # ¥2,500 settled: two payments of ¥1,000 fit, a third would exceed it.
    assert sum(isinstance(r, Disbursement) for r in results) == 2
    assert disbursed_total(settled) == Decimal("2000.00")
    assert_invariant(settled)


def test_reversal_racing_corrected_payments(in_payment, finance):
    settled = apply_transition(in_payment, "settle", actor=finance, **settle_decision(in_payment))
    original = Disbursement.objects.get(project=settled)

    def act(i):
        if i % 2 == 0:
            return disbursement_reverse(
                disbursement=original,
                actor=finance,
                voucher_number=f"R-{i}",
                voucher_date=timezone.localdate(),
                reason="更正",
            )
        return disbursement_record(
            project=settled,
            actor=finance,
            amount="2500.00",
            voucher_number=f"C-{i}",
            voucher_date=timezone.localdate(),
            payment_method="allocation",
            payee_name="甲",
            payee_bank="测试银行",
            payee_account="6222",
        )

    results = race(act)
    reversals = [r for r in results if isinstance(r, Disbursement) and r.amount < 0]
    assert len(reversals) == 1
    assert all(isinstance(r, Disbursement | WorkflowError) for r in results), results
    assert disbursed_total(settled) <= Decimal("2500.00")
    assert_invariant(settled)


def test_settle_racing_reversals(in_payment, finance):
    """Reversal requests arrive while the settle is running: they queue on the project lock,
    and exactly one of them reverses the payment once the settle has committed."""

    def act(i):
        if i == 0:
            return apply_transition(
                in_payment, "settle", actor=finance, **settle_decision(in_payment)
            )
        for _attempt in range(2000):  # wait for the settle's row to become visible
            row = Disbursement.objects.filter(project=in_payment, amount__gt=0).first()
            if row is not None:
                return disbursement_reverse(
                    disbursement=row,
                    actor=finance,
                    voucher_number=f"R-{i}",
                    voucher_date=timezone.localdate(),
                    reason="更正",
                )
            time.sleep(0.005)
        return None

    results = race(act, count=4)
    assert isinstance(results[0], Project), results
    assert all(isinstance(r, Disbursement | WorkflowError) for r in results[1:]), results
    assert sum(isinstance(r, Disbursement) for r in results[1:]) == 1
    assert Disbursement.objects.filter(amount__lt=0).count() == 1
    assert disbursed_total(in_payment) == Decimal("0.00")
    assert_invariant(in_payment)


def test_two_imports_of_the_same_invoice_cannot_both_win(accepted, applicant, reviewer):
    rows = [
        {k: v for k, v in invoice_data(accepted, number=f"{40000000 + i}").items()}
        for i in range(50)
    ]
    for r in rows:
        r["budget_line"] = 1  # 序号 of the line, as in the template

    def run(i):
        actor = applicant if i % 2 == 0 else reviewer
        return invoice_import(
            project=accepted, source=[dict(r) for r in rows], actor=actor, dry_run=False
        )

    results = race(run)
    winners = [r for r in results if not isinstance(r, Exception) and r.created]
    assert len(winners) == 1, results
    losers = [r for r in results if not isinstance(r, Exception) and not r.created]
    assert all(not r.ok for r in losers)
    assert Invoice.objects.count() == 50


def test_one_preview_confirmed_at_once_by_many_requests_stores_once(accepted, applicant):
    from projects.models import ImportPreview, ProjectHistory
    from projects.services.invoice_imports import invoice_import_confirm, invoice_import_preview
    from tests.projects.test_import_previews import invoice_file

    numbers = [f"{41000000 + i}" for i in range(30)]
    preview = invoice_import_preview(
        project=accepted,
        content=invoice_file(accepted, numbers).getvalue(),
        actor=applicant,
        filename="发票.xlsx",
    )
    assert preview.token, preview.messages()

    def confirm(i):
        return invoice_import_confirm(
            project=accepted, token=preview.token, sha256=preview.sha256, actor=applicant
        )

    results = race(confirm, count=4)
    stored = [r for r in results if not isinstance(r, Exception) and r.created]
    assert len(stored) == 1, results
    refused = [r for r in results if isinstance(r, WorkflowError)]
    assert len(refused) == 3 and all("已完成或已过期" in str(r) for r in refused), results
    assert Invoice.objects.count() == 30
    assert ProjectHistory.objects.filter(transition="invoice_import").count() == 1
    assert not ImportPreview.objects.exists()


def test_many_claims_of_one_invoice_at_once(accepted, applicant, reviewer):
    from projects.services.invoices import invoice_add

    data = invoice_data(accepted)

    def claim(i):
        return invoice_add(project=accepted, actor=applicant if i % 2 else reviewer, **data)

    results = race(claim)
    assert sum(isinstance(r, Invoice) for r in results) == 1
    assert all(isinstance(r, Invoice | WorkflowError) for r in results), results
    assert Invoice.objects.count() == 1


# --- issue 10: finance's check and 改判 under real concurrency -----------------------------


@pytest.fixture
def finance_b(work_committee):
    from accounts.roles import Role
    from tests.factories import UserFactory

    return UserFactory(username="erin2", organization=work_committee, roles=[Role.FINANCE])


def test_two_finance_users_checking_the_same_invoice_decide_once(
    accepted, applicant, finance, finance_b
):
    from projects.models import ProjectHistory
    from projects.services import events
    from projects.services.invoices import invoice_check

    (invoice,) = add_invoices(accepted, applicant, Decimal("1000.00"))

    def check(i):
        actor = finance if i % 2 else finance_b
        return invoice_check(
            invoice=invoice, actor=actor, qualified=i % 2 == 0, reason="" if i % 2 == 0 else "不符"
        )

    results = race(check)
    assert sum(isinstance(r, Invoice) for r in results) == 1, results
    assert all(isinstance(r, Invoice | WorkflowError) for r in results), results
    assert all("改判" in str(r) for r in results if isinstance(r, WorkflowError))
    assert ProjectHistory.objects.filter(transition="invoice_check").count() == 1
    assert events.verify().ok


def test_check_racing_rechecks_keeps_one_history_per_decision(accepted, applicant, finance):
    from projects.models import ProjectHistory
    from projects.services import events
    from projects.services.invoices import invoice_check, invoice_recheck

    (invoice,) = add_invoices(accepted, applicant, Decimal("1000.00"))

    def act(i):
        if i == 0:
            return invoice_check(invoice=invoice, actor=finance, qualified=True)
        for _attempt in range(2000):
            try:
                return invoice_recheck(
                    invoice=invoice, actor=finance, qualified=i % 2 == 0, reason=f"复核{i}"
                )
            except WorkflowError as exc:
                if "尚未审核" not in str(exc):
                    return exc
                time.sleep(0.005)
        return None

    results = race(act)
    assert isinstance(results[0], Invoice), results
    assert all(isinstance(r, Invoice | WorkflowError) for r in results), results
    rechecks = ProjectHistory.objects.filter(transition="invoice_recheck").order_by("global_seq")
    # Each 改判 that succeeded changed the conclusion, and the chain of before → after links up.
    statuses = ["qualified"] + [event.data["after"]["check_status"] for event in rechecks]
    assert all(a != b for a, b in zip(statuses, statuses[1:], strict=False))
    for event, before in zip(rechecks, statuses, strict=False):
        assert event.data["before"]["check_status"] == before
    invoice.refresh_from_db()
    assert invoice.check_status == statuses[-1]
    assert events.verify().ok


def test_settle_racing_a_recheck_pays_what_was_decided_before_or_after(
    in_payment, finance, finance_b
):
    """A 改判 to 不合格 arriving with the settle either lands before it (the settlement drops)
    or is refused after it (the project is settled): never a payment of a rejected invoice."""
    from projects.services import events
    from projects.services.invoices import invoice_recheck

    invoice = Invoice.objects.filter(project=in_payment).order_by("total").first()  # ¥1,000

    def act(i):
        if i == 0:
            return apply_transition(
                in_payment, "settle", actor=finance, **settle_decision(in_payment)
            )
        return invoice_recheck(invoice=invoice, actor=finance_b, qualified=False, reason="复核不符")

    results = race(act, count=2)
    assert all(isinstance(r, Project | Invoice | WorkflowError) for r in results), results
    project = Project.objects.get(pk=in_payment.pk)
    invoice.refresh_from_db()
    assert project.state == State.SETTLED, results
    qualified = sum(
        i.total for i in Invoice.objects.filter(project=project, check_status="qualified")
    )
    if isinstance(results[1], Invoice):  # the 改判 came first
        assert project.settlement_amount == Decimal("1500.00") == qualified
    else:
        assert invoice.check_status == "qualified"
        assert project.settlement_amount == Decimal("2500.00") == qualified
    assert disbursed_total(project) == project.settlement_amount
    assert_invariant(project)
    assert events.verify().ok
