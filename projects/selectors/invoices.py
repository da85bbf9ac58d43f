"""Read-side queries of the invoices: finance's pending checks and the risk flags."""

from __future__ import annotations

from decimal import Decimal

from django.db.models import Count, DecimalField, OuterRef, Subquery, Sum
from django.db.models.functions import Coalesce

from projects import permissions as perm
from projects.models.money import Invoice
from projects.money import ZERO, normalise_text

_MONEY = DecimalField(max_digits=14, decimal_places=2)


def buyer_matches(buyer_name: str, organization_name: str) -> bool:
    # 抬头: compare after normalising full-width/half-width brackets and spaces.
    return normalise_text(buyer_name) == normalise_text(organization_name)


def with_line_totals(queryset):
    """Annotate each invoice with its budget line's invoiced total (for the over-line flag)."""
    line_total = (
        Invoice.objects.filter(budget_line=OuterRef("budget_line"))
        .order_by()  # no default ordering: it would join the project into every sum
        .values("budget_line")
        .annotate(total=Sum("total"))
        .values("total")
    )
    return queryset.annotate(
        line_invoiced=Coalesce(Subquery(line_total, output_field=_MONEY), ZERO, output_field=_MONEY)
    )


def invoice_flags(invoice: Invoice, *, line_invoiced: Decimal | None = None) -> list[str]:
    """Warnings for finance: date outside the project period, other 抬头, over the line.

    `line_invoiced` is the total of all invoices on the invoice's budget line (pass it from
    `with_line_totals` to keep lists at a constant number of queries); by default the
    annotation is used when present.
    """
    if line_invoiced is None:
        line_invoiced = getattr(invoice, "line_invoiced", None)
    project = invoice.project
    flags = []
    if (project.start_date and invoice.issue_date < project.start_date) or (
        project.end_date and invoice.issue_date > project.end_date
    ):
        flags.append("开票日期不在项目实施期内")
    if not buyer_matches(invoice.buyer_name, project.organization.name):
        flags.append("抬头与申报组织名称不一致")
    if line_invoiced is None:
        line_invoiced = (
            Invoice.objects.filter(budget_line_id=invoice.budget_line_id).aggregate(
                total=Sum("total")
            )["total"]
            or ZERO
        )
    if line_invoiced > invoice.budget_line.amount:
        flags.append("超出该预算明细的剩余额度")
    return flags


def pending_checks(user, limit: int = 20) -> list[dict]:
    """Projects with invoices waiting for `user`'s check (finance): count and total per
    project; not the projects whose payment the user approved (they may not check those)."""
    return list(
        Invoice.objects.filter(
            check_status=Invoice.CheckStatus.PENDING,
            project__state__in=perm.INVOICE_CHECK_STATES,
        )
        .exclude(project__payment_approved_by=user)
        .values("project_id", "project__code", "project__title")
        .annotate(count=Count("pk"), total=Sum("total"))
        .order_by("project__year", "project__number")[:limit]
    )
