"""Disbursements in the admin: read-only records, the 红字冲销 and corrected-payment pages
(one view through the disbursement services), and the payments on the project's page."""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html

from projects import permissions as perm
from projects.admin.base import (
    ProjectRecordAdmin,
    ProjectRecordInline,
    ReadOnlyInlineMixin,
    money_form_page,
    project_inline,
)
from projects.admin.importexport import DisbursementImportExportMixin
from projects.admin.persons import PersonNamesMixin
from projects.forms_money import RecordForm, ReverseForm
from projects.models import Project
from projects.models.money import Disbursement
from projects.money import format_cny
from projects.services.disbursements import (
    disbursement_record,
    disbursement_reverse,
    payee_defaults,
)
from projects.services.errors import WorkflowError


@admin.register(Disbursement)
class DisbursementAdmin(PersonNamesMixin, DisbursementImportExportMixin, ProjectRecordAdmin):
    list_display = [
        "voucher_number",
        "project_link",
        "amount_display",
        "method",
        "payee_name",
        "voucher_date",
        "paid_on",
        "reverses",
        "reverse_link",
    ]
    list_filter = ["method"]
    list_select_related = ["project", "reverses", "reversal"]
    search_fields = ["voucher_number", "bank_serial", "payee_name", "project__code"]
    readonly_fields = [f.name for f in Disbursement._meta.fields if f.name != "id"]

    def has_add_permission(self, request, *args) -> bool:
        return False  # written by settle / reversal / corrected payment services only

    def has_change_permission(self, request, obj=None) -> bool:
        return False  # append-only: a correction is a reversing entry (红字冲销)

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description="金额", ordering="amount")
    def amount_display(self, obj):
        return format_cny(obj.amount)

    @admin.display(description="操作")
    def reverse_link(self, obj):
        if obj.reverses_id or hasattr(obj, "reversal"):
            return "已冲销" if hasattr(obj, "reversal") else "冲销记录"
        url = reverse("admin:projects_disbursement_reverse", args=[obj.pk])
        return format_html('<a href="{}">红字冲销</a>', url)

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path(
                "<int:pk>/reverse/",
                view(self.payment_view),
                {"action": "reverse"},
                name="projects_disbursement_reverse",
            ),
            path(
                "record/<int:project_pk>/",
                view(self.payment_view),
                {"action": "record"},
                name="projects_disbursement_record",
            ),
            *super().get_urls(),
        ]

    def payment_view(self, request, action, pk=None, project_pk=None):
        """红字冲销 of one payment (pk = the disbursement) or a corrected payment after it
        (project_pk = the project): one form page, one service call, one refusal path."""
        if action == "reverse":
            original = get_object_or_404(self.get_queryset(request), pk=pk)
            form = ReverseForm(request.POST or None)
            title, obj, done = f"红字冲销:{original.voucher_number}", original, "已登记红字冲销。"
            back = reverse("admin:projects_disbursement_changelist")

            def write(data):
                return disbursement_reverse(disbursement=original, actor=request.user, **data)

        else:
            project = get_object_or_404(Project.objects.visible_to(request.user), pk=project_pk)
            if not perm.may_record_disbursement(project, request.user):
                # A project the user can see but may not pay (role, state, separation of duties).
                raise PermissionDenied
            initial = {**payee_defaults(project), "voucher_date": timezone.localdate()}
            form = RecordForm(request.POST or None, initial=initial)
            title, obj, done = f"补录拨付:{project}", project, "已登记拨付。"
            back = reverse("admin:projects_project_change", args=[project.pk])

            def write(data):
                return disbursement_record(project=project, actor=request.user, **data)

        if request.method == "POST" and form.is_valid():
            try:
                write(form.cleaned_data)
            except WorkflowError as exc:
                for message in exc.messages:
                    form.add_error(None, message)
            else:
                self.message_user(request, done, messages.SUCCESS)
                return HttpResponseRedirect(back)
        return money_form_page(self, request, form, title, obj)


@project_inline
class DisbursementInline(ReadOnlyInlineMixin, ProjectRecordInline, admin.TabularInline):
    model = Disbursement
    fk_name = "project"
    extra = 0
    fields = [
        "voucher_number",
        "amount_display",
        "method",
        "payee_name",
        "voucher_date",
        "reverses",
    ]
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("reverses")

    @admin.display(description="金额")
    def amount_display(self, obj):
        return format_cny(obj.amount)
