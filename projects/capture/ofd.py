"""OFD (GB/T 33190), a zip of XML. The invoice fields are in three places, all read and
cross-checked: ``OFD.xml``'s ``CustomDatas``, the ``CustomTag.xml`` whose tags point at text
objects of the page, and (older e-invoices) ``Doc_0/Attachs/original_invoice.xml``."""

from __future__ import annotations

import posixpath
from xml.etree.ElementTree import Element

from django.core.exceptions import ValidationError

from projects.capture.compare import merge_readings
from projects.capture.safety import MAX_OFD_MEMBERS, MAX_OFD_TOTAL_BYTES, SafeZip, parse_xml
from projects.capture.tagged import invoice_from_labelled, kind_from_title
from projects.capture.values import clean_text
from projects.capture.xml_invoice import read_invoice_xml

# CustomData names and CustomTag element names -> field.
_NAMES = {
    "发票代码": "code",
    "InvoiceCode": "code",
    "发票号码": "number",
    "InvoiceNo": "number",
    "InvoiceNumber": "number",
    "开票日期": "issue_date",
    "IssueDate": "issue_date",
    "校验码": "check_code",
    "InvoiceCheckCode": "check_code",
    "合计金额": "amount",
    "TaxExclusiveTotalAmount": "amount",
    "合计税额": "tax",
    "TaxTotalAmount": "tax",
    "价税合计": "total",
    "TaxInclusiveTotalAmount": "total",
    "购买方名称": "buyer_name",
    "BuyerName": "buyer_name",
    "购买方纳税人识别号": "buyer_tax_id",
    "BuyerTaxID": "buyer_tax_id",
    "销售方名称": "seller_name",
    "SellerName": "seller_name",
    "销售方纳税人识别号": "seller_tax_id",
    "SellerTaxID": "seller_tax_id",
    "发票种类": "kind",
    "发票类型": "kind",
    "InvoiceType": "kind",
    "原发票代码": "cancels_code",
    "原发票号码": "cancels_number",
    "OriginalInvoiceCode": "cancels_code",
    "OriginalInvoiceNumber": "cancels_number",
}
_NAMES_FOLDED = {key.lower(): value for key, value in _NAMES.items()}


def _field(name: str) -> str | None:
    return _NAMES_FOLDED.get(clean_text(name).lower())


def _member_xml(bundle: SafeZip, info, what: str) -> Element:
    return parse_xml(bundle.read(info), what)


def _custom_datas(root: Element) -> dict:
    found = {}
    for data in root.iter("CustomData"):
        field = _field(data.get("Name", ""))
        if field and data.text and data.text.strip():
            found.setdefault(field, clean_text(data.text))
    return found


def _page_texts(bundle: SafeZip) -> dict[str, str]:
    """Text object ID -> its text, over every page's Content.xml."""
    texts: dict[str, str] = {}
    for info in bundle.members:
        if posixpath.basename(info.filename).lower() != "content.xml":
            continue
        root = _member_xml(bundle, info, "OFD 页面")
        for obj in root.iter("TextObject"):
            text = "".join(code.text or "" for code in obj.iter("TextCode"))
            texts.setdefault(obj.get("ID", ""), clean_text(text))
    return texts


def _custom_tags(bundle: SafeZip, texts: dict[str, str]) -> dict:
    found = {}
    for info in bundle.members:
        if posixpath.basename(info.filename).lower() != "customtag.xml":
            continue
        root = _member_xml(bundle, info, "OFD 标签文件")
        for element in root.iter():
            field = _field(element.tag) if isinstance(element.tag, str) else None
            if not field:
                continue
            refs = [ref.text.strip() for ref in element.iter("ObjectRef") if ref.text]
            value = "".join(texts.get(ref, "") for ref in refs) if refs else element.text
            if value and clean_text(value):
                found.setdefault(field, clean_text(value))
    return found


def _title_kind(texts: dict[str, str]) -> str:
    for text in texts.values():
        if "发票" in text and len(text) <= 30 and kind_from_title(text):
            return text
    return ""


def read_ofd(content: bytes, *, source: str = "ofd") -> tuple[dict, list[str]]:
    bundle = SafeZip(
        content, "OFD 文件", max_members=MAX_OFD_MEMBERS, max_total=MAX_OFD_TOTAL_BYTES
    )
    ofd_xml = bundle.find("OFD.xml")
    if ofd_xml is None:
        raise ValidationError("不是有效的 OFD 文件(缺少 OFD.xml)。")
    readings: list[tuple[str, dict]] = []
    custom = _custom_datas(_member_xml(bundle, ofd_xml, "OFD.xml"))
    texts = _page_texts(bundle)
    tags = _custom_tags(bundle, texts)
    if "kind" not in tags and _title_kind(texts):
        tags["kind"] = _title_kind(texts)
    if custom:
        readings.append(("OFD 的自定义数据", custom))
    if tags:
        readings.append(("OFD 的版面标签", tags))
    invoices = [
        (label, invoice_from_labelled(found, source=source, where=label))
        for label, found in readings
    ]
    items: list[str] = []
    original = next(
        (
            info
            for info in bundle.members
            if posixpath.basename(info.filename).lower() == "original_invoice.xml"
        ),
        None,
    )
    if original is not None:
        attached, items = read_invoice_xml(
            _member_xml(bundle, original, "OFD 附带的发票 XML"), source=source
        )
        invoices.insert(0, ("OFD 附带的发票 XML", attached))
    if not invoices:
        raise ValidationError("OFD 文件中没有找到发票信息(没有自定义数据、标签或发票 XML)。")
    label, invoice = invoices[0]
    for other_label, other in invoices[1:]:
        invoice = merge_readings(invoice, other, a_label=label, b_label=other_label)
    if not invoice["number"] or invoice["issue_date"] is None:
        raise ValidationError("OFD 文件中没有找到发票号码或开票日期。")
    return invoice, items
