"""Services of the money side (三(四), DESIGN.md §4): invoices, finance's check, the final
accounts, settlement and disbursements with their reversals (红字冲销).

Every service here that changes money or an invoice runs in one transaction and locks the
project row first (`Project.objects.select_for_update()`), so that concurrent requests on
the same project are serialised and the invariant

    disbursed total ≤ settlement amount ≤ approved amount

holds at every moment, on PostgreSQL too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone
from stdnum.cn import uscc
from stdnum.exceptions import ValidationError as StdnumError

from projects import permissions as perm
from projects.dates import parse_date  # noqa: F401 (re-exported for the money views)
from projects.models import BudgetLine, Project
from projects.models.money import Disbursement, Invoice
from projects.money import (  # noqa: F401
    CENT,
    MAX_AMOUNT,
    ZERO,
    format_cny,
    normalise_text,
    parse_money,
    to_money,
)
from projects.services import WorkflowError, events

# --- normalisation ------------------------------------------------------------------------


def invoice_identity(code: str, number: str) -> str:
    """The normalised (code, number) that is unique across the whole system."""
    return f"{normalise_text(code).upper()}|{normalise_text(number).upper()}"


def buyer_matches(buyer_name: str, organization_name: str) -> bool:
    # 抬头: compare after normalising full-width/half-width brackets and spaces.
    return normalise_text(buyer_name) == normalise_text(organization_name)


# --- parsing single values (forms and imports share them) ---------------------------------


# --- invoice validation (DESIGN.md §4) ------------------------------------------------------

_CODE_RE = re.compile(r"\d{10}|\d{12}")
_NUMBER8_RE = re.compile(r"\d{8}")
_NUMBER20_RE = re.compile(r"\d{20}")
_FREE_RE = re.compile(r"[0-9A-Z]{1,20}")
VAT_KINDS = frozenset({Invoice.Kind.VAT_SPECIAL, Invoice.Kind.VAT_ORDINARY})


def _code_and_number_errors(kind: str, code: str, number: str) -> list[str]:
    errors = []
    if kind in VAT_KINDS:
        if not _CODE_RE.fullmatch(code):
            errors.append(f"发票代码“{code}”应为10位或12位数字。")
        if not _NUMBER8_RE.fullmatch(number):
            errors.append(f"发票号码“{number}”应为8位数字。")
    elif kind == Invoice.Kind.DIGITAL:
        if code:
            errors.append("数电发票没有发票代码,请留空。")
        if not _NUMBER20_RE.fullmatch(number):
            errors.append(f"数电发票号码“{number}”应为20位数字。")
    else:
        if code and (len(code) > 12 or not _FREE_RE.fullmatch(code)):
            errors.append(f"票据代码“{code}”只能是不超过12位的数字或字母。")
        if not _FREE_RE.fullmatch(number):
            errors.append(f"票据号码“{number}”只能是不超过20位的数字或字母。")
    return errors


def _kind_value(kind) -> str:
    if kind in Invoice.Kind.values:
        return kind
    text = normalise_text(kind)
    for value, label in Invoice.Kind.choices:
        if text == normalise_text(label):
            return value
    raise ValidationError(f"票据种类“{kind}”无法识别。")


@dataclass
class CleanInvoice:
    """A validated invoice, ready to be stored (all fields normalised)."""

    values: dict
    errors: list[str] = field(default_factory=list)

    @property
    def identity(self) -> str:
        return self.values.get("identity", "")


def invoice_validate(data: dict, *, project: Project, budget_lines: dict) -> CleanInvoice:
    """Check one invoice's own fields; every problem is reported, in Chinese.

    `budget_lines` maps the line's pk to the project's BudgetLine rows; `data["budget_line"]`
    is a BudgetLine or its pk. Duplicates against stored invoices are checked by the caller
    (one query for a whole import) and, in the end, by the database's unique constraint.
    """
    errors: list[str] = []
    values: dict = {}

    def attempt(name, func, *args, **kwargs):
        try:
            values[name] = func(*args, **kwargs)
        except ValidationError as exc:
            errors.extend(exc.messages)

    attempt("kind", _kind_value, data.get("kind") or Invoice.Kind.VAT_ORDINARY)
    code = normalise_text(data.get("code")).upper()
    number = normalise_text(data.get("number")).upper()
    if not number:
        errors.append("发票号码不能为空。")
    elif "kind" in values:
        errors.extend(_code_and_number_errors(values["kind"], code, number))
    values.update(code=code, number=number, identity=invoice_identity(code, number))
    attempt("issue_date", parse_date, data.get("issue_date"), "开票日期")
    if values.get("issue_date") and values["issue_date"] > timezone.localdate():
        errors.append("开票日期不能晚于今天。")
    for name, label in (("seller_name", "销售方名称"), ("buyer_name", "购买方名称")):
        text = str(data.get(name) or "").strip()
        if not text:
            errors.append(f"{label}不能为空。")
        elif len(text) > 200:
            errors.append(f"{label}过长(最多200字)。")
        values[name] = text
    tax_id = normalise_text(data.get("seller_tax_id")).upper()
    try:
        uscc.validate(tax_id)
    except StdnumError:
        errors.append(
            f"销售方纳税人识别号“{tax_id}”不是有效的统一社会信用代码(18位,校验码须正确)。"
        )
    values["seller_tax_id"] = tax_id
    attempt("amount", parse_money, data.get("amount"), "金额")
    attempt("tax", parse_money, data.get("tax"), "税额")
    attempt("total", parse_money, data.get("total"), "价税合计", allow_zero=False)
    if all(k in values for k in ("amount", "tax", "total")):
        if values["amount"] + values["tax"] != values["total"]:
            errors.append(
                f"金额 {format_cny(values['amount'])} + 税额 {format_cny(values['tax'])} "
                f"不等于价税合计 {format_cny(values['total'])}。"
            )
    line = data.get("budget_line")
    line_id = getattr(line, "pk", line)
    if line_id in (None, ""):
        errors.append("请选择发票所属的预算明细。")
    elif _as_int(line_id) not in budget_lines:
        errors.append("所选预算明细不属于本项目。")
    else:
        values["budget_line"] = budget_lines[_as_int(line_id)]
    return CleanInvoice(values=values, errors=errors)


def _as_int(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def duplicate_messages(identities, *, actor, exclude_pk=None) -> dict[str, str]:
    """identity -> "already claimed" message, naming the project only if the actor sees it."""
    found = Invoice.objects.filter(identity__in=list(identities))
    if exclude_pk is not None:
        found = found.exclude(pk=exclude_pk)
    rows = list(found.values_list("identity", "project_id", "project__code", "project__title"))
    if not rows:
        return {}
    visible = set(
        Project.objects.visible_to(actor)
        .filter(pk__in={row[1] for row in rows})
        .values_list("pk", flat=True)
    )
    messages = {}
    for identity, project_id, code, title in rows:
        where = f"项目“{code} {title}”" if project_id in visible else "其他项目"
        messages[identity] = f"该发票已在{where}中报销过,同一张发票只能报销一次。"
    return messages


def _lock(project: Project) -> Project:
    return Project.objects.select_for_update().get(pk=project.pk)


def _budget_lines(project: Project) -> dict:
    return {line.pk: line for line in BudgetLine.objects.filter(project=project)}


def _claim_conflict(exc: IntegrityError) -> WorkflowError:
    return WorkflowError("该发票刚刚已被其他人报销,同一张发票只能报销一次。未作任何更改。")


def invoice_add(project: Project, *, actor, **data) -> Invoice:
    """Enter one invoice on a project (leader or org reviewer, in_progress … accepted)."""
    try:
        with transaction.atomic():
            locked = _lock(project)
            if not perm.may_enter_invoices(locked, actor):
                raise WorkflowError(
                    f"项目当前状态为“{locked.get_state_display()}”或您无权录入发票。"
                )
            clean = invoice_validate(data, project=locked, budget_lines=_budget_lines(locked))
            if clean.errors:
                raise WorkflowError(clean.errors)
            duplicate = duplicate_messages([clean.identity], actor=actor)
            if duplicate:
                raise WorkflowError(duplicate[clean.identity])
            invoice = Invoice.objects.create(
                project=locked, created_by=actor, scan=data.get("scan"), **clean.values
            )
            events.record(
                project=locked,
                actor=actor,
                action="invoice_add",
                subject=f"发票:{invoice.identity}",
                data={"invoice": invoice.pk, "after": invoice_values(invoice)},
            )
            return invoice
    except IntegrityError as exc:
        raise _claim_conflict(exc) from exc


def invoice_update(invoice: Invoice, *, actor, **data) -> Invoice:
    """Change an invoice that finance has not checked yet (DESIGN.md §5)."""
    try:
        with transaction.atomic():
            locked = _lock(invoice.project)
            current = Invoice.objects.select_for_update().get(pk=invoice.pk)
            if not perm.may_enter_invoices(locked, actor):
                raise WorkflowError(
                    f"项目当前状态为“{locked.get_state_display()}”或您无权修改发票。"
                )
            if current.check_status != Invoice.CheckStatus.PENDING:
                raise WorkflowError("财政科已审核该发票,不能再修改。")
            clean = invoice_validate(data, project=locked, budget_lines=_budget_lines(locked))
            if clean.errors:
                raise WorkflowError(clean.errors)
            duplicate = duplicate_messages([clean.identity], actor=actor, exclude_pk=current.pk)
            if duplicate:
                raise WorkflowError(duplicate[clean.identity])
            before = invoice_values(current)
            for name, value in clean.values.items():
                setattr(current, name, value)
            if "scan" in data:
                current.scan = data["scan"]
            current.save()
            events.record(
                project=locked,
                actor=actor,
                action="invoice_update",
                subject=f"发票:{current.identity}",
                data={"invoice": current.pk, "before": before, "after": invoice_values(current)},
            )
            return current
    except IntegrityError as exc:
        raise _claim_conflict(exc) from exc


INVOICE_EVENT_FIELDS = (
    "kind",
    "code",
    "number",
    "issue_date",
    "seller_name",
    "seller_tax_id",
    "buyer_name",
    "amount",
    "tax",
    "total",
    "budget_line_id",
)


def invoice_values(invoice: Invoice) -> dict:
    """What an invoice event records of the invoice (before → after)."""
    return {name: getattr(invoice, name) for name in INVOICE_EVENT_FIELDS}


def invoice_check(invoice: Invoice, *, actor, qualified: bool, reason: str = "") -> Invoice:
    """Finance marks an invoice 合格 or 不合格 (with the reason) (三(四))."""
    reason = (reason or "").strip()
    if not qualified and not reason:
        raise WorkflowError("标记为不合格时须填写原因。")
    if len(reason) > 200:
        raise WorkflowError("不合格原因最多200字。")
    with transaction.atomic():
        locked = _lock(invoice.project)
        if not perm.may_check_invoices(locked, actor):
            raise WorkflowError(
                f"项目当前状态为“{locked.get_state_display()}”或您不是财政科人员,不能审核发票。"
            )
        current = Invoice.objects.select_for_update().get(pk=invoice.pk)
        before = current.check_status
        current.check_status = (
            Invoice.CheckStatus.QUALIFIED if qualified else Invoice.CheckStatus.UNQUALIFIED
        )
        current.check_reason = "" if qualified else reason
        current.checked_by = actor
        current.checked_at = timezone.now()
        current.save(update_fields=["check_status", "check_reason", "checked_by", "checked_at"])
        events.record(
            project=locked,
            actor=actor,
            action="invoice_check",
            subject=f"发票:{current.identity}",
            opinion=current.check_reason,
            data={
                "invoice": current.pk,
                "check_status": {"before": before, "after": current.check_status},
            },
        )
        return current


# --- flags for finance --------------------------------------------------------------------


def invoice_flags(invoice: Invoice, *, line_invoiced: Decimal | None = None) -> list[str]:
    """Warnings for finance: date outside the project period, other 抬头, over the line.

    `line_invoiced` is the total of all invoices on the invoice's budget line (pass it from an
    annotation to keep lists at a constant number of queries).
    """
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
    # The line's remaining before this invoice = budget − the line's other invoices.
    if line_invoiced > invoice.budget_line.amount:
        flags.append("超出该预算明细的剩余额度")
    return flags


# --- final accounts (决算清单) --------------------------------------------------------------


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


def final_accounts(project: Project) -> FinalAccounts:
    """Per budget line: budgeted, actual, invoiced and qualified, with totals (two queries)."""
    sums: dict[tuple[int, str], Decimal] = {}
    for line_id, status, total in (
        Invoice.objects.filter(project=project)
        .values_list("budget_line_id", "check_status")
        .annotate(total=Sum("total"))
        .values_list("budget_line_id", "check_status", "total")
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

    return FinalAccounts(
        project=project,
        rows=rows,
        **{n: total(n) for n in ("budgeted", "actual", "invoiced", "qualified")},
        unqualified=total("unqualified"),
        pending=total("pending"),
    )


def final_accounts_save(project: Project, *, actor, actual_amounts: dict) -> FinalAccounts:
    """Record the actual spend per budget line (决算), before request_settlement."""
    with transaction.atomic():
        locked = _lock(project)
        if not perm.may_prepare_final_accounts(locked, actor):
            raise WorkflowError("只有本组织的项目部可以在项目“已验收”后填写决算清单。")
        lines = _budget_lines(locked)
        errors, amounts = [], {}
        for line_id, raw in actual_amounts.items():
            line = lines.get(_as_int(line_id))
            if line is None:
                errors.append("所填预算明细不属于本项目。")
                continue
            try:
                amounts[line] = parse_money(raw, f"“{line}”的实际支出")
            except ValidationError as exc:
                errors.extend(exc.messages)
        if errors:
            raise WorkflowError(errors)
        changes = {}
        for line, amount in amounts.items():
            changes[str(line.pk)] = {
                "before": None if line.actual_amount is None else str(line.actual_amount),
                "after": str(amount),
            }
            line.actual_amount = amount
            line.save(update_fields=["actual_amount"])
        events.record(
            project=locked,
            actor=actor,
            action="final_accounts_save",
            data={"actual_amounts": changes},
        )
    return final_accounts(locked)


# --- settlement and disbursement ----------------------------------------------------------

# `payment_method`, not `method`: django-fsm's change_state() takes a `method` argument, so a
# transition's keyword arguments cannot use that name.
DISBURSEMENT_FIELDS = (
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


def _payment_details(decision: dict) -> dict:
    """The voucher and payee fields of a payment, validated (raises ValidationError)."""
    errors = []
    values = {name: decision.get(name) for name in DISBURSEMENT_FIELDS}
    for name, label in (
        ("voucher_number", "支付凭证号"),
        ("voucher_date", "凭证日期"),
        ("payee_name", "收款人"),
        ("payee_bank", "开户银行"),
        ("payee_account", "银行账号"),
    ):
        if values[name] in (None, ""):
            errors.append(f"请填写{label}。")
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


def record_settlement_disbursement(project: Project, actor, decision: dict) -> None:
    """settle's side record: the payment of the settlement amount, in the same transaction."""
    if (project.settlement_amount or ZERO) <= 0:
        return  # every invoice unqualified: nothing to pay, the loss is the organisation's
    Disbursement.objects.create(
        project=project,
        amount=project.settlement_amount,
        purpose=decision.get("purpose") or f"{project.code} {project.title} 项目结算拨付",
        prepared_by=actor,
        approved_by=project.payment_approved_by,
        paid_by=actor,
        **_payment_details(decision),
    )


def save_final_accounts(project: Project, actor, decision: dict) -> None:
    """request_settlement's form carries the final accounts; they must exist before its guard
    (has_final_accounts) is checked, so they are written first, in the same transaction."""
    amounts = decision.pop("actual_amounts", None)
    if amounts and perm.may_prepare_final_accounts(project, actor):
        final_accounts_save(project, actor=actor, actual_amounts=amounts)


def _money_history(project: Project, *, actor, name: str, opinion: str, row: Disbursement):
    events.record(
        project=project,
        actor=actor,
        action=name,
        opinion=opinion,
        data={
            "voucher_number": row.voucher_number,
            "amount": str(row.amount),
            "reverses": row.reverses.voucher_number if row.reverses_id else "",
        },
    )


def disbursement_reverse(
    original: Disbursement, *, actor, voucher_number: str, voucher_date, reason: str
) -> Disbursement:
    """红字冲销: a negative entry pointing at the original; nothing is edited or deleted."""
    reason = (reason or "").strip()
    if not reason:
        raise WorkflowError("请填写冲销原因。")
    try:
        with transaction.atomic():
            locked = _lock(original.project)
            if not perm.may_record_disbursement(locked, actor):
                raise WorkflowError(
                    "只有财政科(且不是批准拨付的人)可以在项目“已结算”后冲销拨付记录。"
                )
            current = Disbursement.objects.get(pk=original.pk)
            if current.reverses_id:
                raise WorkflowError("冲销记录本身不能再冲销。")
            if Disbursement.objects.filter(reverses=current).exists():
                raise WorkflowError(f"拨付记录“{current.voucher_number}”已经冲销过。")
            details = _payment_details(
                {
                    "voucher_number": voucher_number,
                    "voucher_date": voucher_date,
                    "payment_method": current.method,
                    "payee_name": current.payee_name,
                    "payee_bank": current.payee_bank,
                    "payee_account": current.payee_account,
                }
            )
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
            _money_history(
                locked, actor=actor, name="disbursement_reverse", opinion=reason, row=row
            )
            return row
    except ValidationError as exc:
        raise WorkflowError(exc.messages) from exc
    except IntegrityError as exc:
        raise WorkflowError("该拨付记录已被冲销或凭证号重复,未作任何更改。") from exc


def disbursement_record(project: Project, *, actor, amount, purpose: str = "", **details):
    """A corrected payment after a reversal, within the settlement amount (finance)."""
    try:
        with transaction.atomic():
            locked = _lock(project)
            if not perm.may_record_disbursement(locked, actor):
                raise WorkflowError("只有财政科(且不是批准拨付的人)可以在项目“已结算”后补录拨付。")
            value = parse_money(amount, "拨付金额", allow_zero=False)
            room = to_money(locked.settlement_amount or ZERO) - disbursed_total(locked)
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
                **_payment_details(details),
            )
            _money_history(
                locked, actor=actor, name="disbursement_record", opinion=row.purpose, row=row
            )
            return row
    except ValidationError as exc:
        raise WorkflowError(exc.messages) from exc
    except IntegrityError as exc:
        raise WorkflowError("凭证号重复或数据不一致,未作任何更改。") from exc


def payee_defaults(project: Project) -> dict:
    """拨付 goes to the organisation's own account by default."""
    org = project.organization
    return {
        "payment_method": Disbursement.Method.ALLOCATION,
        "payee_name": org.payee_name or org.name,
        "payee_bank": org.bank_name,
        "payee_account": org.bank_account,
    }


# The transition forms register themselves with projects.forms at import time.
from projects import forms_money  # noqa: E402, F401
