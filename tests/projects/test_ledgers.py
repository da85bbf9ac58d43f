"""The year's pool and the sub-ledgers reconcile exactly with the rows beneath them."""

from decimal import Decimal

import pytest
from django.utils import timezone

from projects.models.money import Disbursement
from projects.selectors.ledgers import pool_ledger, sub_ledger
from projects.services import apply_transition
from projects.services.disbursements import disbursement_reverse
from tests.factories import BudgetLineFactory, ProjectFactory
from tests.projects import fixtures_money
from tests.projects.conftest import CHECKLIST_YES
from tests.projects.fixtures_money import (
    add_invoices,
    check_all,
    request_and_approve,
    settle_decision,
)

pytestmark = pytest.mark.django_db
accepted = fixtures_money.accepted


def approved_project(org, leader_user, reviewer_user, leader, amount):
    project = ProjectFactory(organization=org, leader=leader_user)
    BudgetLineFactory(project=project, quantity=Decimal("1"), unit_price=Decimal(amount))
    for name, actor, decision in (
        ("submit", leader_user, {}),
        ("org_approve", reviewer_user, {"opinion": "同意", **CHECKLIST_YES}),
        ("approve", leader, {"opinion": "同意", "grade": 3, "approved_amount": amount}),
    ):
        project = apply_transition(project, name, actor=actor, **decision)
    return project


@pytest.fixture
def books(
    accepted, applicant, reviewer, leader, finance, advance, org_b, outsider, outsider_applicant
):
    """A: settled ¥2,000 of ¥3,000 with ¥500 unqualified, reversed and not yet re-paid;
    B: one running project of ¥4,000 and one terminated of ¥1,000."""
    invoices = add_invoices(accepted, applicant, Decimal("2000.00"), Decimal("500.00"))
    check_all(invoices, finance, unqualified=invoices[1:])
    project = request_and_approve(
        accepted, reviewer=reviewer, leader=leader, limit="2500", advance=advance
    )
    settled = apply_transition(project, "settle", actor=finance, **settle_decision(project))
    disbursement_reverse(
        disbursement=Disbursement.objects.get(project=settled),
        actor=finance,
        voucher_number="R-1",
        voucher_date=timezone.localdate(),
        reason="账号错误",
    )
    approved_project(org_b, outsider_applicant, outsider, leader, "4000.00")
    stopped = approved_project(org_b, outsider_applicant, outsider, leader, "1000.00")
    apply_transition(stopped, "terminate", actor=leader, opinion="无法实施")
    return settled


def test_pool_ledger_reconciles(books, policy, org_a, org_b, django_assert_max_num_queries):
    with django_assert_max_num_queries(4):
        ledger = pool_ledger(policy.year)
    rows = {row.organization: row for row in ledger.rows}
    a, b = rows[org_a], rows[org_b]
    assert (a.approved, a.committed, a.settled, a.loss, a.disbursed) == (
        Decimal("3000.00"),
        Decimal("2000.00"),
        Decimal("2000.00"),
        Decimal("500.00"),
        Decimal("0.00"),
    )
    assert (a.released_by_settlement, a.released_by_termination) == (Decimal("1000.00"), 0)
    assert (b.approved, b.committed, b.released_by_termination) == (
        Decimal("5000.00"),
        Decimal("4000.00"),
        Decimal("1000.00"),
    )
    total = ledger.total
    assert total.committed == a.committed + b.committed == policy.committed()
    assert total.approved - total.released == total.committed
    assert ledger.remaining == policy.remaining() == Decimal("94000.00")
    assert total.disbursed == sum(d.amount for d in Disbursement.objects.all())
    assert total.outstanding == total.committed - total.disbursed


def test_sub_ledger_reconciles_with_the_pool(
    books, policy, org_a, org_b, django_assert_max_num_queries
):
    ledger = pool_ledger(policy.year)
    for org in (org_a, org_b):
        with django_assert_max_num_queries(3):
            sub = sub_ledger(org, policy.year)
        row = next(r for r in ledger.rows if r.organization == org)
        for name in ("approved", "committed", "settled", "loss", "disbursed", "released"):
            assert getattr(sub.total, name) == getattr(row, name), name
        assert sub.entries_total == sub.total.disbursed
    sub_a = sub_ledger(org_a, policy.year)
    assert [e.amount for e in sub_a.entries] == [Decimal("2000.00"), Decimal("-2000.00")]
    assert sub_a.entries[1].reverses == sub_a.entries[0]


def test_ledger_queries_do_not_grow_with_data(
    books, policy, org_b, outsider, outsider_applicant, leader, django_assert_max_num_queries
):
    for _ in range(5):
        approved_project(org_b, outsider_applicant, outsider, leader, "100.00")
    with django_assert_max_num_queries(4):
        pool_ledger(policy.year)
    with django_assert_max_num_queries(3):
        sub_ledger(org_b, policy.year)


def test_demo_data_is_idempotent_and_its_books_reconcile(django_assert_max_num_queries):
    from django.core.management import call_command

    from projects.models import FundingPolicy, Invoice, Project

    call_command("demo_data")
    counts = (Project.objects.count(), Invoice.objects.count(), Disbursement.objects.count())
    call_command("demo_data")
    assert (
        Project.objects.count(),
        Invoice.objects.count(),
        Disbursement.objects.count(),
    ) == counts
    policy = FundingPolicy.objects.get(year=timezone.localdate().year)
    ledger = pool_ledger(policy.year)
    assert ledger.remaining == policy.remaining() >= 0
    assert Disbursement.objects.filter(reverses__isnull=False).count() == 1
    assert Invoice.objects.filter(check_status="unqualified").exists()
    for row in ledger.rows:
        sub = sub_ledger(row.organization, policy.year)
        assert sub.total.disbursed == row.disbursed == sub.entries_total
    call_command("verify_history")
