"""The year's pool and the per-organisation sub-ledgers (分户账), as the single-account
model keeps them (regulation part A): the funds stay in the one pool until paid.

Every figure is an aggregate over the rows shown beneath it, computed in a constant number
of queries, so the totals reconcile exactly with the rows.

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
from projects.models import FundingPolicy, Project, State
from projects.models.money import Disbursement
from projects.money import ZERO, to_money

_MONEY = DecimalField(max_digits=14, decimal_places=2)
FIGURES = (
    "approved",
    "committed",
    "settled",
    "loss",
    "disbursed",
    "released_by_settlement",
    "released_by_termination",
)


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

    @property
    def pool_total(self) -> Decimal:
        return to_money(self.policy.pool_total) if self.policy else ZERO

    @property
    def remaining(self) -> Decimal:
        return self.pool_total - self.total.committed


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


def pool_ledger(year: int, organizations=None) -> PoolLedger:
    """The year's pool with one row per organisation (4 queries whatever the data)."""
    policy = FundingPolicy.objects.filter(year=year).first()
    projects = Project.objects.filter(year=year)
    disbursements = Disbursement.objects.filter(project__year=year)
    if organizations is not None:
        projects = projects.filter(organization__in=organizations)
        disbursements = disbursements.filter(project__organization__in=organizations)
    sums = {
        row.pop("organization"): row
        for row in projects.values("organization").annotate(**_PROJECT_SUMS).order_by()
    }
    paid = dict(
        disbursements.values("project__organization")
        .annotate(total=Sum("amount"))
        .order_by()
        .values_list("project__organization", "total")
    )
    orgs = Organization.objects.filter(pk__in=set(sums) | set(paid)).order_by("name")
    rows = []
    for org in orgs:
        values = {k: to_money(v) for k, v in sums.get(org.pk, {}).items()}
        rows.append(
            LedgerRow(
                label=org.name,
                organization=org,
                disbursed=to_money(paid.get(org.pk) or ZERO),
                **values,
            )
        )
    return PoolLedger(year=year, policy=policy, rows=rows, total=_total(rows))


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
