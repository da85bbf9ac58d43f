"""Cell widgets for the import/export resources: typed on export (coerce_to_string=False,
so numbers and dates stay numbers and dates in xlsx), strict and Chinese on import.

Money goes through the one money parser (projects.money.parse_money: 12.345 and 1e3 are
refused, never rounded), dates through the one date parser (projects.dates.parse_date)."""

from __future__ import annotations

from decimal import InvalidOperation

from django.core.exceptions import ValidationError
from import_export import fields, widgets

from accounts.roles import Role
from projects.dates import parse_date
from projects.exchange.writer import neutralise
from projects.money import parse_money, to_money


def _message(exc: ValidationError) -> str:
    return "".join(exc.messages)


class MoneyWidget(widgets.DecimalWidget):
    """Decimal with 2 places; a cell stays a number in xlsx (coerce_to_string=False)."""

    def __init__(self, label: str = "金额", **kwargs):
        super().__init__(coerce_to_string=False, **kwargs)
        self.label = label

    def clean(self, value, row=None, **kwargs):
        if self.is_empty(value):
            return None
        try:
            return parse_money(value, self.label)
        except ValidationError as exc:
            raise ValueError(_message(exc)) from exc

    def render(self, value, obj=None, **kwargs):
        return None if value is None else to_money(value)


class NumberWidget(widgets.IntegerWidget):
    def __init__(self, **kwargs):
        super().__init__(coerce_to_string=False, **kwargs)

    def clean(self, value, row=None, **kwargs):
        try:
            return super().clean(value, row, **kwargs)
        except (InvalidOperation, ValueError) as exc:
            raise ValueError(f"“{value}”不是有效的整数。") from exc


class DateWidget(widgets.DateWidget):
    def __init__(self, label: str = "日期", **kwargs):
        super().__init__(format="%Y-%m-%d", coerce_to_string=False, **kwargs)
        self.label = label

    def clean(self, value, row=None, **kwargs):
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        try:
            return parse_date(value, self.label)
        except ValidationError as exc:
            raise ValueError(_message(exc)) from exc


class YesNoWidget(widgets.BooleanWidget):
    TRUE = ("是", "1", "true", "True", "TRUE", True, 1)
    FALSE = ("否", "0", "false", "False", "FALSE", False, 0, "")

    def clean(self, value, row=None, **kwargs):
        if value is None or value in self.FALSE:
            return False
        if value in self.TRUE:
            return True
        raise ValueError(f"“{value}”应为“是”或“否”。")

    def render(self, value, obj=None, **kwargs):
        return "是" if value else "否"


class ChoiceWidget(widgets.Widget):
    """A code list cell: the Chinese label on export; label or stored value on import."""

    def __init__(self, choices, **kwargs):
        super().__init__(coerce_to_string=False, **kwargs)
        self.labels = {value: str(label) for value, label in choices}
        self.values = {label: value for value, label in self.labels.items()}
        self.values.update({str(value): value for value in self.labels})
        self.empty = None if any(isinstance(v, int) for v in self.labels) else ""

    def clean(self, value, row=None, **kwargs):
        if value in (None, ""):
            return self.empty
        key = str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)
        key = key.strip()
        if key not in self.values:
            raise ValueError(f"“{value}”不在可选值中({'、'.join(self.labels.values())})。")
        return self.values[key]

    def render(self, value, obj=None, **kwargs):
        if value in (None, ""):
            return ""
        return self.labels.get(value, str(value))


class ScopedForeignKeyWidget(widgets.ForeignKeyWidget):
    """Looks the related row up only among the rows the importing user may see."""

    user = None

    def get_queryset(self, value, row, *args, **kwargs):
        return self.model._default_manager.visible_to(self.user)

    def clean(self, value, row=None, **kwargs):
        try:
            return super().clean(value, row, **kwargs)
        except self.model.DoesNotExist as exc:
            raise ValueError(
                f"找不到“{value}”({self.model._meta.verbose_name}),或不在您的管理范围内。"
            ) from exc

    def render(self, value, obj=None, **kwargs):
        if value is None:
            return ""
        return neutralise(getattr(value, self.field, ""))


ROLE_BY_NAME = {**{r.value: r.value for r in Role}, **{str(r.label): r.value for r in Role}}


class RolesWidget(widgets.Widget):
    """Roles as Chinese labels (or group codes), separated by 、 or commas."""

    def __init__(self, **kwargs):
        super().__init__(coerce_to_string=False, **kwargs)

    def clean(self, value, row=None, **kwargs):
        names = []
        for part in str(value or "").replace(",", "、").replace(",", "、").split("、"):
            part = part.strip()
            if not part:
                continue
            if part not in ROLE_BY_NAME:
                labels = "、".join(str(r.label) for r in Role)
                raise ValueError(f"未知角色“{part}”(可选:{labels})。")
            names.append(ROLE_BY_NAME[part])
        return sorted(set(names))

    def render(self, value, obj=None, **kwargs):
        names = set(value or [])
        return "、".join(str(r.label) for r in Role if r.value in names)


def column(attribute: str, header: str, widget=None, **kwargs) -> fields.Field:
    return fields.Field(attribute=attribute, column_name=header, widget=widget, **kwargs)
