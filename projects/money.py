"""Money helpers: amounts are Decimal with 2 places, in CNY, never float (DESIGN.md §4)."""

import re
import unicodedata
from decimal import ROUND_HALF_UP, Decimal

from django.core.exceptions import ValidationError

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
# The largest amount a money column holds (14 digits, 2 places).
MAX_AMOUNT = Decimal("999999999999.99")


def to_money(value) -> Decimal:
    """Quantise to cents. Refuses floats: they cannot represent money exactly."""
    if isinstance(value, float):
        raise TypeError("金额不能使用浮点数")
    return Decimal(value if value is not None else 0).quantize(CENT, rounding=ROUND_HALF_UP)


def format_cny(value) -> str:
    """The one place that writes an amount for people: ¥12,345.60."""
    if value is None:
        return "—"
    amount = to_money(value)
    sign = "-" if amount < 0 else ""
    return f"{sign}¥{abs(amount):,.2f}"


_DIGITS = "零壹贰叁肆伍陆柒捌玖"
_UNITS = ["", "拾", "佰", "仟"]
_GROUPS = ["", "万", "亿", "万亿"]


def _capital_integer(number: int) -> str:
    """Yuan part in capitals; one 零 for a run of zeros, none at the end of a group."""
    text = str(number)
    out: list[str] = []
    zero_pending = False
    group_has_digit = False
    for index, char in enumerate(text):
        position = len(text) - 1 - index
        digit = int(char)
        if digit == 0:
            zero_pending = True
        else:
            if zero_pending and out:
                out.append("零")
            zero_pending = False
            out.append(_DIGITS[digit] + _UNITS[position % 4])
            group_has_digit = True
        if position % 4 == 0 and position > 0:
            if group_has_digit:
                out.append(_GROUPS[position // 4])
            group_has_digit = False
    return "".join(out)


def to_chinese_capital(amount) -> str:
    """The amount in capitals for printed forms (会计基础工作规范第五十二条).

    整 follows 元 or 角, never 分; a run of zeros is written as one 零:
    12345.67 → 人民币壹万贰仟叁佰肆拾伍元陆角柒分, 16409.02 → 人民币壹万陆仟肆佰零玖元零贰分,
    1004.50 → 人民币壹仟零肆元伍角整, 10 → 人民币壹拾元整.
    """
    value = to_money(amount)
    sign = "负" if value < 0 else ""
    cents = int(abs(value) * 100)
    yuan, jiao, fen = cents // 100, cents // 10 % 10, cents % 10
    if cents == 0:
        return "人民币零元整"
    text = _capital_integer(yuan) + "元" if yuan else ""
    if jiao:
        text += _DIGITS[jiao] + "角"
    elif fen and yuan:
        text += "零"
    text += _DIGITS[fen] + "分" if fen else "整"
    return f"人民币{sign}{text}"


# --- the one parser of money input (forms, imports, services) --------------------------

# Accepted: ASCII digits (full-width ones fold to ASCII), an optional ¥/￥ in front,
# thousands separators in their places (1,000.00), at most two decimals. Refused: exponents
# (1e3), signs (+100; a minus only where negatives are allowed), underscores (1_000), other
# scripts' digits (١٢٣, which NFKC does not fold), and anything that would need rounding.
_MONEY_RE = re.compile(r"(-?)([0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.([0-9]{1,2}))?")


_SPACES = re.compile(r"\s+")


def normalise_text(value) -> str:
    """NFKC (full-width → half-width), all white space removed."""
    return _SPACES.sub("", unicodedata.normalize("NFKC", str(value or "")))


def parse_money(
    value,
    label: str = "金额",
    *,
    allow_zero: bool = True,
    allow_negative: bool = False,
) -> Decimal:
    """An amount with at most two decimals, as typed or as a cell holds it; never rounds.

    Raises ValidationError with a Chinese message naming `label`.
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        raise ValidationError(f"请填写{label}。")
    if isinstance(value, bool):
        raise ValidationError(f"{label}不是有效的金额。")
    if isinstance(value, float):
        # Spreadsheet cells arrive as binary floats: their shortest repr is the typed value.
        value = repr(value)
    if isinstance(value, int):
        value = str(value)
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValidationError(f"{label}不是有效的金额。")
        text = format(value, "f")
    else:
        text = normalise_text(value)
        for symbol in ("¥", "￥"):
            text = text.removeprefix(symbol)
    match = _MONEY_RE.fullmatch(text)
    if match is None:
        decimals = re.fullmatch(r"-?[0-9]+\.([0-9]{3,})", text)
        if decimals and set(decimals.group(1)[2:]) <= {"0"}:
            match = re.fullmatch(r"(-?)([0-9]+)\.([0-9]{2})0+", text)
        if match is None:
            if decimals:
                raise ValidationError(f"{label}最多保留两位小数(“{value}”),请勿多填。")
            raise ValidationError(
                f"{label}“{value}”不是有效的金额,请只填数字,例如 1234.50 或 1,234.50。"
            )
    sign, whole, cents = match.groups()
    amount = Decimal(f"{sign}{whole.replace(',', '')}.{cents or '0'}").quantize(CENT)
    if amount < 0 and not allow_negative:
        raise ValidationError(f"{label}不能为负数。")
    if amount == 0 and not allow_zero:
        raise ValidationError(f"{label}必须大于 0。")
    if abs(amount) > MAX_AMOUNT:
        raise ValidationError(f"{label}超过系统可记录的最大金额 {format_cny(MAX_AMOUNT)}。")
    return amount
