"""The zip the tax platform hands out (``dzfp_<number>_<seller>_<time>.zip`` holding the same
invoice as PDF, OFD and XML; or many invoices at once): each invoice captured once, from its
XML when there is one, and every other file of the same invoice must agree with it."""

from __future__ import annotations

import posixpath

from django.core.exceptions import ValidationError

from projects.capture.compare import compare_sources
from projects.capture.fields import source_label
from projects.capture.safety import SafeZip, display_name

# Preferred first: the XML is the authoritative data of a 数电票.
PREFERENCE = ("xml", "ofd", "pdf", "image")
_FORMS = {".xml": "xml", ".ofd": "ofd", ".pdf": "pdf", ".png": "image", ".jpg": "image"}
_FORMS[".jpeg"] = "image"


def read_bundle(content: bytes, read_member) -> list[tuple[dict, list[str]]]:
    """read_member(form, bytes, source) -> [(invoice, items)], the single-file readers."""
    archive = SafeZip(content, "压缩包")
    readings: dict[str, list[tuple[str, str, dict, list[str]]]] = {}
    for info in archive.members:
        extension = posixpath.splitext(info.filename)[1].lower()
        if extension in (".zip", ".rar", ".7z"):
            raise ValidationError(f"压缩包中不能再嵌套压缩包(“{display_name(info)}”)。")
        form = _FORMS.get(extension)
        if form is None:
            continue  # a readme or a signature file: not an invoice
        name = display_name(info)
        try:
            found = read_member(form, archive.read(info), f"zip:{form}")
        except ValidationError as error:
            raise ValidationError([f"压缩包中的“{name}”无法读取:", *error.messages]) from None
        for invoice, items in found:
            key = f"{invoice['code']}|{invoice['number']}"
            readings.setdefault(key, []).append((form, name, invoice, items))
    if not readings:
        raise ValidationError("压缩包中没有发票文件(XML、OFD、PDF 或图片)。")
    return [_one_invoice(group) for group in readings.values()]


def _one_invoice(group) -> tuple[dict, list[str]]:
    group.sort(key=lambda reading: PREFERENCE.index(reading[0]))
    form, name, invoice, items = group[0]
    differences = []
    completed = dict(invoice)
    for _other_form, other_name, other, other_items in group[1:]:
        differences += compare_sources(
            invoice,
            other,
            a_label=f"{name}({source_label(form)})",
            b_label=f"{other_name}",
        )
        items = items or other_items
        for field, value in other.items():
            if completed.get(field) in (None, "") and value not in (None, ""):
                completed[field] = value  # e.g. the check code only the QR prints
    if differences:
        raise ValidationError(
            [f"压缩包中发票 {invoice['number']} 的几个文件不一致,请核对后再录入:", *differences],
            code="conflict",
        )
    return completed, items
