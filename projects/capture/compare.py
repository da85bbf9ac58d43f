"""Differences between two readings of one invoice (two files of a bundle, the QR and the text
of one PDF, a captured invoice and the fields a person typed)."""

from __future__ import annotations

import datetime
import re
from decimal import Decimal

from django.core.exceptions import ValidationError

from projects.capture.fields import FIELDS, LABELS, MONEY_FIELDS, Kind, source_label
from projects.capture.values import clean_text, parse_amount, parse_date_text
from projects.money import format_cny

_COMPARED = [name for name in FIELDS if name != "source"]


def _blank(value) -> bool:
    return value is None or (isinstance(value, str) and value.strip() == "")


def _coerced(name: str, value):
    """Typed form values may arrive as text ("112.00", "2025-04-01", "增值税专用发票")."""
    if not isinstance(value, str):
        return value
    try:
        if name in MONEY_FIELDS:
            return parse_amount(value.replace(",", "").replace("¥", ""), LABELS[name])
        if name == "issue_date":
            return parse_date_text(value)
    except ValidationError:
        return value
    if name == "kind":
        by_label = {label: kind for kind, label in Kind.choices}
        return by_label.get(clean_text(value), value)
    return value


def _comparable(name: str, value):
    value = _coerced(name, value)
    if isinstance(value, Decimal):
        return value  # Decimal("112") == Decimal("112.00")
    if isinstance(value, datetime.date):
        return value
    text = re.sub(r"\s+", "", clean_text(value))
    if name.endswith("_name"):
        # 抬头 printed with full-width or half-width brackets is the same name (NFKC did it).
        return text
    return text.upper()


def _shown(name: str, value) -> str:
    value = _coerced(name, value)
    if isinstance(value, Decimal):
        return format_cny(value)
    if isinstance(value, datetime.date):
        return value.isoformat()
    if name == "kind":
        try:
            return Kind(value).label
        except ValueError:
            return str(value)
    return f"“{value}”"


def compare_sources(a: dict, b: dict, *, a_label: str = "", b_label: str = "") -> list[str]:
    """One Chinese message per field that both readings give and that differs.

    A field one side leaves blank (None or "") is not a difference: that source does not say.
    The labels default to each dict's ``source`` ("XML", "PDF 的二维码", "手工录入" …).
    """
    a_label = a_label or source_label(str(a.get("source", ""))) or "第一份"
    b_label = b_label or source_label(str(b.get("source", ""))) or "第二份"
    messages = []
    for name in _COMPARED:
        left, right = a.get(name), b.get(name)
        if _blank(left) or _blank(right):
            continue
        if _comparable(name, left) != _comparable(name, right):
            messages.append(
                f"{LABELS[name]}不一致:{a_label}为 {_shown(name, left)},"
                f"{b_label}为 {_shown(name, right)}。"
            )
    return messages


def merge_readings(primary: dict, secondary: dict, *, a_label: str = "", b_label: str = ""):
    """primary completed with what only secondary says; a disagreement is refused."""
    differences = compare_sources(primary, secondary, a_label=a_label, b_label=b_label)
    if differences:
        raise ValidationError(
            ["同一张发票的两处信息不一致,请核对后再录入:", *differences], code="conflict"
        )
    merged = dict(primary)
    for name in _COMPARED:
        if _blank(merged.get(name)) and not _blank(secondary.get(name)):
            merged[name] = secondary[name]
    return merged
