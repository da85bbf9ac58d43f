"""The QR payload printed on every Chinese VAT invoice (and typed by a USB scanner).

``01,<kind>,<code>,<number>,<amount>,<YYYYMMDD>,<check code>[,<unpublished>]``
observed: ``01,10,011001605111,80100798,64.9,20161018,85342965681116380258``,
``01,32,,23442000000014209621,112,20230215,,74AE``,
``01,31,,25924000000001260164,379.00,20250401,,8924``.
"""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError

from projects.capture.fields import Kind, blank_invoice
from projects.capture.values import clean_text, is_digits, parse_amount, parse_compact_date

PAYLOAD_VERSION = "01"

# The payload's kind code -> Invoice.Kind. Codes not listed are kept as given in ``source``.
KIND_CODES = {
    "01": Kind.VAT_SPECIAL,  # 增值税专用发票
    "08": Kind.VAT_SPECIAL,  # 增值税电子专用发票
    "04": Kind.VAT_ORDINARY,  # 增值税普通发票
    "10": Kind.VAT_ORDINARY,  # 增值税电子普通发票
    "11": Kind.VAT_ORDINARY,  # 增值税普通发票(卷式)
    "14": Kind.VAT_ORDINARY,  # 增值税电子普通发票(通行费)
    "31": Kind.DIGITAL,  # 电子发票(增值税专用发票), 数电专票
    "32": Kind.DIGITAL,  # 电子发票(普通发票), 数电普票
}
DIGITAL_CODES = {"31", "32"}

_CHECK_CODE = re.compile(r"[0-9A-Za-z]*", re.ASCII)
MAX_PAYLOAD_LENGTH = 300


def looks_like_payload(text: str) -> bool:
    return clean_text(text).startswith(PAYLOAD_VERSION + ",")


def parse_payload(text: str, *, source: str = "qr") -> dict:
    """One payload -> the captured invoice dict; anything else is refused in Chinese."""
    # NFKC first: a full-width "，" or "０" typed by an IME becomes "," and "0".
    payload = clean_text(text)
    if not payload:
        raise ValidationError("发票二维码内容为空。")
    if len(payload) > MAX_PAYLOAD_LENGTH or not payload.startswith(PAYLOAD_VERSION + ","):
        raise ValidationError(
            f"这不是发票二维码的内容(应以“01,”开头,读到“{payload[:40]}”)。", code="not_invoice"
        )
    parts = [part.strip() for part in payload.split(",")]
    if len(parts) not in (7, 8):  # the 8th field's meaning is unpublished: ignored, never checked
        raise ValidationError(f"发票二维码应有 7 或 8 项,以逗号分隔,读到 {len(parts)} 项。")
    _, kind_code, code, number, amount, issue_date, check_code = parts[:7]
    _check_kind_code_and_number(kind_code, code, number)
    if not _CHECK_CODE.fullmatch(check_code):
        raise ValidationError(f"发票二维码中的校验码“{check_code[:30]}”只能是数字或字母。")
    invoice = blank_invoice(source if kind_code in KIND_CODES else f"{source}:kind={kind_code}")
    invoice.update(
        kind=KIND_CODES.get(kind_code, Kind.OTHER).value,
        code=code,
        number=number,
        issue_date=parse_compact_date(issue_date),
        check_code=check_code.upper(),
    )
    value = parse_amount(amount, "发票二维码中的金额")
    # 数电票 print the tax-inclusive total; the older kinds the amount before tax.
    invoice["total" if kind_code in DIGITAL_CODES else "amount"] = value
    return invoice


def _check_kind_code_and_number(kind_code: str, code: str, number: str) -> None:
    if not is_digits(kind_code, 2):
        raise ValidationError(f"发票二维码中的票种代码“{kind_code[:10]}”应为 2 位数字。")
    if kind_code in DIGITAL_CODES or (kind_code not in KIND_CODES and not code):
        _check_digital(code, number)
    else:
        _check_code_and_number(code, number)


def _check_digital(code: str, number: str) -> None:
    if code:
        raise ValidationError("数电发票没有发票代码,二维码中的发票代码一项应为空。")
    if not is_digits(number, 20):
        raise ValidationError(
            f"数电发票的发票号码应为 20 位数字,二维码中读到“{number[:30]}”({len(number)} 位)。"
        )


def _check_code_and_number(code: str, number: str) -> None:
    if not (is_digits(code, 10) or is_digits(code, 12)):
        raise ValidationError(
            f"发票代码应为 10 位或 12 位数字,二维码中读到“{code[:30]}”({len(code)} 位)。"
        )
    if not is_digits(number, 8):
        raise ValidationError(
            f"发票号码应为 8 位数字,二维码中读到“{number[:30]}”({len(number)} 位)。"
        )
