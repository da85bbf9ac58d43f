"""Strict readers for the values found on an invoice: digits, amounts, dates, names.

The capture formats print amounts plainly (``64.9``, ``112``, ``379.00``, ``-12.50`` for 红字);
they are read by the product's one money parser (projects/money.py), with the sign allowed.
"""

from __future__ import annotations

import datetime
import re
import unicodedata
from decimal import Decimal

from django.core.exceptions import ValidationError

from projects.money import parse_money

CENT = Decimal("0.01")

# re.ASCII: only 0-9 count as digits (Arabic-Indic or other Unicode digits are refused).
_DIGITS = re.compile(r"[0-9]+", re.ASCII)
_TAX_ID = re.compile(r"[0-9A-Z]{15,20}", re.ASCII)
_SPACES = re.compile(r"\s+")


def clean_text(value) -> str:
    """NFKC (full-width to half-width), outer whitespace removed; None becomes ""."""
    return unicodedata.normalize("NFKC", "" if value is None else str(value)).strip()


def parse_amount(value, label: str) -> Decimal:
    """An amount as printed on the invoice, through the one money parser; a leading minus is
    a 红字发票's (never rounded: more than two decimals are refused)."""
    return parse_money(clean_text(value)[:60], label, allow_negative=True)


def optional_amount(value, label: str) -> Decimal | None:
    return None if clean_text(value) == "" else parse_amount(value, label)


def is_digits(text: str, length: int | None = None) -> bool:
    return bool(_DIGITS.fullmatch(text)) and (length is None or len(text) == length)


def parse_compact_date(text: str, label: str = "开票日期") -> datetime.date:
    """YYYYMMDD, as the QR payload prints it."""
    if not is_digits(text, 8):
        raise ValidationError(f"{label}“{text[:20]}”应为 8 位数字(年月日)。")
    try:
        return datetime.date(int(text[:4]), int(text[4:6]), int(text[6:]))
    except ValueError:
        raise ValidationError(f"{label}“{text}”不是有效的日期。") from None


_DATE_FORMS = [
    re.compile(r"([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})", re.ASCII),
    re.compile(r"([0-9]{4})年([0-9]{1,2})月([0-9]{1,2})日", re.ASCII),
    re.compile(r"([0-9]{4})/([0-9]{1,2})/([0-9]{1,2})", re.ASCII),
    re.compile(r"([0-9]{4})([0-9]{2})([0-9]{2})", re.ASCII),
]


def parse_date_text(value, label: str = "开票日期") -> datetime.date:
    """A date at the start of an XML/OFD/PDF value: 2023-02-15, 2023年02月15日, 20230215,
    optionally followed by a time (2023-02-15 10:00:00, 20161018123456)."""
    text = clean_text(value)
    for form in _DATE_FORMS:
        match = form.match(text)
        if match:
            try:
                return datetime.date(*(int(part) for part in match.groups()))
            except ValueError:
                break
    raise ValidationError(f"{label}“{text[:30]}”不是有效的日期。")


def clean_tax_id(value, label: str) -> str:
    """A 纳税人识别号 / 统一社会信用代码: 15 to 20 ASCII digits or capitals; "" if absent.

    Only the shape is checked here; the invoice's own validation checks the USCC check digit.
    """
    text = _SPACES.sub("", clean_text(value)).upper()
    if text and not _TAX_ID.fullmatch(text):
        raise ValidationError(f"{label}“{text[:30]}”格式不正确。")
    return text


def clean_name(value) -> str:
    """A company name as printed; inner runs of whitespace collapsed to one space."""
    return _SPACES.sub(" ", clean_text(value))
