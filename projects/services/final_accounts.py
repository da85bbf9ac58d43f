"""The final accounts (决算清单): per budget line the budget, the actual spend the org
reports, and the invoices by check result; saved by 项目部 before request_settlement."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db.models import Sum

from projects import permissions as perm
from projects.models import BudgetLine, Project
from projects.models.money import Invoice, settlement_status
from projects.money import ZERO, parse_money, to_money
from projects.services import events
from projects.services.errors import WorkflowError
from projects.services.locking import locked_project


@dataclass
class FinalAccountsRow:
    line: BudgetLine
    budgeted: Decimal
    actual: Decimal | None
    invoiced: Decimal
    qualified: Decimal
    unqualified: Decimal
    pending: Decimal


@dataclass
class FinalAccounts:
    project: Project
    rows: list[FinalAccountsRow]
    budgeted: Decimal
    actual: Decimal
    invoiced: Decimal
    qualified: Decimal
    unqualified: Decimal
    pending: Decimal

    @property
    def complete(self) -> bool:
        return bool(self.rows) and all(row.actual is not None for row in self.rows)


def final_accounts_get(*, project: Project) -> FinalAccounts:
    """Per budget line: budgeted, actual, invoiced and qualified, with totals (two queries)."""
    sums: dict[tuple[int, str], Decimal] = {}
    for line_id, status, total in (
        # A red invoice counts where the settlement counts it (settlement_status).
        Invoice.objects.filter(project=project)
        .annotate(counted=settlement_status())
        .values_list("budget_line_id", "counted")
        .annotate(total=Sum("total"))
        .values_list("budget_line_id", "counted", "total")
    ):
        sums[(line_id, status)] = to_money(total)
    rows = []
    for line in BudgetLine.objects.filter(project=project).order_by("pk"):
        by_status = {s: sums.get((line.pk, s), ZERO) for s in Invoice.CheckStatus.values}
        rows.append(
            FinalAccountsRow(
                line=line,
                budgeted=to_money(line.amount),
                actual=line.actual_amount,
                invoiced=sum(by_status.values(), ZERO),
                qualified=by_status[Invoice.CheckStatus.QUALIFIED],
                unqualified=by_status[Invoice.CheckStatus.UNQUALIFIED],
                pending=by_status[Invoice.CheckStatus.PENDING],
            )
        )

    def total(name):
        return sum((getattr(row, name) or ZERO for row in rows), ZERO)

    names = ("budgeted", "actual", "invoiced", "qualified", "unqualified", "pending")
    return FinalAccounts(project=project, rows=rows, **{n: total(n) for n in names})


def _write(locked: Project, *, actor, actual_amounts: dict) -> None:
    """Validate and store the actual amounts, then the signed event (caller holds the lock)."""
    if not perm.may_prepare_final_accounts(locked, actor):
        raise WorkflowError("只有本组织的项目部可以在项目“已验收”后填写决算清单。")
    lines = {line.pk: line for line in BudgetLine.objects.filter(project=locked)}
    errors, amounts = [], {}
    for line_id, raw in actual_amounts.items():
        try:
            line = lines.get(int(line_id))
        except (TypeError, ValueError):
            line = None
        if line is None:
            errors.append("所填预算明细不属于本项目。")
            continue
        try:
            # The one parser: a Decimal from a form is checked again, never rounded.
            amounts[line] = parse_money(raw, f"“{line}”的实际支出")
        except ValidationError as exc:
            errors.extend(exc.messages)
    if errors:
        raise WorkflowError(errors)
    before, after = {}, {}
    for line, amount in amounts.items():
        before[str(line.pk)] = None if line.actual_amount is None else str(line.actual_amount)
        after[str(line.pk)] = str(amount)
        line.actual_amount = amount
        line.save(update_fields=["actual_amount"])
    events.record(
        project=locked,
        actor=actor,
        action="final_accounts_save",
        data={"before": before, "after": after},
    )


def final_accounts_save(*, project: Project, actor, actual_amounts: dict) -> FinalAccounts:
    """Record the actual spend per budget line (决算), before request_settlement."""
    with locked_project(project) as locked:
        _write(locked, actor=actor, actual_amounts=actual_amounts)
    return final_accounts_get(project=locked)


def final_accounts_save_from_decision(*, project: Project, actor, decision: dict) -> None:
    """request_settlement's form carries the final accounts; apply_transition calls this
    (inside its lock) before the step's guard (has_final_accounts) reads them."""
    amounts = decision.pop("actual_amounts", None)
    if amounts and perm.may_prepare_final_accounts(project, actor):
        _write(project, actor=actor, actual_amounts=amounts)
