"""红字发票 (issue 12): read from the XML and the QR, stored with negative amounts, flagged
together with the blue invoice they cancel (never blocking), filtered on finance's list, and
counted in the settlement so that a red invoice can only lower what is paid."""

from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from projects.capture import read_invoices, read_invoices_with_items
from projects.capture.fields import FIELDS
from projects.models import State
from projects.models.money import Invoice
from projects.selectors.invoices import invoice_risks, risk_filter
from projects.services import WorkflowError, apply_transition
from projects.services.final_accounts import final_accounts_get
from projects.services.invoices import invoice_add, invoice_check
from tests.projects import fixtures_money
from tests.projects.capture import makers
from tests.projects.fixtures_money import (
    OTHER_SELLER_ID,
    invoice_data,
    request_and_approve,
    settle_decision,
)
from tests.projects.test_invoice_capture import (
    ADD,
    TODAY,
    capture,
    form_data,
    upload,
    xml_of,
)

pytestmark = pytest.mark.django_db
accepted = fixtures_money.accepted

BLUE = "25924000000001260164"
RED = "25924000000001269999"
CHANGELIST = "/admin/projects/invoice/"
RED_INFO = f"<RedInvoiceInformation><OriginalInvoiceNumber>{BLUE}</OriginalInvoiceNumber>"
RED_INFO += "</RedInvoiceInformation>"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def project(accepted, org_a):
    org_a.uscc = makers.BUYER_ID
    org_a.save()
    return accepted


def red_xml(project, **overrides):
    values = {"amount": "-105.66", "tax": "-6.34", "total": "-112.00", "extra": RED_INFO}
    return xml_of(project, RED, **{**values, **overrides})


def add(project, actor, total, **overrides):
    total = Decimal(total)
    return invoice_add(
        project=project,
        actor=actor,
        **invoice_data(project, amount=total, tax=Decimal("0.00"), total=total, **overrides),
    )


def keys(invoice):
    return [risk.key for risk in invoice_risks(invoice)]


# --- capture -------------------------------------------------------------------------------


def test_a_red_xml_is_read_with_negative_amounts_and_the_invoice_it_cancels(project):
    (invoice,) = read_invoices(red_xml(project), "red.xml")
    assert tuple(invoice) == FIELDS  # the contract's keys, unchanged
    assert (invoice["amount"], invoice["tax"], invoice["total"]) == (
        Decimal("-105.66"),
        Decimal("-6.34"),
        Decimal("-112.00"),
    )
    ((with_extra, _items),) = read_invoices_with_items(red_xml(project), "red.xml")
    assert with_extra["cancels"] == BLUE
    ((plain, _items),) = read_invoices_with_items(xml_of(project), "blue.xml")
    assert plain["cancels"] == ""


def test_a_red_qr_payload_is_read_with_its_negative_total():
    (invoice,) = read_invoices(f"01,32,,{RED},-112.00,{TODAY:%Y%m%d},,74AE".encode(), "qr.txt")
    assert invoice["total"] == Decimal("-112.00") and invoice["number"] == RED


def test_a_red_xml_captured_on_the_page_is_stored_with_its_link(client, project, applicant):
    client.force_login(applicant)
    answer = capture(client, project, file=upload("red.xml", red_xml(project))).json()
    assert answer["ok"] is True, answer
    assert answer["fields"]["total"] == "-112.00" and answer["fields"]["cancels"] == BLUE
    assert any("红字发票" in note for note in answer["notes"])
    response = client.post(ADD, form_data(project, answer["fields"], capture_token=answer["token"]))
    assert response.status_code == 302, response.content.decode()[:3000]
    invoice = Invoice.objects.get()
    assert (invoice.total, invoice.cancels, invoice.capture_source) == (
        Decimal("-112.00"),
        BLUE,
        "xml",
    )


# --- the flag on both invoices, and the filter ------------------------------------------------


def test_red_invoice_and_the_blue_one_it_names_are_both_flagged(project, applicant, finance):
    blue = add(project, applicant, "112.00", kind=Invoice.Kind.DIGITAL, code="", number=BLUE)
    plain = add(project, applicant, "300.00")
    red = add(
        project, applicant, "-50.00", kind=Invoice.Kind.DIGITAL, code="", number=RED, cancels=BLUE
    )
    assert "red" in keys(red) and "red" in keys(blue) and "red" not in keys(plain)
    red_reason = next(r.reason for r in invoice_risks(red) if r.key == "red")
    blue_reason = next(r.reason for r in invoice_risks(blue) if r.key == "red")
    assert "红字发票" in red_reason and BLUE in red_reason and "-¥50.00" in red_reason
    assert RED in blue_reason and "冲销" in blue_reason
    # Never blocking: finance checks both as usual.
    invoice_check(invoice=red, actor=finance, qualified=True)
    invoice_check(invoice=blue, actor=finance, qualified=True)


def test_a_red_invoice_negating_a_blue_one_of_the_same_seller_flags_both(project, applicant):
    blue = add(project, applicant, "880.00")
    red = add(project, applicant, "-880.00")
    other_seller = add(project, applicant, "-880.00", seller_tax_id=OTHER_SELLER_ID)
    unrelated = add(project, applicant, "870.00")
    assert "red" in keys(blue) and "red" in keys(red)
    assert "red" in keys(other_seller)  # a red invoice is always flagged
    assert "red" not in keys(unrelated)
    assert red.number in next(r.reason for r in invoice_risks(blue) if r.key == "red")


def test_the_filter_selects_red_invoices_and_the_ones_they_cancel(
    project, applicant, client, finance
):
    blue = add(project, applicant, "880.00")
    red = add(project, applicant, "-880.00")
    plain = add(project, applicant, "100.00")
    assert set(risk_filter(Invoice.objects.all(), "red")) == {blue, red}
    client.force_login(finance)
    page = client.get(CHANGELIST, {"risk": "red"}).content.decode()
    assert blue.number in page and red.number in page and plain.number not in page
    assert "红字发票或被冲销的发票" in page


# --- validation and the database's constraint ---------------------------------------------------


def test_signs_and_the_link_are_validated(project, applicant):
    cases = [
        ({"amount": Decimal("-10.00"), "tax": Decimal("1.00"), "total": Decimal("-9.00")}, "红字"),
        ({"cancels": "12345"}, "18 或 20 位数字"),
    ]
    for overrides, message in cases:
        data = invoice_data(
            project, **{"amount": Decimal("-9.00"), "total": Decimal("-9.00"), **overrides}
        )
        with pytest.raises(WorkflowError) as refused:
            invoice_add(project=project, actor=applicant, **data)
        assert any(message in m for m in refused.value.messages), refused.value.messages
    data = invoice_data(project, amount=Decimal("-9.00"), total=Decimal("-9.00"))
    data["cancels"] = data["code"] + data["number"]
    with pytest.raises(WorkflowError, match="不能冲销它自己"):
        invoice_add(project=project, actor=applicant, **data)
    assert not Invoice.objects.exists()


def test_the_constraint_refuses_mixed_signs_and_a_blue_invoice_naming_another(project, applicant):
    red = add(project, applicant, "-100.00")
    blue = add(project, applicant, "100.00")
    for pk, values in (
        (blue.pk, {"amount": Decimal("-10.00"), "tax": Decimal("110.00")}),
        (red.pk, {"amount": Decimal("-110.00"), "tax": Decimal("10.00")}),
        (blue.pk, {"cancels": "310023113012345678"}),
    ):
        with pytest.raises(IntegrityError), transaction.atomic():
            Invoice.objects.filter(pk=pk).update(**values)
    # The identity is still one claim per invoice: the red one has its own number.
    with pytest.raises(WorkflowError, match="只能报销一次"):
        add(project, applicant, "-100.00", number=red.number)


# --- the sums: a red invoice only ever lowers what is paid ------------------------------------


def test_a_red_invoice_offsets_the_blue_one_it_cancels_under_that_invoices_result(
    project, applicant, finance
):
    good = add(project, applicant, "1000.00")
    bad = add(project, applicant, "400.00")
    red_of_good = add(project, applicant, "-300.00", cancels=good.code + good.number)
    red_of_bad = add(project, applicant, "-400.00", cancels=bad.code + bad.number)
    stray = add(project, applicant, "-50.00")  # names nothing: offsets the payment
    invoice_check(invoice=good, actor=finance, qualified=True)
    invoice_check(invoice=bad, actor=finance, qualified=False, reason="抬头不符")
    # Whatever finance decides on the red invoices, none of them raises the payment.
    for red in (red_of_good, red_of_bad, stray):
        invoice_check(invoice=red, actor=finance, qualified=False, reason="红字")
    project.refresh_from_db()
    assert project.invoice_totals() == (Decimal("650.00"), Decimal("0.00"))
    accounts = final_accounts_get(project=project)
    assert (accounts.qualified, accounts.unqualified) == (Decimal("650.00"), Decimal("0.00"))
    assert project.claimed_total() == Decimal("650.00")


def test_more_red_than_blue_pays_nothing_and_is_no_loss(project, applicant):
    add(project, applicant, "100.00")
    add(project, applicant, "-300.00")
    assert project.invoice_totals() == (Decimal("0.00"), Decimal("0.00"))


def test_a_red_invoice_never_makes_room_on_a_budget_line(project, applicant):
    # The line holds ¥3,000. A red invoice must not let blue ones past it unflagged.
    add(project, applicant, "2500.00")
    add(project, applicant, "-1000.00")
    over = add(project, applicant, "900.00")
    assert "over_line" in keys(over)


def test_settlement_with_a_red_invoice_stays_within_the_approved_amount(
    project, applicant, reviewer, leader, finance, advance
):
    blue = add(project, applicant, "3000.00")
    red = add(project, applicant, "-500.00", cancels=blue.code + blue.number)
    invoice_check(invoice=blue, actor=finance, qualified=True)
    invoice_check(invoice=red, actor=finance, qualified=True)
    with pytest.raises(WorkflowError, match="发票申报合计"):
        request_and_approve(
            project, reviewer=reviewer, leader=leader, limit="3000", advance=advance
        )
    project.refresh_from_db()
    project = apply_transition(
        project, "approve_payment", actor=leader, opinion="同意拨付", payable_limit="2500"
    )
    project = apply_transition(project, "settle", actor=finance, **settle_decision(project))
    assert project.state == State.SETTLED
    assert project.settlement_amount == Decimal("2500.00") <= project.approved_amount
    assert project.loss_amount == Decimal("0.00")
