"""Invoices (三(四), DESIGN.md §4): validation, the one identity of a paper invoice, the
one-claim rule, entry and correction, finance's check and its explicit 改判.

Every write runs inside `locking.locked_project(...)` and ends with `events.record(...)`
(before → after), so each invoice decision is a signed event in the chained history.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from functools import lru_cache

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import IntegrityError
from django.utils import timezone
from stdnum.cn import uscc
from stdnum.exceptions import ValidationError as StdnumError

from projects import permissions as perm
from projects.dates import parse_date
from projects.models import BudgetLine, Document, Project
from projects.models.money import Invoice
from projects.money import format_cny, normalise_text, parse_money
from projects.services import events
from projects.services.errors import WorkflowError
from projects.services.locking import locked_project

# The one list of an invoice's own fields: the admin form, the event's before → after and
# the import all use it.
INVOICE_FIELDS = (
    "kind",
    "code",
    "number",
    "issue_date",
    "seller_name",
    "seller_tax_id",
    "buyer_name",
    "buyer_tax_id",
    "amount",
    "tax",
    "total",
    "budget_line",
    "item_names",
    "cancels",
)
VAT_KINDS = frozenset({Invoice.Kind.VAT_SPECIAL, Invoice.Kind.VAT_ORDINARY})

# Only ASCII digits: `\d` would accept Arabic-Indic (٠١٢), Devanagari (०१२) and other
# scripts' digits, which NFKC does not fold, and so let one invoice be stored twice.
_CODE_RE = re.compile(r"[0-9]{10}|[0-9]{12}")
_NUMBER8_RE = re.compile(r"[0-9]{8}")
_NUMBER20_RE = re.compile(r"[0-9]{20}")
_FREE_RE = re.compile(r"[0-9A-Z]{1,20}")


# --- the identity of a paper invoice -------------------------------------------------------


def invoice_identity(code, number) -> str:
    """The normalised identity that is unique across the whole system, whatever the kind.

    A VAT invoice's 10- or 12-digit code and 8-digit number, and a 数电 invoice's 20-digit
    number, are one string of digits: the same paper invoice entered under another kind (a
    VAT invoice's 12 + 8 digits typed as one 20-digit 数电 number, or as 其他) is the same
    identity, and the database's unique constraint refuses the second claim. Any other
    code and number keep the form "CODE|NUMBER".
    """
    code = normalise_text(code).upper()
    number = normalise_text(number).upper()
    vat_shaped = _CODE_RE.fullmatch(code) and _NUMBER8_RE.fullmatch(number)
    digital_shaped = not code and _NUMBER20_RE.fullmatch(number)
    if vat_shaped or digital_shaped:
        return f"{code}{number}"
    return f"{code}|{number}"


@lru_cache(maxsize=4096)  # a batch names the same few sellers and one buyer again and again
def _uscc_valid(value: str) -> bool:
    try:
        uscc.validate(value)
    except StdnumError:
        return False
    return True


def invoice_series(seller_tax_id: str, code: str, number: str) -> tuple[str, int | None]:
    """(series, serial) of one seller's invoice numbers, for the 拆分开票 flag: a VAT
    invoice's 8-digit number runs within its code; a 数电 number's first five digits (year
    and region) are fixed and its last fifteen run. Other numbers have no series."""
    if _NUMBER8_RE.fullmatch(number) and _CODE_RE.fullmatch(code):
        return f"{seller_tax_id}|{code}|", int(number)
    if not code and _NUMBER20_RE.fullmatch(number):
        return f"{seller_tax_id}||{number[:5]}", int(number[5:])
    return "", None


MAX_ITEM_NAMES = 2000


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


_KIND_VALUES = frozenset(Invoice.Kind.values)


@lru_cache(maxsize=1)
def _kind_labels() -> dict[str, str]:
    """Each kind's normalised label → its value (built once, not per cell)."""
    return {normalise_text(label): value for value, label in Invoice.Kind.choices}


def _kind_value(kind) -> str:
    if isinstance(kind, str) and kind in _KIND_VALUES:
        return kind
    value = _kind_labels().get(normalise_text(kind))
    if value is None:
        raise ValidationError(f"票据种类“{kind}”无法识别。")
    return value


# --- validation ---------------------------------------------------------------------------


@dataclass
class CleanInvoice:
    """A validated invoice, ready to be stored (all fields normalised)."""

    values: dict
    errors: list[str] = field(default_factory=list)

    @property
    def identity(self) -> str:
        return self.values.get("identity", "")


def _as_int(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def invoice_validate(data: dict, *, budget_lines: dict, memo: dict | None = None) -> CleanInvoice:
    """Check one invoice's own fields; every problem is reported, in Chinese.

    `budget_lines` maps pk → the project's BudgetLine rows; `data["budget_line"]` is a
    BudgetLine or its pk. Amounts go through the one money parser (never rounded).
    Duplicates against stored invoices are checked by `invoice_duplicates` and, in the end,
    by the database's unique constraint.
    """
    errors: list[str] = []
    values: dict = {}

    def attempt(name, func, value, *args, **kwargs):
        # A batch (the import) passes `memo`: a cell value already parsed for this field
        # is not parsed again (the same parser, its result or its messages reused).
        key = (name, type(value), value)
        try:
            found = memo.get(key) if memo is not None else None
        except TypeError:  # an unhashable value: parse it every time
            key, found = None, None
        if found is None:
            try:
                found = (func(value, *args, **kwargs), None)
            except ValidationError as exc:
                found = (None, exc.messages)
            if memo is not None and key is not None:
                memo[key] = found
        if found[1] is None:
            values[name] = found[0]
        else:
            errors.extend(found[1])

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
    if not _uscc_valid(tax_id):
        errors.append(
            f"销售方纳税人识别号“{tax_id}”不是有效的统一社会信用代码(18位,校验码须正确)。"
        )
    values["seller_tax_id"] = tax_id
    buyer_id = normalise_text(data.get("buyer_tax_id")).upper()
    if buyer_id and not _uscc_valid(buyer_id):
        errors.append(f"购买方纳税人识别号“{buyer_id}”不是有效的统一社会信用代码。")
    values["buyer_tax_id"] = buyer_id
    items = "\n".join(
        line.strip() for line in str(data.get("item_names") or "").splitlines() if line.strip()
    )
    if len(items) > MAX_ITEM_NAMES:
        errors.append(f"货物或服务名称过长(最多{MAX_ITEM_NAMES}字)。")
    values["item_names"] = items
    values["series"], values["serial"] = invoice_series(tax_id, code, number)
    # A 红字发票 carries negative amounts (it offsets a blue one): the sign is allowed here
    # and its consistency checked below; the settlement sums decide what it offsets.
    attempt("amount", parse_money, data.get("amount"), "金额", allow_negative=True)
    attempt("tax", parse_money, data.get("tax"), "税额", allow_negative=True)
    attempt(
        "total", parse_money, data.get("total"), "价税合计", allow_zero=False, allow_negative=True
    )
    if all(k in values for k in ("amount", "tax", "total")):
        errors.extend(_amount_errors(values["amount"], values["tax"], values["total"]))
    values["cancels"] = invoice_identity_text(data.get("cancels"))
    errors.extend(_cancels_errors(values))
    line = data.get("budget_line")
    line_id = getattr(line, "pk", line)
    if line_id in (None, ""):
        errors.append("请选择发票所属的预算明细。")
    elif _as_int(line_id) not in budget_lines:
        errors.append("所选预算明细不属于本项目。")
    else:
        values["budget_line"] = budget_lines[_as_int(line_id)]
    return CleanInvoice(values=values, errors=errors)


def _amount_errors(amount, tax, total) -> list[str]:
    if amount + tax != total:
        return [
            f"金额 {format_cny(amount)} + 税额 {format_cny(tax)} "
            f"不等于价税合计 {format_cny(total)}。"
        ]
    if total > 0 and (amount < 0 or tax < 0):
        return ["蓝字发票的金额和税额不能为负数。"]
    if total < 0 and (amount > 0 or tax > 0):
        return ["红字发票(价税合计为负数)的金额和税额不能为正数。"]
    return []


def invoice_identity_text(value) -> str:
    """The blue invoice a red one cancels, as typed or read: code and number written together
    (spaces and a "|" between them allowed), or a 数电 number -> its identity."""
    text = normalise_text(value).upper().replace("|", "")
    return text


def _cancels_errors(values: dict) -> list[str]:
    cancels = values["cancels"]
    if not cancels:
        return []
    if "total" in values and values["total"] > 0:
        return ["只有红字发票(价税合计为负数)才填写所冲销的蓝字发票。"]
    if not re.fullmatch(r"[0-9]{18}|[0-9]{20}", cancels):
        return [
            f"所冲销的蓝字发票“{cancels[:30]}”应为发票代码和号码连写(18 或 20 位数字)"
            "或数电发票的 20 位号码。"
        ]
    if cancels == values.get("identity"):
        return ["红字发票不能冲销它自己。"]
    return []


def invoice_duplicates(*, identities, actor, exclude_pk=None) -> dict[str, str]:
    """identity → "already claimed" message, naming the project only if the actor sees it."""
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


def budget_lines_of(project: Project) -> dict:
    return {line.pk: line for line in BudgetLine.objects.filter(project=project)}


CLAIM_CONFLICT = "该发票刚刚已被其他人报销,同一张发票只能报销一次。未作任何更改。"


def invoice_values(invoice: Invoice) -> dict:
    """What an invoice event records of the invoice (before → after)."""
    return events.jsonable({name: getattr(invoice, name) for name in INVOICE_FIELDS})


def _subject(invoice: Invoice) -> str:
    return f"发票:{invoice.identity}"


# --- entry and correction (the leader or the org reviewer) ---------------------------------


def _validated(locked: Project, data: dict, *, actor, exclude_pk=None) -> CleanInvoice:
    clean = invoice_validate(data, budget_lines=budget_lines_of(locked))
    if clean.errors:
        raise WorkflowError(clean.errors)
    duplicate = invoice_duplicates(identities=[clean.identity], actor=actor, exclude_pk=exclude_pk)
    if duplicate:
        raise WorkflowError(duplicate[clean.identity])
    return clean


@dataclass
class Original:
    """The e-file an invoice was captured from, kept unchanged (财会〔2020〕6号)."""

    name: str
    content: bytes
    content_type: str = "application/octet-stream"

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.content).hexdigest()


def original_store(*, project: Project, actor, original: Original) -> Document:
    """Store the original through Django's storage (a random name; served only by the
    scoped download view). Call inside the caller's transaction; the caller deletes the
    file if the transaction fails (`_forget_file`).

    The original is opened as the archive package's check will open it first; one it would
    refuse (a PDF with a script, an image that does not decode) is refused here, unstored."""
    from projects.archive.files import acceptance_errors

    errors = acceptance_errors(original.name, original.content)
    if errors:
        raise WorkflowError(errors)
    document = Document(
        project=project,
        kind=Document.Kind.INVOICE_ORIGINAL,
        original_name=original.name[:200],
        content_type=original.content_type[:100],
        size=len(original.content),
        sha256=original.sha256,
        description="发票电子原件(原样保存)",
        uploaded_by=actor,
    )
    document.file.save(original.name, ContentFile(original.content), save=False)
    document.save()
    return document


def _forget_file(document: Document | None) -> None:
    if document is not None and document.file.name:
        document.file.storage.delete(document.file.name)


def capture_data(*, source: str, original: Original | None) -> dict:
    """What an event records of a capture: its source and the original's SHA-256."""
    if not source:
        return {}
    data = {"capture_source": source}
    if original is not None:
        data.update(original_name=original.name, original_sha256=original.sha256)
    return data


def invoice_add(
    *,
    project: Project,
    actor,
    capture_source: str = "",
    original: Original | None = None,
    **data,
) -> Invoice:
    """Enter one invoice on a project (leader or org reviewer, in_progress … accepted).

    A captured invoice (`capture_source`, and the e-file as `original`) goes through the
    same validation and one-claim rule as a typed one; the original is stored beside it
    and the event records the source and the original's SHA-256."""
    document = None
    try:
        with locked_project(project) as locked:
            if not perm.may_enter_invoices(locked, actor):
                raise WorkflowError(
                    f"项目当前状态为“{locked.get_state_display()}”或您无权录入发票。"
                )
            clean = _validated(locked, data, actor=actor)
            scan = data.get("scan")
            if original is not None:
                document = original_store(project=locked, actor=actor, original=original)
                scan = document
            invoice = Invoice.objects.create(
                project=locked,
                created_by=actor,
                scan=scan,
                capture_source=capture_source[:20],
                **clean.values,
            )
            events.record(
                project=locked,
                actor=actor,
                action="invoice_add",
                subject=_subject(invoice),
                data={
                    "invoice": invoice.pk,
                    "before": None,
                    "after": invoice_values(invoice),
                    **capture_data(source=capture_source, original=original),
                },
            )
            return invoice
    except IntegrityError as exc:
        _forget_file(document)
        raise WorkflowError(CLAIM_CONFLICT) from exc
    except BaseException:
        _forget_file(document)
        raise


def invoice_update(*, invoice: Invoice, actor, **data) -> Invoice:
    """Change an invoice that finance has not checked yet (DESIGN.md §5)."""
    try:
        with locked_project(invoice.project_id) as locked:
            current = Invoice.objects.select_for_update().get(pk=invoice.pk)
            if not perm.may_enter_invoices(locked, actor):
                raise WorkflowError(
                    f"项目当前状态为“{locked.get_state_display()}”或您无权修改发票。"
                )
            if current.check_status != Invoice.CheckStatus.PENDING:
                raise WorkflowError("财政科已审核该发票,不能再修改。")
            clean = _validated(locked, data, actor=actor, exclude_pk=current.pk)
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
                subject=_subject(current),
                data={"invoice": current.pk, "before": before, "after": invoice_values(current)},
            )
            return current
    except IntegrityError as exc:
        raise WorkflowError(CLAIM_CONFLICT) from exc


# --- finance's check and 改判 ---------------------------------------------------------------

RECHECK_HINT = "如需更改审核结论,请使用“改判”并填写改判理由。"


def _check_values(invoice: Invoice) -> dict:
    return {"check_status": invoice.check_status, "check_reason": invoice.check_reason}


def _decide(invoice: Invoice, *, actor, qualified: bool, reason: str) -> None:
    invoice.check_status = (
        Invoice.CheckStatus.QUALIFIED if qualified else Invoice.CheckStatus.UNQUALIFIED
    )
    invoice.check_reason = "" if qualified else reason
    invoice.checked_by = actor
    invoice.checked_at = timezone.now()
    invoice.save(update_fields=["check_status", "check_reason", "checked_by", "checked_at"])


def _locked_for_check(invoice: Invoice, locked: Project, actor) -> Invoice:
    if not perm.may_check_invoices(locked, actor):
        if perm.is_payment_approver(locked, actor):
            raise WorkflowError("您批准了该项目的拨付,按照职责分离,不能审核或改判该项目的发票。")
        raise WorkflowError(
            f"项目当前状态为“{locked.get_state_display()}”或您不是财政科人员,不能审核发票。"
        )
    return Invoice.objects.select_for_update().get(pk=invoice.pk)


def invoice_check(*, invoice: Invoice, actor, qualified: bool, reason: str = "") -> Invoice:
    """Finance marks a pending invoice 合格 or 不合格 (with the reason) (三(四)).

    A decided invoice is not re-decided here: that is an explicit 改判 (`invoice_recheck`).
    """
    reason = (reason or "").strip()
    if not qualified and not reason:
        raise WorkflowError("标记为不合格时须填写原因。")
    if len(reason) > 200:
        raise WorkflowError("不合格原因最多200字。")
    with locked_project(invoice.project_id) as locked:
        current = _locked_for_check(invoice, locked, actor)
        if current.check_status != Invoice.CheckStatus.PENDING:
            raise WorkflowError(
                f"发票“{current.number}”已审核为“{current.get_check_status_display()}”,"
                f"不能重复审核。{RECHECK_HINT}"
            )
        before = _check_values(current)
        _decide(current, actor=actor, qualified=qualified, reason=reason)
        events.record(
            project=locked,
            actor=actor,
            action="invoice_check",
            subject=_subject(current),
            opinion=current.check_reason,
            data={"invoice": current.pk, "before": before, "after": _check_values(current)},
        )
        return current


def invoice_recheck(*, invoice: Invoice, actor, qualified: bool, reason: str) -> Invoice:
    """改判: finance changes a decided check (合格 ↔ 不合格), with a required reason, as its
    own signed event recording the conclusion before → after."""
    reason = (reason or "").strip()
    if not reason:
        raise WorkflowError("改判须填写改判理由。")
    if len(reason) > 200:
        raise WorkflowError("改判理由最多200字。")
    with locked_project(invoice.project_id) as locked:
        current = _locked_for_check(invoice, locked, actor)
        if current.check_status == Invoice.CheckStatus.PENDING:
            raise WorkflowError(f"发票“{current.number}”尚未审核,请直接审核,无需改判。")
        target = Invoice.CheckStatus.QUALIFIED if qualified else Invoice.CheckStatus.UNQUALIFIED
        if current.check_status == target:
            raise WorkflowError(
                f"发票“{current.number}”的审核结论已是“{current.get_check_status_display()}”,"
                "改判须改为另一结论。"
            )
        before = _check_values(current)
        _decide(current, actor=actor, qualified=qualified, reason=reason)
        events.record(
            project=locked,
            actor=actor,
            action="invoice_recheck",
            subject=_subject(current),
            opinion=reason,
            data={
                "invoice": current.pk,
                "reason": reason,
                "before": before,
                "after": _check_values(current),
            },
        )
        return current
