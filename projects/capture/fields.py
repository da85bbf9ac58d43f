"""The captured invoice dict (contract of read_invoices) and its field labels."""

from __future__ import annotations

from django.core.exceptions import ValidationError

from projects.models.money import Invoice

FIELDS = (
    "kind",
    "code",
    "number",
    "issue_date",
    "amount",
    "tax",
    "total",
    "seller_name",
    "seller_tax_id",
    "buyer_name",
    "buyer_tax_id",
    "check_code",
    "source",
)
MONEY_FIELDS = ("amount", "tax", "total")
# Beyond the contract's keys, kept by read_invoices_with_items for the pages: the blue invoice
# a 红字发票 cancels (its identity: code and number written together, or the 数电 number),
# where the source names it; "" otherwise.
EXTRA_FIELDS = ("cancels",)

LABELS = {
    "kind": "票据种类",
    "code": "发票代码",
    "number": "发票号码",
    "issue_date": "开票日期",
    "amount": "金额",
    "tax": "税额",
    "total": "价税合计",
    "seller_name": "销售方名称",
    "seller_tax_id": "销售方纳税人识别号",
    "buyer_name": "购买方名称",
    "buyer_tax_id": "购买方纳税人识别号",
    "check_code": "校验码",
    "cancels": "所冲销的蓝字发票",
}

# Where a value came from, as a person reads it in a difference message.
SOURCE_LABELS = {
    "qr": "二维码",
    "xml": "XML",
    "ofd": "OFD",
    "pdf": "PDF",
    "pdf:qr": "PDF 的二维码",
    "pdf:text": "PDF 的文字",
    "image": "图片的二维码",
    "typed": "手工录入",
}

Kind = Invoice.Kind


def blank_invoice(source: str) -> dict:
    """Every key present; money None and text "" mean "the source does not say"."""
    invoice = dict.fromkeys((*FIELDS, *EXTRA_FIELDS), "")
    invoice.update(issue_date=None, amount=None, tax=None, total=None, source=source)
    return invoice


def source_label(source: str) -> str:
    if source in SOURCE_LABELS:
        return SOURCE_LABELS[source]
    if source.startswith("zip:"):
        return "压缩包中的" + source_label(source[4:])
    if source.startswith("qr:"):
        return "二维码"
    return source


def check_totals(invoice: dict, where: str) -> None:
    """金额 + 税额 = 价税合计 whenever the source gives all three."""
    amount, tax, total = invoice["amount"], invoice["tax"], invoice["total"]
    if None not in (amount, tax, total) and amount + tax != total:
        raise ValidationError(
            f"{where}中的金额 {amount} 加税额 {tax} 不等于价税合计 {total},文件可能已被改动。"
        )
