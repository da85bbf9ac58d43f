"""Settlement (三(四)): final accounts, the payable limit, settle's arithmetic and payment,
separation of duties."""

from decimal import Decimal

import pytest

from accounts.roles import Role
from projects.forms import form_for
from projects.models import ProjectHistory, State
from projects.models.money import Disbursement
from projects.services import WorkflowError, apply_transition
from projects.services.disbursements import disbursed_total
from projects.services.final_accounts import final_accounts_get, final_accounts_save
from tests.factories import UserFactory
from tests.projects import fixtures_money
from tests.projects.fixtures_money import (
    add_invoices,
    check_all,
    request_and_approve,
    settle_decision,
)

pytestmark = pytest.mark.django_db
accepted = fixtures_money.accepted


def test_request_settlement_needs_invoices_and_final_accounts(accepted, reviewer, applicant):
    with pytest.raises(WorkflowError, match="决算清单"):
        apply_transition(accepted, "request_settlement", actor=reviewer, opinion="")
    add_invoices(accepted, applicant, Decimal("1000.00"))
    with pytest.raises(WorkflowError, match="决算清单"):
        apply_transition(accepted, "request_settlement", actor=reviewer, opinion="")
    line = accepted.budget_lines.get()
    # The leader is not the org: the final accounts are not saved and the request refused.
    with pytest.raises(WorkflowError):
        apply_transition(
            accepted, "request_settlement", actor=applicant, actual_amounts={line.pk: "900"}
        )
    line.refresh_from_db()
    assert line.actual_amount is None
    project = apply_transition(
        accepted, "request_settlement", actor=reviewer, actual_amounts={line.pk: "980.50"}
    )
    assert project.state == State.SETTLEMENT_REVIEW
    line.refresh_from_db()
    assert line.actual_amount == Decimal("980.50")


def test_bad_final_accounts_change_nothing(accepted, reviewer, applicant):
    add_invoices(accepted, applicant, Decimal("1000.00"))
    line = accepted.budget_lines.get()
    for bad in ("-1", "1.234", "abc"):
        with pytest.raises(WorkflowError):
            apply_transition(
                accepted, "request_settlement", actor=reviewer, actual_amounts={line.pk: bad}
            )
    accepted.refresh_from_db()
    line.refresh_from_db()
    assert accepted.state == State.ACCEPTED and line.actual_amount is None


def test_final_accounts_per_line_with_totals(accepted, applicant, reviewer, finance):
    invoices = add_invoices(accepted, applicant, Decimal("1000.00"), Decimal("500.00"))
    check_all(invoices[:1], finance)
    line = accepted.budget_lines.get()
    final_accounts_save(project=accepted, actor=reviewer, actual_amounts={line.pk: "1500.00"})
    accounts = final_accounts_get(project=accepted)
    (row,) = accounts.rows
    assert (row.budgeted, row.actual, row.invoiced, row.qualified, row.pending) == (
        Decimal("3000.00"),
        Decimal("1500.00"),
        Decimal("1500.00"),
        Decimal("1000.00"),
        Decimal("500.00"),
    )
    assert accounts.invoiced == Decimal("1500.00") and accounts.complete


def test_request_settlement_form_carries_the_final_accounts(accepted, reviewer, applicant):
    add_invoices(accepted, applicant, Decimal("1000.00"))
    line = accepted.budget_lines.get()
    form_class = form_for("request_settlement")
    form = form_class(
        {"expected_state": "accepted", "opinion": "", f"actual_{line.pk}": "1000.00"},
        project=accepted,
        actor=reviewer,
    )
    assert form.is_valid(), form.errors
    project = apply_transition(accepted, "request_settlement", actor=reviewer, **form.decision())
    assert project.state == State.SETTLEMENT_REVIEW
    bad = form_class({"expected_state": "accepted", f"actual_{line.pk}": "1.001"}, project=accepted)
    assert not bad.is_valid()


def test_approve_payment_limit(accepted, reviewer, applicant, leader, advance):
    add_invoices(accepted, applicant, Decimal("1000.00"), Decimal("1200.00"))
    line = accepted.budget_lines.get()
    project = advance(
        accepted, ("request_settlement", reviewer, {"actual_amounts": {line.pk: "2200"}})
    )
    for limit, message in (
        ("3000.01", "核定金额"),
        ("2200.01", "发票申报合计"),
        ("0", "大于 0"),
    ):
        with pytest.raises(WorkflowError, match=message):
            apply_transition(
                project, "approve_payment", actor=leader, opinion="同意", payable_limit=limit
            )
    with pytest.raises(WorkflowError):
        apply_transition(
            project, "approve_payment", actor=reviewer, opinion="同意", payable_limit="1"
        )
    project = apply_transition(
        project, "approve_payment", actor=leader, opinion="同意", payable_limit="2200.00"
    )
    assert project.payable_limit == Decimal("2200.00") and project.payment_approved_by == leader


def _to_payment(project, applicant, reviewer, leader, finance, advance, totals, unqualified, limit):
    invoices = add_invoices(project, applicant, *[Decimal(t) for t in totals])
    check_all(invoices, finance, unqualified=[invoices[i] for i in unqualified])
    return request_and_approve(
        project, reviewer=reviewer, leader=leader, limit=limit, advance=advance
    )


@pytest.mark.parametrize(
    ("totals", "unqualified", "limit", "settlement", "loss"),
    [
        (["1000.00", "1500.00"], [], "2500.00", "2500.00", "0.00"),  # all qualified
        (["1000.00", "1500.00"], [0], "2500.00", "1500.00", "1000.00"),  # some unqualified
        (["2000.00", "1000.00"], [], "2400.00", "2400.00", "0.00"),  # over the limit
        (["800.00"], [0], "800.00", "0.00", "800.00"),  # zero: nothing qualified
    ],
)
def test_settlement_arithmetic(
    accepted,
    applicant,
    reviewer,
    leader,
    finance,
    advance,
    policy,
    totals,
    unqualified,
    limit,
    settlement,
    loss,
):
    project = _to_payment(
        accepted, applicant, reviewer, leader, finance, advance, totals, unqualified, limit
    )
    decision = settle_decision(project)
    project = apply_transition(project, "settle", actor=finance, **decision)
    assert project.state == State.SETTLED
    assert project.settlement_amount == Decimal(settlement)
    assert project.loss_amount == Decimal(loss)
    # The rest of the approved ¥3,000 goes back to the year's pool.
    assert project.committed_amount == Decimal(settlement)
    assert policy.remaining() == policy.pool_total - Decimal(settlement)
    rows = list(Disbursement.objects.filter(project=project))
    if Decimal(settlement) > 0:
        (row,) = rows
        assert row.amount == Decimal(settlement)
        assert row.voucher_number == decision["voucher_number"]
        assert (row.prepared_by, row.approved_by, row.paid_by) == (finance, leader, finance)
        assert row.method == "allocation" and row.bank_serial == "SN0001"
    else:
        assert rows == []
    assert disbursed_total(project) <= project.settlement_amount <= project.approved_amount
    history = ProjectHistory.objects.filter(project=project).latest("seq")
    assert history.transition == "settle" and history.data["loss_amount"] == loss


def test_settle_needs_every_invoice_checked(
    accepted, applicant, reviewer, leader, finance, advance
):
    invoices = add_invoices(accepted, applicant, Decimal("1000.00"), Decimal("500.00"))
    check_all(invoices[:1], finance)
    project = request_and_approve(
        accepted, reviewer=reviewer, leader=leader, limit="1500", advance=advance
    )
    with pytest.raises(WorkflowError, match="未经财政科审核"):
        apply_transition(project, "settle", actor=finance, **settle_decision(project))
    assert not Disbursement.objects.exists()


def test_settle_needs_a_complete_voucher(accepted, applicant, reviewer, leader, finance, advance):
    project = _to_payment(
        accepted, applicant, reviewer, leader, finance, advance, ["1000.00"], [], "1000"
    )
    with pytest.raises(WorkflowError, match="支付凭证号"):
        apply_transition(
            project, "settle", actor=finance, **settle_decision(project, voucher_number="")
        )
    project.refresh_from_db()
    assert project.state == State.PAYMENT and project.settlement_amount is None
    assert not Disbursement.objects.exists()


def test_voucher_number_is_unique(accepted, applicant, reviewer, leader, finance, advance):
    project = _to_payment(
        accepted, applicant, reviewer, leader, finance, advance, ["1000.00"], [], "1000"
    )
    decision = settle_decision(project)
    apply_transition(project, "settle", actor=finance, **decision)
    form = form_for("settle")({**decision, "expected_state": "payment"}, project=project)
    assert not form.is_valid() and "已被使用" in str(form.errors)


def test_separation_of_duties_the_approver_does_not_pay(
    accepted, applicant, reviewer, finance, advance, work_committee
):
    both = UserFactory(organization=work_committee, roles=[Role.LEADERSHIP, Role.FINANCE])
    project = _to_payment(
        accepted, applicant, reviewer, both, finance, advance, ["1000.00"], [], "1000"
    )
    with pytest.raises(WorkflowError, match="无权"):
        apply_transition(project, "settle", actor=both, **settle_decision(project))
    for wrong in (applicant, reviewer):
        with pytest.raises(WorkflowError):
            apply_transition(project, "settle", actor=wrong, **settle_decision(project))
    project = apply_transition(project, "settle", actor=finance, **settle_decision(project))
    assert project.state == State.SETTLED


def test_settle_form_defaults_to_the_organisations_account(
    accepted, applicant, reviewer, leader, finance, advance
):
    project = _to_payment(
        accepted, applicant, reviewer, leader, finance, advance, ["1000.00"], [], "1000"
    )
    form = form_for("settle")(project=project, actor=finance)
    assert form.fields["payee_account"].initial == project.organization.bank_account
    assert form.fields["payment_method"].initial == "allocation"
    assert ("结算金额", "¥1,000.00") in [f[:2] for f in form.settlement_figures()]


def test_return_settlement_reopens_invoice_entry(accepted, applicant, reviewer, leader, advance):
    add_invoices(accepted, applicant, Decimal("1000.00"))
    line = accepted.budget_lines.get()
    project = advance(
        accepted,
        ("request_settlement", reviewer, {"actual_amounts": {line.pk: "1000"}}),
        ("return_settlement", leader, {"opinion": "补充发票"}),
    )
    assert project.state == State.ACCEPTED
    add_invoices(project, applicant, Decimal("200.00"))


def test_approve_payment_form(accepted, applicant, reviewer, leader, advance):
    add_invoices(accepted, applicant, Decimal("1000.00"))
    line = accepted.budget_lines.get()
    project = advance(
        accepted, ("request_settlement", reviewer, {"actual_amounts": {line.pk: "1000"}})
    )
    form_class = form_for("approve_payment")
    form = form_class(project=project, actor=leader)
    assert form.fields["payable_limit"].initial == Decimal("1000.00")
    for bad in ("0", "-5", "1.001", "abc"):
        bad_form = form_class(
            {"expected_state": project.state, "opinion": "同意", "payable_limit": bad},
            project=project,
        )
        assert not bad_form.is_valid()
    good = form_class(
        {"expected_state": project.state, "opinion": "同意", "payable_limit": "1000.00"},
        project=project,
    )
    assert good.is_valid(), good.errors
    project = apply_transition(project, "approve_payment", actor=leader, **good.decision())
    assert project.state == State.PAYMENT


# --- issue 10: every money form field reads through the one parser -----------------------

NOT_MONEY = ["1e3", "+100", "1_000", "١٠٠٠", "12.345", "1,00"]


@pytest.mark.parametrize("bad", NOT_MONEY)
def test_money_forms_refuse_what_the_parser_refuses(accepted, applicant, reviewer, bad):
    from projects.forms_money import RecordForm

    add_invoices(accepted, applicant, Decimal("1000.00"))
    line = accepted.budget_lines.get()
    final = form_for("request_settlement")(
        {"expected_state": "accepted", "opinion": "", f"actual_{line.pk}": bad}, project=accepted
    )
    assert not final.is_valid() and f"actual_{line.pk}" in final.errors
    approve = form_for("approve_payment")(
        {"expected_state": "payment", "opinion": "同意", "payable_limit": bad}, project=accepted
    )
    assert not approve.is_valid() and "payable_limit" in approve.errors
    record = RecordForm({"amount": bad})
    assert not record.is_valid() and "amount" in record.errors


def test_money_forms_accept_thousands_separators_exactly(accepted, applicant):
    from projects.forms_money import RecordForm

    approve = form_for("approve_payment")(
        {"expected_state": "payment", "opinion": "同意", "payable_limit": "1,000.50"},
        project=accepted,
    )
    assert approve.is_valid(), approve.errors
    assert approve.cleaned_data["payable_limit"] == Decimal("1000.50")
    record = RecordForm({"amount": "¥2,500.00"})
    record.is_valid()
    assert record.cleaned_data["amount"] == Decimal("2500.00")


def test_final_accounts_save_refuses_rounding_and_leaves_a_verifiable_event(
    accepted, applicant, reviewer
):
    from projects.models import ProjectHistory
    from projects.services import events

    add_invoices(accepted, applicant, Decimal("1000.00"))
    line = accepted.budget_lines.get()
    with pytest.raises(WorkflowError, match="最多保留两位小数"):
        final_accounts_save(project=accepted, actor=reviewer, actual_amounts={line.pk: "999.999"})
    with pytest.raises(WorkflowError, match="最多保留两位小数"):
        # A Decimal with three places is not rounded by the service either.
        final_accounts_save(
            project=accepted, actor=reviewer, actual_amounts={line.pk: Decimal("999.995")}
        )
    line.refresh_from_db()
    assert line.actual_amount is None
    final_accounts_save(project=accepted, actor=reviewer, actual_amounts={line.pk: "1,000.00"})
    event = ProjectHistory.objects.filter(project=accepted).order_by("-seq").first()
    assert event.transition == "final_accounts_save"
    assert event.data["before"] == {str(line.pk): None}
    assert event.data["after"] == {str(line.pk): "1000.00"}
    assert events.verify().ok


def test_payment_forms_share_the_one_field_list():
    from projects.forms_money import PaymentForm, RecordForm, SettleForm
    from projects.services.disbursements import PAYMENT_FIELDS

    assert tuple(PaymentForm.base_fields) == PAYMENT_FIELDS
    assert set(PAYMENT_FIELDS) <= set(SettleForm.base_fields)
    assert list(RecordForm().fields) == ["amount", "purpose", *PAYMENT_FIELDS]


def test_separation_of_duties_who_checked_an_invoice_does_not_approve_the_payment(
    accepted, applicant, reviewer, leader, advance, work_committee
):
    # Issue 10, hole 13: the invoice checks decide the settlement amount the payment
    # approval bounds, so the member who checked one of them does not approve its payment.
    from projects.services.invoices import invoice_check

    both = UserFactory(organization=work_committee, roles=[Role.LEADERSHIP, Role.FINANCE])
    (invoice,) = add_invoices(accepted, applicant, Decimal("1000.00"))
    invoice_check(invoice=invoice, actor=both, qualified=True)
    line = accepted.budget_lines.get()
    project = advance(
        accepted, ("request_settlement", reviewer, {"actual_amounts": {line.pk: "1000"}})
    )
    decision = {"opinion": "同意拨付", "payable_limit": Decimal("1000")}
    with pytest.raises(WorkflowError, match="无权"):
        apply_transition(project, "approve_payment", actor=both, **decision)
    project = apply_transition(project, "approve_payment", actor=leader, **decision)
    assert project.state == State.PAYMENT and project.payment_approved_by == leader
