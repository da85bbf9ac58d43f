"""Reading invoices from what they reach the user as (issue 12): a scanner's QR payload, an
image or PDF with the QR, the 数电 XML, the OFD, the tax platform's zip.

``read_invoices(content, filename) -> list[dict]`` is the contract: one dict per invoice with
the keys of ``fields.FIELDS``; anything unreadable or refused raises ValidationError with a
Chinese message. Nothing is stored here; the caller keeps the original file and its SHA-256.
"""

from __future__ import annotations

import posixpath

from django.core.exceptions import ValidationError

from projects.capture.bundle import read_bundle
from projects.capture.compare import compare_sources
from projects.capture.fields import EXTRA_FIELDS, FIELDS, Kind
from projects.capture.images import read_image, read_pdf
from projects.capture.items import suggest_budget_item
from projects.capture.ofd import read_ofd
from projects.capture.payload import parse_payload
from projects.capture.safety import MAX_INPUT_BYTES, parse_xml
from projects.capture.xml_invoice import read_invoice_xml

__all__ = [
    "FIELDS",
    "compare_sources",
    "read_invoice_items",
    "read_invoices",
    "read_invoices_with_items",
    "suggest_budget_item",
]

MAX_PAYLOADS = 3000  # lines of one pasted list of scanner payloads

EXTENSIONS = {
    ".txt": "qr",
    ".xml": "xml",
    ".ofd": "ofd",
    ".pdf": "pdf",
    ".png": "image",
    ".jpg": "image",
    ".jpeg": "image",
    ".zip": "zip",
}


def _read_payloads(content: bytes, source: str) -> list[tuple[dict, list[str]]]:
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValidationError("扫码内容不是有效的文本,无法读取。") from None
    # A scanner types the payload and presses Enter; a pasted list has one payload a line.
    lines = [line for line in text.splitlines() if line.strip()]
    if len(lines) > MAX_PAYLOADS:
        raise ValidationError(f"一次最多读取 {MAX_PAYLOADS} 条扫码内容,读到 {len(lines)} 条。")
    return [(parse_payload(line, source=source), []) for line in lines]


def _read_form(form: str, content: bytes, source: str) -> list[tuple[dict, list[str]]]:
    if form == "qr":
        return _read_payloads(content, source)
    if form == "xml":
        return [read_invoice_xml(parse_xml(content), source=source)]
    if form == "ofd":
        return [read_ofd(content, source=source)]
    if form == "pdf":
        return [(invoice, []) for invoice in read_pdf(content, source=source)]
    return [(invoice, []) for invoice in read_image(content, source=source)]


def _finish(invoice: dict) -> dict:
    if not invoice["kind"]:
        # Only OFD of the older e-invoices leaves the kind unsaid: they are 电子普票.
        invoice["kind"] = Kind.VAT_ORDINARY.value
    return {name: invoice.get(name, "") for name in (*FIELDS, *EXTRA_FIELDS)}


def _once(found: list[tuple[dict, list[str]]]) -> list[tuple[dict, list[str]]]:
    """The same invoice twice in one input (a payload scanned twice) is captured once."""
    seen: dict[str, dict] = {}
    kept = []
    for invoice, items in found:
        key = f"{invoice['code']}|{invoice['number']}"
        if key in seen:
            differences = compare_sources(seen[key], invoice)
            if differences:
                raise ValidationError(
                    [f"发票 {invoice['number']} 出现了两次且内容不一致:", *differences],
                    code="conflict",
                )
            continue
        seen[key] = invoice
        kept.append((invoice, items))
    return kept


def read_invoices_with_items(content: bytes, filename: str) -> list[tuple[dict, list[str]]]:
    """[(invoice dict, item names)], for a page that also suggests a budget line; the dicts
    also carry ``EXTRA_FIELDS`` (the blue invoice a red one cancels)."""
    extension = posixpath.splitext(str(filename).replace("\\", "/"))[1].lower()
    form = EXTENSIONS.get(extension)
    if form is None:
        raise ValidationError(
            f"不支持的文件类型“{extension or '无扩展名'}”,"
            "请上传 XML、OFD、PDF、PNG/JPG 图片、税务平台下载的 zip,或扫码内容。"
        )
    if not content:
        raise ValidationError("文件为空,请重新选择。")
    if len(content) > MAX_INPUT_BYTES:
        raise ValidationError(f"文件过大(超过 {MAX_INPUT_BYTES // 1024 // 1024} MB)。")
    if form == "zip":
        found = read_bundle(content, _read_form)
    else:
        found = _read_form(form, content, form)
    if not found:
        raise ValidationError("没有读到发票。")
    return [(_finish(invoice), items) for invoice, items in _once(found)]


def read_invoices(content: bytes, filename: str) -> list[dict]:
    """The contract: one dict per invoice found, keys exactly ``FIELDS``."""
    return [
        {name: invoice[name] for name in FIELDS}
        for invoice, _items in read_invoices_with_items(content, filename)
    ]


def read_invoice_items(content: bytes, filename: str) -> list[list[str]]:
    """The item names of each invoice, in the order of read_invoices ([] where not given)."""
    return [items for _invoice, items in read_invoices_with_items(content, filename)]
