"""Disbursements (拨付) and their reversals (红字冲销), append-only.

`disbursement_create` is settle's payment, called explicitly by apply_transition inside its
lock; `disbursement_reverse` and `disbursement_record` (a corrected payment) lock the
project themselves. Every one ends with a signed event, so that

    disbursed total ≤ settlement amount ≤ approved amount

holds and is checked by verify_history at every moment, on PostgreSQL too.
"""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError
from django.db.models import Sum

from projects import permissions as perm
from projects.dates import parse_date
from projects.models import Project
from projects.models.money import Disbursement
from projects.money import ZERO, format_cny, normalise_text, parse_money, to_money
from projects.services import events
from projects.services.errors import WorkflowError
from projects.services.locking import locked_project

# The one list of a payment's voucher and payee fields (settle's form, the corrected
# payment's form, the service). `payment_method`, not `method`: django-fsm's change_state()
# takes a `method` argument, so a transition's keyword arguments cannot use that name.
PAYMENT_FIELDS = (
    "voucher_number",
    "voucher_date",
    "payment_method",
    "payee_name",
    "payee_bank",
    "payee_account",
    "bank_serial",
    "paid_on",
)


def disbursed_total(project: Project) -> Decimal:
    """Net paid so far (reversals are negative rows)."""
    return to_money(
        Disbursement.objects.filter(project=project).aggregate(total=Sum("amount"))["total"] or ZERO
    )


def payee_defaults(project: Project) -> dict:
    """拨付 goes to the organisation's own account by default."""
    org = project.organization
    return {
        "payment_method": Disbursement.Method.ALLOCATION,
        "payee_name": org.payee_name or org.name,
        "payee_bank": org.bank_name,
        "payee_account": org.bank_account,
    }


def payment_details(decision: dict) -> dict:
    """The voucher and payee fields of a payment, validated (raises ValidationError)."""
    errors = []
    values = {name: decision.get(name) for name in PAYMENT_FIELDS}
    for name, label in (
        ("voucher_number", "支付凭证号"),
        ("voucher_date", "凭证日期"),
        ("payee_name", "收款人"),
        ("payee_bank", "开户银行"),
        ("payee_account", "银行账号"),
    ):
        if values[name] in (None, ""):
            errors.append(f"请填写{label}。")
    for name, label in (("voucher_date", "凭证日期"), ("paid_on", "实际支付日期")):
        if values[name] not in (None, ""):
            try:
                values[name] = parse_date(values[name], label)
            except ValidationError as exc:
                errors.extend(exc.messages)
        else:
            values[name] = None
    values["method"] = values.pop("payment_method")
    if values["method"] not in Disbursement.Method.values:
        errors.append("请选择支付方式。")
    values["voucher_number"] = normalise_text(values["voucher_number"]).upper()
    values["payee_account"] = normalise_text(values["payee_account"])
    values["bank_serial"] = normalise_text(values["bank_serial"])
    if values["voucher_number"] and (
        Disbursement.objects.filter(voucher_number=values["voucher_number"]).exists()
    ):
        errors.append(f"支付凭证号“{values['voucher_number']}”已被使用,凭证号不能重复。")
    if errors:
        raise ValidationError(errors)
    return values


def _record(project: Project, *, actor, action: str, opinion: str, row: Disbursement, before):
    events.record(
        project=project,
        actor=actor,
        action=action,
        opinion=opinion,
        subject=f"拨付:{row.voucher_number}",
        data={
            "voucher_number": row.voucher_number,
            "amount": str(row.amount),
            "reverses": row.reverses.voucher_number if row.reverses_id else "",
            "before": {"disbursed": str(before)},
            "after": {"disbursed": str(disbursed_total(project))},
        },
    )


def disbursement_create(*, project: Project, actor, decision: dict) -> Disbursement | None:
    """settle's payment of the settlement amount: called by apply_transition inside its lock
    and transaction, before settle's own event (which records the project after it)."""
    if (project.settlement_amount or ZERO) <= 0:
        return None  # every invoice unqualified: nothing to pay, the loss is the organisation's
    return Disbursement.objects.create(
        project=project,
        amount=project.settlement_amount,
        purpose=decision.get("purpose") or f"{project.code} {project.title} 项目结算拨付",
        prepared_by=actor,
        approved_by=project.payment_approved_by,
        paid_by=actor,
        **payment_details(decision),
    )


def disbursement_reverse(
    *, disbursement: Disbursement, actor, voucher_number: str, voucher_date, reason: str
) -> Disbursement:
    """红字冲销: a negative entry pointing at the original; nothing is edited or deleted."""
    reason = (reason or "").strip()
    if not reason:
        raise WorkflowError("请填写冲销原因。")
    try:
        with locked_project(disbursement.project_id) as locked:
            if not perm.may_record_disbursement(locked, actor):
                raise WorkflowError(
                    "只有财政科(且不是批准拨付的人)可以在项目“已结算”后冲销拨付记录。"
                )
            current = Disbursement.objects.get(pk=disbursement.pk)
            if current.reverses_id:
                raise WorkflowError("冲销记录本身不能再冲销。")
            if Disbursement.objects.filter(reverses=current).exists():
                raise WorkflowError(f"拨付记录“{current.voucher_number}”已经冲销过。")
            details = payment_details(
                {
                    "voucher_number": voucher_number,
                    "voucher_date": voucher_date,
                    "payment_method": current.method,
                    "payee_name": current.payee_name,
                    "payee_bank": current.payee_bank,
                    "payee_account": current.payee_account,
                }
            )
            before = disbursed_total(locked)
            row = Disbursement.objects.create(
                project=locked,
                amount=-current.amount,
                purpose=f"冲销{current.voucher_number}",
                reverses=current,
                note=reason[:200],
                prepared_by=actor,
                approved_by=current.approved_by,
                paid_by=actor,
                **details,
            )
            _record(
                locked,
                actor=actor,
                action="disbursement_reverse",
                opinion=reason,
                row=row,
                before=before,
            )
            return row
    except ValidationError as exc:
        raise WorkflowError(exc.messages) from exc
    except IntegrityError as exc:
        raise WorkflowError("该拨付记录已被冲销或凭证号重复,未作任何更改。") from exc


def disbursement_record(*, project: Project, actor, amount, purpose: str = "", **details):
    """A corrected payment after a reversal, within the settlement amount (finance)."""
    try:
        with locked_project(project) as locked:
            if not perm.may_record_disbursement(locked, actor):
                raise WorkflowError("只有财政科(且不是批准拨付的人)可以在项目“已结算”后补录拨付。")
            value = parse_money(amount, "拨付金额", allow_zero=False)
            before = disbursed_total(locked)
            room = to_money(locked.settlement_amount or ZERO) - before
            if value > room:
                raise WorkflowError(
                    f"拨付金额 {format_cny(value)} 超出可拨付余额 {format_cny(room)}"
                    f"(结算金额 {format_cny(locked.settlement_amount)})。"
                )
            row = Disbursement.objects.create(
                project=locked,
                amount=value,
                purpose=(purpose or f"{locked.code} {locked.title} 更正后重新拨付")[:200],
                prepared_by=actor,
                approved_by=locked.payment_approved_by or actor,
                paid_by=actor,
                **payment_details(details),
            )
            _record(
                locked,
                actor=actor,
                action="disbursement_record",
                opinion=row.purpose,
                row=row,
                before=before,
            )
            return row
    except ValidationError as exc:
        raise WorkflowError(exc.messages) from exc
    except IntegrityError as exc:
        raise WorkflowError("凭证号重复或数据不一致,未作任何更改。") from exc
