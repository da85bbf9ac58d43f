"""Amount + tax = total is checked by the database in exact cents on every backend.

SQLite keeps decimals as binary floats, where 87.37 + 21.09 is 108.46000000000001: a correct
invoice was refused by the check constraint on the embedded database (found by the import
bench, issue 15)."""

from decimal import Decimal

import pytest

from projects.models.money import Invoice
from projects.services.invoices import invoice_add
from tests.projects import fixtures_money
from tests.projects.fixtures_money import invoice_data

pytestmark = pytest.mark.django_db
accepted = fixtures_money.accepted


@pytest.mark.parametrize(
    "amount, tax, total",
    [("87.37", "21.09", "108.46"), ("0.10", "0.20", "0.30"), ("-87.37", "-21.09", "-108.46")],
)
def test_exact_cents_that_floats_get_wrong_are_stored(accepted, applicant, amount, tax, total):
    data = invoice_data(
        accepted, amount=Decimal(amount), tax=Decimal(tax), total=Decimal(total), seller_name="甲"
    )
    invoice = invoice_add(project=accepted, actor=applicant, **data)
    invoice.refresh_from_db()
    assert (invoice.amount, invoice.tax, invoice.total) == tuple(
        Decimal(v) for v in (amount, tax, total)
    )


def test_a_total_off_by_a_cent_is_still_refused_by_the_database(accepted, applicant):
    from django.db import IntegrityError, transaction

    invoice = invoice_add(project=accepted, actor=applicant, **invoice_data(accepted))
    with pytest.raises(IntegrityError), transaction.atomic():
        Invoice.objects.filter(pk=invoice.pk).update(total=Decimal("1000.01"))
