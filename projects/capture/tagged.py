"""An invoice from labelled text values (OFD custom data and tags, the older XML, PDF text)."""

from __future__ import annotations

from django.core.exceptions import ValidationError

from projects.capture.fields import Kind, blank_invoice, check_totals
from projects.capture.values import (
    clean_name,
    clean_tax_id,
    clean_text,
    is_digits,
    optional_amount,
    parse_date_text,
)

_MONEY_LABELS = {"amount": "合计金额", "tax": "合计税额", "total": "价税合计"}


def kind_from_title(title: str) -> str:
    """The printed title -> Invoice.Kind value, "" when the title says nothing known."""
    text = clean_text(title)
    if text.startswith("电子发票(") or "数电" in text:
        return Kind.DIGITAL.value  # 电子发票(增值税专用发票) / 电子发票(普通发票)
    if "专用发票" in text:
        return Kind.VAT_SPECIAL.value
    if "普通发票" in text:
        return Kind.VAT_ORDINARY.value
    return ""


def _clean_money(value: str) -> str:
    return clean_text(value).replace("¥", "").replace(",", "").strip()


def invoice_from_labelled(found: dict, *, source: str, where: str) -> dict:
    """found: field name -> raw text ("" when absent). Number and date may be absent (PDF text)."""
    invoice = blank_invoice(source)
    code = clean_text(found.get("code")).replace(" ", "")
    number = clean_text(found.get("number")).replace(" ", "")
    if number or code:
        _check_code_and_number(code, number, where)
    invoice.update(code=code, number=number)
    if clean_text(found.get("issue_date")):
        invoice["issue_date"] = parse_date_text(found["issue_date"], f"{where}中的开票日期")
    for name, label in _MONEY_LABELS.items():
        invoice[name] = optional_amount(_clean_money(found.get(name, "")), f"{where}中的{label}")
    for side, label in (("seller", "销售方"), ("buyer", "购买方")):
        invoice[f"{side}_name"] = clean_name(found.get(f"{side}_name"))
        invoice[f"{side}_tax_id"] = clean_tax_id(
            found.get(f"{side}_tax_id"), f"{where}中的{label}纳税人识别号"
        )
    invoice["check_code"] = clean_text(found.get("check_code")).replace(" ", "").upper()
    invoice["kind"] = kind_from_title(found.get("kind", "")) or (
        Kind.DIGITAL.value if is_digits(number, 20) and not code else ""
    )
    check_totals(invoice, where)
    invoice["cancels"] = "".join(
        clean_text(found.get(name)).replace(" ", "") for name in ("cancels_code", "cancels_number")
    )
    return invoice


def _check_code_and_number(code: str, number: str, where: str) -> None:
    if not code and is_digits(number, 20):
        return  # 数电票
    if (is_digits(code, 10) or is_digits(code, 12)) and is_digits(number, 8):
        return
    raise ValidationError(
        f"{where}中的发票代码“{code[:20]}”和号码“{number[:30]}”不符合格式"
        "(数电发票为 20 位号码且无代码;其他发票为 10 或 12 位代码加 8 位号码)。"
    )
