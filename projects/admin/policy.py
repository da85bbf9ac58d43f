"""年度经费政策 and the prohibited items: changed only through the policy service."""

from django import forms
from django.contrib import admin

from projects.admin.base import RefusalAsMessageMixin
from projects.models import (
    FundingPolicy,
    ProhibitedItem,
)
from projects.money import format_cny
from projects.services import policy as policy_service

# The application form in the order of the regulation's 附表 (三(二)1).


class FundingPolicyForm(forms.ModelForm):
    class Meta:
        model = FundingPolicy
        fields = ["year", "pool_total", "grade1_cap", "grade2_cap", "grade3_cap", "note"]

    def clean(self):
        cleaned = super().clean()
        year = cleaned.get("year") or self.instance.year
        if year and not self.errors:
            for message in policy_service.policy_errors(year, cleaned):
                self.add_error(None, message)
        return cleaned


@admin.register(FundingPolicy)
class FundingPolicyAdmin(RefusalAsMessageMixin, admin.ModelAdmin):
    """年度经费政策: changed only through the policy service (under the pool's lock, as an
    event), never deleted; the page shows what the pool already holds."""

    form = FundingPolicyForm
    list_display = [
        "year",
        "pool_total_cny",
        "grade1_cap_cny",
        "grade2_cap_cny",
        "grade3_cap_cny",
        "committed_cny",
        "disbursed_cny",
        "remaining_cny",
    ]
    readonly_fields = ["committed_cny", "disbursed_cny", "remaining_cny"]

    def get_readonly_fields(self, request, obj=None):
        # The year of an existing policy never changes: approvals were made under it.
        return [*self.readonly_fields, "year"] if obj else self.readonly_fields

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # 财政部·国家档案局令第79号: nothing financial is ever deleted

    @admin.display(description="年度经费总额")
    def pool_total_cny(self, obj) -> str:
        return format_cny(obj.pool_total)

    @admin.display(description="一级项目上限")
    def grade1_cap_cny(self, obj) -> str:
        return format_cny(obj.grade1_cap)

    @admin.display(description="二级项目上限")
    def grade2_cap_cny(self, obj) -> str:
        return format_cny(obj.grade2_cap)

    @admin.display(description="三级项目上限")
    def grade3_cap_cny(self, obj) -> str:
        return format_cny(obj.grade3_cap)

    def _figures(self, obj) -> dict:
        if not obj or not obj.pk:
            return {}
        if not hasattr(obj, "_figures"):
            obj._figures = policy_service.policy_figures(obj.year)
        return obj._figures

    @admin.display(description="已核定占用")
    def committed_cny(self, obj) -> str:
        return format_cny(self._figures(obj).get("committed"))

    @admin.display(description="已拨付")
    def disbursed_cny(self, obj) -> str:
        return format_cny(self._figures(obj).get("disbursed"))

    @admin.display(description="剩余可核定")
    def remaining_cny(self, obj) -> str:
        figures = self._figures(obj)
        return format_cny(obj.pool_total - figures["committed"]) if figures else "—"

    def save_model(self, request, obj, form, change):
        saved = policy_service.policy_save(
            actor=request.user,
            year=obj.year,
            values={name: form.cleaned_data[name] for name in form.cleaned_data if name != "year"},
        )
        obj.pk = saved.pk
        obj._state.adding = False


@admin.register(ProhibitedItem)
class ProhibitedItemAdmin(admin.ModelAdmin):
    list_display = ["keyword", "reason"]
    search_fields = ["keyword"]
