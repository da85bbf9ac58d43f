"""The 数电 invoice XML (the authoritative data of a 数电票) and the older e-invoice XML that
OFD files carry as ``Doc_0/Attachs/original_invoice.xml``."""

from __future__ import annotations

from xml.etree.ElementTree import Element

from django.core.exceptions import ValidationError

from projects.capture.fields import Kind, blank_invoice, check_totals
from projects.capture.tagged import invoice_from_labelled
from projects.capture.values import (
    clean_name,
    clean_tax_id,
    clean_text,
    is_digits,
    optional_amount,
    parse_date_text,
)


def _text(root: Element, path: str) -> str:
    # One child at a time: a plain tag is found by the C Element itself, while a path with
    # "/" would go through the pure-Python ElementPath (a third of a 1,000-invoice zip's time).
    found = root
    for tag in path.split("/"):
        found = found.find(tag)
        if found is None:
            return ""
    return clean_text(found.text) if found.text else ""


# Where a 数电 红字发票 names the blue invoice it cancels (the layouts seen vary; any of these,
# anywhere under the root, is read; a red invoice without one is still read and flagged).
_CANCELLED_TAGS = frozenset(
    {
        "OriginalInvoiceNumber",
        "OriginalInvoiceNo",
        "BlueInvoiceNumber",
        "CorrespondingBlueInvoiceNumber",
    }
)


def _cancelled_number(root: Element) -> str:
    for element in root.iter():  # one pass over a small tree
        if element.tag in _CANCELLED_TAGS and element.text and element.text.strip():
            return clean_text(element.text).replace(" ", "")
    return ""


def read_einvoice(root: Element, *, source: str) -> tuple[dict, list[str]]:
    """``EInvoice`` -> (invoice dict, item names)."""
    data = root.find("EInvoiceData")
    if data is None:
        raise ValidationError("XML 中没有发票数据(缺少 EInvoiceData)。")
    number = _text(root, "TaxSupervisionInfo/InvoiceNumber") or _text(root, "Header/EIid")
    if not is_digits(number, 20):
        raise ValidationError(f"XML 中的发票号码“{number[:30]}”应为 20 位数字。")
    when = _text(root, "TaxSupervisionInfo/IssueTime")
    when = when or _text(data, "BasicInformation/RequestTime")
    if not when:
        raise ValidationError("XML 中没有开票日期(IssueTime)。")
    basic = "BasicInformation/"
    invoice = blank_invoice(source)
    invoice.update(
        kind=Kind.DIGITAL.value,
        number=number,
        issue_date=parse_date_text(when),
        amount=optional_amount(_text(data, basic + "TotalAmWithoutTax"), "XML 中的合计金额"),
        tax=optional_amount(_text(data, basic + "TotalTaxAm"), "XML 中的合计税额"),
        total=optional_amount(_text(data, basic + "TotalTax-includedAmount"), "XML 中的价税合计"),
        seller_name=clean_name(_text(data, "SellerInformation/SellerName")),
        seller_tax_id=clean_tax_id(
            _text(data, "SellerInformation/SellerIdNum"), "XML 中的销售方纳税人识别号"
        ),
        buyer_name=clean_name(_text(data, "BuyerInformation/BuyerName")),
        buyer_tax_id=clean_tax_id(
            _text(data, "BuyerInformation/BuyerIdNum"), "XML 中的购买方纳税人识别号"
        ),
    )
    check_totals(invoice, "XML")
    invoice["cancels"] = _cancelled_number(root)
    items = [_text(item, "ItemName") for item in data.iter("IssuItemInformation")]
    return invoice, [item for item in items if item]


# The older e-invoice XML (增值税电子普通发票): pinyin initials, spelt in a few ways.
_LEGACY = {
    "code": ("FPDM", "FP_DM"),
    "number": ("FPHM", "FP_HM"),
    "issue_date": ("KPRQ",),
    "check_code": ("JYM",),
    "buyer_name": ("GMF_MC", "GMFMC"),
    "buyer_tax_id": ("GMF_NSRSBH", "GMFNSRSBH"),
    "seller_name": ("XSF_MC", "XSFMC"),
    "seller_tax_id": ("XSF_NSRSBH", "XSFNSRSBH"),
    "amount": ("HJJE",),
    "tax": ("HJSE",),
    "total": ("JSHJ",),
    # A 红字发票 names the blue one it cancels: 原发票代码 / 原发票号码.
    "cancels_code": ("YFP_DM", "YFPDM"),
    "cancels_number": ("YFP_HM", "YFPHM"),
}


def read_legacy(root: Element, *, source: str) -> tuple[dict, list[str]]:
    values: dict[str, str] = {}
    for element in root.iter():
        if isinstance(element.tag, str) and element.text and element.text.strip():
            values.setdefault(element.tag.upper(), clean_text(element.text))
    found = {
        name: next((values[tag] for tag in tags if tag in values), "")
        for name, tags in _LEGACY.items()
    }
    invoice = invoice_from_labelled(found, source=source, where="XML")
    items = [clean_text(e.text) for e in root.iter() if e.tag.upper() in ("XMMC", "SPMC")]
    return invoice, [item for item in items if item]


def read_invoice_xml(root: Element, *, source: str) -> tuple[dict, list[str]]:
    if root.tag == "EInvoice":
        return read_einvoice(root, source=source)
    if any(e.tag.upper() in ("FPHM", "FP_HM") for e in root.iter() if isinstance(e.tag, str)):
        return read_legacy(root, source=source)
    raise ValidationError(f"无法识别的 XML(根元素为 {root.tag[:40]}),不是数电发票 XML。")
