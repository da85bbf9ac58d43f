"""The benchmark generator, run tiny: its data obeys the product's invariants (history chain,
disbursed ≤ settlement ≤ approved), so the measurements are taken on realistic rows."""

from django.db.models import Sum

from bench.generate import generate
from projects.models import Disbursement, Invoice, Project
from projects.services import events


def test_generator_makes_consistent_data(db):
    counts = generate(projects=60, invoices=300, years=3, out=lambda *_: None)
    assert counts["项目"] == 60 and counts["发票"] > 0 and counts["拨付"] > 0
    assert set(Project.objects.values_list("state", flat=True)) >= {"closed", "draft"}
    result = events.verify()
    assert result.ok, [str(b) for b in result.breaks]
    for project in Project.objects.all():
        paid = Disbursement.objects.filter(project=project).aggregate(t=Sum("amount"))["t"] or 0
        assert paid <= (project.settlement_amount or 0) <= (project.approved_amount or 0)
    assert Invoice.objects.values("identity").distinct().count() == Invoice.objects.count()
