"""The year's pool and the per-organisation sub-ledgers (分户账), as the single-account
model keeps them (regulation part A): the funds stay in the one pool until paid.

The pool ledger reads the money figures the event writer keeps per year and organisation
(models.figures.MoneyFigure, by the definitions of _PROJECT_SUMS below, which the tests
compare it with); a sub-ledger is an aggregate over the rows shown beneath it. Both cost a
constant number of queries, and the totals reconcile exactly with the rows.

Per project:  released = approved − committed (a settlement below the approved amount, or a
termination, hands the rest back), outstanding = committed − disbursed.
Pool:         remaining = total − committed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import DecimalField, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from accounts.models import Organization
from projects.models import FundingPolicy, MoneyFigure, Project, State
from projects.models.figures import ALL, MONEY_SUMS
from projects.models.money import Disbursement
from projects.money import ZERO, to_money
from projects.selectors.paging import Page, page_of

_MONEY = DecimalField(max_digits=14, decimal_places=2)
# The ledger's columns: the money figures' sums but the requested amount (pool ledger, 分户账).
FIGURES = tuple(name for name in MONEY_SUMS if name != "requested")


def _zero(expression):
    return Coalesce(expression, Value(ZERO), output_field=_MONEY)


@dataclass
class LedgerRow:
    label: str
    approved: Decimal = ZERO
    committed: Decimal = ZERO
    settled: Decimal = ZERO
    loss: Decimal = ZERO
    disbursed: Decimal = ZERO
    released_by_settlement: Decimal = ZERO
    released_by_termination: Decimal = ZERO
    organization: Organization | None = None
    project: Project | None = None
    state_label: str = ""

    @property
    def released(self) -> Decimal:
        return self.released_by_settlement + self.released_by_termination

    @property
    def outstanding(self) -> Decimal:
        return self.committed - self.disbursed


def _total(rows: list[LedgerRow], label: str = "合计") -> LedgerRow:
    total = LedgerRow(label=label)
    for name in FIGURES:
        setattr(total, name, sum((getattr(row, name) for row in rows), ZERO))
    return total


@dataclass
class PoolLedger:
    year: int
    policy: FundingPolicy | None
    rows: list[LedgerRow] = field(default_factory=list)
    total: LedgerRow = field(default_factory=lambda: LedgerRow(label="合计"))
    page: Page | None = None

    @property
    def pool_total(self) -> Decimal:
        return to_money(self.policy.pool_total) if self.policy else ZERO

    @property
    def remaining(self) -> Decimal:
        return self.pool_total - self.total.committed


# The definitions of the money figures (services.money_figures keeps them per project).
_PROJECT_SUMS = {
    "approved": _zero(Sum("approved_amount")),
    "committed": _zero(Sum("committed_amount")),
    "settled": _zero(Sum("settlement_amount")),
    "loss": _zero(Sum("loss_amount")),
    "released_by_settlement": _zero(
        Sum(
            "approved_amount",
            filter=~Q(state=State.TERMINATED) & Q(settlement_amount__isnull=False),
        )
    )
    - _zero(
        Sum(
            "committed_amount",
            filter=~Q(state=State.TERMINATED) & Q(settlement_amount__isnull=False),
        )
    ),
    "released_by_termination": _zero(Sum("approved_amount", filter=Q(state=State.TERMINATED))),
}


def pool_ledger(year: int, organizations=None, page=None) -> PoolLedger:
    """The year's pool with one row per organisation, read from the maintained money figures
    (models.figures.MoneyFigure, same definitions as _PROJECT_SUMS and the payments' sum):
    4 queries whatever the data, 5 with a page. `page` (the page parameter as typed, or
    None for every row): PER_PAGE organisations by name; the total is over all of them."""
    policy = FundingPolicy.objects.filter(year=year).first()
    figures = MoneyFigure.objects.filter(year=year, dimension=ALL, count__gt=0)
    if organizations is not None:
        figures = figures.filter(organization__in=organizations)
        totals = figures
    else:
        # The district's own figure (organisation None): one row, not one per organisation.
        figures, totals = (
            figures.filter(organization__isnull=False),
            figures.filter(organization__isnull=True),
        )
    sums = totals.aggregate(**{name: _zero(Sum(name)) for name in FIGURES})
    total = LedgerRow(label="合计", **{name: to_money(sums[name]) for name in FIGURES})
    pager = None
    shown = figures.select_related("organization").order_by("organization__name", "pk")
    if page is not None:
        pager = page_of(page, figures.count())
        shown = shown[pager.offset : pager.offset + pager.per_page]
    rows = [
        LedgerRow(
            label=figure.organization.name,
            organization=figure.organization,
            **{name: to_money(getattr(figure, name)) for name in FIGURES},
        )
        for figure in shown
    ]
    return PoolLedger(year=year, policy=policy, rows=rows, total=total, page=pager)


@dataclass
class SubLedger:
    organization: Organization
    year: int
    rows: list[LedgerRow]
    total: LedgerRow
    entries: list[Disbursement]

    @property
    def entries_total(self) -> Decimal:
        return sum((entry.amount for entry in self.entries), ZERO)


def sub_ledger(organization: Organization, year: int) -> SubLedger:
    """分户账: the organisation's projects and every payment entry (3 queries)."""
    paid = (
        Disbursement.objects.filter(project=OuterRef("pk"))
        .values("project")
        .annotate(total=Sum("amount"))
        .values("total")
    )
    projects = (
        Project.objects.filter(organization=organization, year=year)
        .exclude(approved_amount__isnull=True)
        .annotate(disbursed=_zero(Subquery(paid, output_field=_MONEY)))
        .order_by("number")
    )
    rows = []
    for project in projects:
        approved = to_money(project.approved_amount)
        committed = to_money(project.committed_amount)
        terminated = project.state == State.TERMINATED
        settled = project.settlement_amount is not None
        rows.append(
            LedgerRow(
                label=f"{project.code} {project.title}",
                project=project,
                state_label=project.get_state_display(),
                approved=approved,
                committed=committed,
                settled=to_money(project.settlement_amount or ZERO),
                loss=to_money(project.loss_amount or ZERO),
                disbursed=to_money(project.disbursed),
                released_by_settlement=approved - committed if settled and not terminated else ZERO,
                released_by_termination=approved if terminated else ZERO,
            )
        )
    entries = list(
        Disbursement.objects.filter(project__organization=organization, project__year=year)
        .select_related("project", "reverses")
        .order_by("created_at", "pk")
    )
    return SubLedger(
        organization=organization, year=year, rows=rows, total=_total(rows), entries=entries
    )
