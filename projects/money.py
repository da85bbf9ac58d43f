"""Money helpers: amounts are Decimal with 2 places, in CNY, never float (DESIGN.md §4)."""

from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
ZERO = Decimal("0.00")


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
