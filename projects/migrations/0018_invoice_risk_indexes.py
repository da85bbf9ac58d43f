from django.db import migrations, models


class Migration(migrations.Migration):
    """Indexes for the risk rules' per-row lookups (issue 15): the repeat rule reads one
    calendar month of a seller's amount as a range of issue dates, so the date joins the
    (seller_tax_id, total) index (built before the old one is dropped; its prefix still
    serves the red-counterpart lookup); "which red invoice cancels this one" reads a partial
    index of the red invoices instead of scanning every invoice."""

    dependencies = [
        ("projects", "0017_money_figures"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="invoice",
            index=models.Index(
                fields=["seller_tax_id", "total", "issue_date"], name="invoice_seller_total_day"
            ),
        ),
        migrations.RemoveIndex(
            model_name="invoice",
            name="invoice_seller_total",
        ),
        migrations.AddIndex(
            model_name="invoice",
            index=models.Index(
                condition=models.Q(("cancels", ""), _negated=True),
                fields=["cancels"],
                name="invoice_cancels",
            ),
        ),
    ]
