"""Form fields that read input through the one money parser and the one date parser, so a
form accepts exactly what an import accepts (1,000.00 yes; 1e3, +100, 1_000, 12.345 and
other scripts' digits no), and never rounds what was typed."""

from __future__ import annotations

from django import forms

from projects.dates import DATE_EXAMPLE, format_date, parse_date
from projects.money import parse_money


class MoneyField(forms.CharField):
    """An amount in CNY, cleaned by projects.money.parse_money into a Decimal."""

    def __init__(self, label: str, *, allow_zero: bool = True, allow_negative: bool = False, **kw):
        self.allow_zero = allow_zero
        self.allow_negative = allow_negative
        # No max_length: its validator would run on the cleaned Decimal; the widget caps it.
        kw.setdefault("widget", forms.TextInput(attrs={"inputmode": "decimal", "maxlength": 40}))
        kw.setdefault("help_text", "")
        super().__init__(label=label, **kw)

    def prepare_value(self, value):
        return "" if value is None else str(value)

    def to_python(self, value):
        text = super().to_python(value)
        if text in self.empty_values:
            return None
        return parse_money(
            text,
            str(self.label or "金额"),
            allow_zero=self.allow_zero,
            allow_negative=self.allow_negative,
        )

    def validate(self, value):
        if value is None and self.required:
            raise forms.ValidationError(f"请填写{self.label}。", code="required")


class DateField(forms.CharField):
    """A date, cleaned by projects.dates.parse_date (2026-12-10, 2026年12月10日 …)."""

    def __init__(self, label: str, **kw):
        kw.setdefault("widget", forms.TextInput(attrs={"maxlength": 40}))
        kw.setdefault("help_text", f"例如 {DATE_EXAMPLE}")
        super().__init__(label=label, **kw)

    def prepare_value(self, value):
        if hasattr(value, "year"):
            return value.isoformat()
        return value

    def to_python(self, value):
        if hasattr(value, "year"):
            return parse_date(value, str(self.label))
        text = super().to_python(value)
        if text in self.empty_values:
            return None
        return parse_date(text, str(self.label))

    def validate(self, value):
        if value is None and self.required:
            raise forms.ValidationError(f"请填写{self.label}。", code="required")


__all__ = ["DateField", "MoneyField", "format_date"]
