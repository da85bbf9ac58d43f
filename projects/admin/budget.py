"""预算明细 on the application form: the budget-line editor and the grades' caps beside it."""

import json

from django import forms
from django.contrib import admin
from django.utils import timezone

from projects import permissions as perm
from projects.admin.base import ProjectRecordInline
from projects.models import (
    BudgetLine,
    FundingPolicy,
    Grade,
)
from projects.money import MAX_AMOUNT, format_cny, to_money

# The application form in the order of the regulation's 附表 (三(二)1).


class BudgetLineForm(forms.ModelForm):
    class Meta:
        model = BudgetLine
        fields = ["item", "description", "quantity", "unit_price"]
        error_messages = {
            "quantity": {"invalid": "数量须为数字。", "max_decimal_places": "数量最多两位小数。"},
            "unit_price": {
                "invalid": "单价须为数字金额。",
                "max_decimal_places": "金额最多保留两位小数。",
            },
        }

    def clean(self):
        cleaned = super().clean()
        quantity, unit_price = cleaned.get("quantity"), cleaned.get("unit_price")
        if quantity is not None and unit_price is not None:
            # The amount is never typed: it is quantity × unit price, so it cannot disagree.
            amount = to_money(quantity * unit_price)
            if amount > MAX_AMOUNT:
                raise forms.ValidationError(
                    f"金额(数量×单价)超过系统可记录的最大金额 {format_cny(MAX_AMOUNT)}。"
                )
            self.instance.amount = amount
        return cleaned


class BudgetLineFormSet(forms.BaseInlineFormSet):
    def clean(self):
        super().clean()
        total = sum(
            (
                form.instance.amount or 0
                for form in self.forms
                if form.cleaned_data and not form.cleaned_data.get("DELETE")
            ),
            start=to_money(0),
        )
        if total > MAX_AMOUNT:
            raise forms.ValidationError(
                f"预算合计超过系统可记录的最大金额 {format_cny(MAX_AMOUNT)}。"
            )


@admin.display(description="金额")
def budget_amount(line) -> str:
    return format_cny(line.amount) if line.amount is not None else "—"


class BudgetLineInline(ProjectRecordInline, admin.TabularInline):
    """预算明细: editable only in draft/returned and only by the leader or org reviewer."""

    model = BudgetLine
    form = BudgetLineForm
    formset = BudgetLineFormSet
    fields = ["item", "description", "quantity", "unit_price", budget_amount]
    readonly_fields = [budget_amount]
    extra = 0

    def _may_edit(self, request, obj) -> bool:
        if obj is None:  # the add page: the applicant drafts their own application
            return perm.may_create_project(request.user)
        return perm.may_edit_application(obj, request.user)

    def has_add_permission(self, request, obj=None) -> bool:
        return self._may_edit(request, obj) and super().has_add_permission(request, obj)

    def has_change_permission(self, request, obj=None) -> bool:
        return self._may_edit(request, obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        return self._may_edit(request, obj) and super().has_delete_permission(request, obj)

    def get_extra(self, request, obj=None, **kwargs) -> int:
        return 1 if obj is None else 0


def grade_caps(field, year: int | None = None) -> None:
    """二(三): the caps of the year's grades beside 申报等级, and for the page's script."""
    year = year or timezone.localdate().year
    policy = FundingPolicy.objects.filter(year=year).first()
    if policy is None:
        field.help_text = f"{year}年度经费政策尚未设定,各级上限待定。"
        return
    caps = {str(g): str(policy.cap_for(g)) for g in (1, 2, 3)}
    field.help_text = (
        f"{year}年度各级上限:"
        + ";".join(f"{Grade(g).label} ≤ {format_cny(policy.cap_for(g))}" for g in (1, 2, 3))
        + ";四级项目不予资金支持。预算合计不应超过所选等级的上限。"
    )
    field.widget.attrs["data-caps"] = json.dumps({**caps, "4": "0.00"})
    field.widget.attrs["aria-describedby"] = "id_proposed_grade_helptext"
