"""Finance's check as buttons (issue 11, finding 8): 合格 / 不合格 on each invoice row and on
the invoice page, the reason asked for 不合格, 改判 on a decided invoice, nothing for who may
not check; the settle form's figures box."""

from decimal import Decimal

import pytest
from django.urls import reverse

from projects.forms import form_for
from projects.models.money import Invoice
from projects.services import apply_transition
from tests.projects import fixtures_money
from tests.projects.fixtures_money import (
    add_invoices,
    check_all,
    request_and_approve,
    settle_decision,
)

pytestmark = pytest.mark.django_db
accepted = fixtures_money.accepted

CHANGELIST = reverse("admin:projects_invoice_changelist")


def check_url(invoice):
    return reverse("admin:projects_invoice_check", args=[invoice.pk])


def test_rows_carry_the_buttons_only_for_finance(client, accepted, applicant, finance, leader):
    first, second = add_invoices(accepted, applicant, Decimal("100.00"), Decimal("200.00"))
    client.force_login(finance)
    page = client.get(CHANGELIST + "?check_status__exact=pending&kind__exact=vat_ordinary")
    page = page.content.decode()
    assert page.count('formaction="' + check_url(first)) == 1
    # the way back keeps the list's filters (encoded, so "&" stays inside next)
    back = "%2Fadmin%2Fprojects%2Finvoice%2F%3Fcheck_status__exact%3Dpending%26kind__exact"
    assert f'href="{check_url(second)}?next={back}' in page
    assert ">合格</button>" in page and ">不合格</a>" in page
    for other in (applicant, leader):
        client.force_login(other)
        text = client.get(CHANGELIST).content.decode()
        assert check_url(first) not in text
        assert client.post(check_url(first), {"conclusion": "qualified"}).status_code == 403
    first.refresh_from_db()
    assert first.check_status == Invoice.CheckStatus.PENDING


def test_qualified_by_one_click_and_back_to_the_list(client, accepted, applicant, finance):
    (invoice,) = add_invoices(accepted, applicant, Decimal("100.00"))
    client.force_login(finance)
    response = client.post(
        check_url(invoice) + "?next=" + CHANGELIST + "?check_status__exact=pending",
        {"conclusion": "qualified", "action": "", "index": "0"},
    )
    assert response.status_code == 302
    assert response["Location"] == CHANGELIST + "?check_status__exact=pending"
    invoice.refresh_from_db()
    assert invoice.check_status == Invoice.CheckStatus.QUALIFIED
    assert invoice.checked_by == finance
    # decided: the row now offers 改判, not the two buttons
    page = client.get(CHANGELIST).content.decode()
    assert reverse("admin:projects_invoice_recheck", args=[invoice.pk]) in page
    assert check_url(invoice) not in page
    # a second 合格 is refused with the service's message, nothing changes
    response = client.post(check_url(invoice), {"conclusion": "qualified"}, follow=True)
    assert "不能重复审核" in response.content.decode()


def test_a_stale_link_after_settlement_leads_to_the_invoice(
    client, accepted, applicant, reviewer, leader, finance, advance
):
    (invoice,) = add_invoices(accepted, applicant, Decimal("100.00"))
    check_all([invoice], finance)
    project = request_and_approve(
        accepted, reviewer=reviewer, leader=leader, limit="100.00", advance=advance
    )
    apply_transition(project, "settle", actor=finance, **settle_decision(project))
    client.force_login(finance)
    response = client.get(check_url(invoice), follow=True)
    assert response.status_code == 200 and "发票不能再审核" in response.content.decode()
    assert client.post(check_url(invoice), {"conclusion": "qualified"}).status_code == 403


def test_unqualified_asks_for_the_reason(client, accepted, applicant, finance):
    (invoice,) = add_invoices(accepted, applicant, Decimal("100.00"))
    client.force_login(finance)
    form = client.get(check_url(invoice))
    assert form.status_code == 200
    assert "不合格原因" in form.content.decode() and "100.00" in form.content.decode()
    empty = client.post(check_url(invoice), {"conclusion": "unqualified", "reason": "  "})
    assert empty.status_code == 200 and "请填写不合格原因" in empty.content.decode()
    invoice.refresh_from_db()
    assert invoice.check_status == Invoice.CheckStatus.PENDING
    done = client.post(check_url(invoice), {"conclusion": "unqualified", "reason": "抬头不符"})
    assert done.status_code == 302
    assert done["Location"] == reverse("admin:projects_invoice_change", args=[invoice.pk])
    invoice.refresh_from_db()
    assert invoice.check_status == Invoice.CheckStatus.UNQUALIFIED
    assert invoice.check_reason == "抬头不符"


def test_foreign_next_is_ignored(client, accepted, applicant, finance):
    (invoice,) = add_invoices(accepted, applicant, Decimal("100.00"))
    client.force_login(finance)
    response = client.post(
        check_url(invoice) + "?next=https://evil.example/", {"conclusion": "qualified"}
    )
    assert response["Location"] == reverse("admin:projects_invoice_change", args=[invoice.pk])


def test_invoice_page_shows_the_buttons(client, accepted, applicant, finance):
    (invoice,) = add_invoices(accepted, applicant, Decimal("100.00"))
    change = reverse("admin:projects_invoice_change", args=[invoice.pk])
    client.force_login(finance)
    page = client.get(change).content.decode()
    assert f'formaction="{check_url(invoice)}"' in page and f'href="{check_url(invoice)}"' in page
    client.force_login(applicant)
    assert check_url(invoice) not in client.get(change).content.decode()


def test_settle_form_shows_the_figures_box(
    client, accepted, applicant, reviewer, leader, finance, advance
):
    invoices = add_invoices(accepted, applicant, Decimal("1000.00"), Decimal("1500.00"))
    check_all(invoices, finance, unqualified=invoices[:1])
    project = request_and_approve(
        accepted, reviewer=reviewer, leader=leader, limit="1200.00", advance=advance
    )
    form = form_for("settle")(project=project, actor=finance)
    figures = {label: amount for label, amount, _ in form.settlement_figures()}
    assert figures == {
        "合格发票合计": "¥1,500.00",
        "批准拨付限额": "¥1,200.00",
        "结算金额": "¥1,200.00",
        "票据不合格损失": "¥1,000.00",
    }
    client.force_login(finance)
    url = reverse("admin:projects_project_transition", args=[project.pk, "settle"])
    page = client.get(url).content.decode()
    assert 'class="settlement-box"' in page and "¥1,200.00" in page
    assert page.count("data-date-input") == 2  # voucher date and paid-on: the date widget
