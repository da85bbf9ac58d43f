"""The project's admin: application form, transition buttons, history timeline (issue 3)."""

from django.contrib import admin

from accounts.admin_base import ScopedAdmin
from projects.admin.base import PROJECT_INLINES
from projects.admin.importexport import ProjectImportExportMixin
from projects.models import FundingPolicy, Project


@admin.register(Project)
class ProjectAdmin(ProjectImportExportMixin, ScopedAdmin):
    list_display = ["code", "title", "organization", "leader", "state"]
    list_select_related = ["organization", "leader"]
    readonly_fields = ["state"]

    def get_inlines(self, request, obj):
        return [*self.inlines, *PROJECT_INLINES]


@admin.register(FundingPolicy)
class FundingPolicyAdmin(admin.ModelAdmin):
    list_display = ["year", "pool_total", "grade1_cap", "grade2_cap", "grade3_cap"]
