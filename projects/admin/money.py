"""Admin for invoices, settlement, disbursements and ledgers (issue 5).

Every save goes through the money services (projects/services/invoices.py, disbursements.py:
locked, atomic, a signed event each); reads come from projects/selectors/. The admin only
shows forms and reports the services' Chinese messages. Disbursements are never changed or
deleted here.
"""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.functional import cached_property
from django.utils.html import format_html, format_html_join

from accounts.roles import Role, has_role, is_read_only
from projects import permissions as perm
from projects.admin import capture
from projects.admin.base import (
    CappedInlineMixin,
    ProjectRecordAdmin,
    ProjectRecordInline,
    ReadOnlyInlineMixin,
    money_form_page,  # noqa: E402
    project_inline,
)
from projects.admin.importexport import InvoiceImportExportMixin
from projects.admin.invoice_checks import check_buttons, check_column, check_urls
from projects.admin.invoice_form import (  # noqa: E402
    CAPTURE_FIELDS,
    CHECK_FIELDS,
    INVOICE_DATA_FIELDS,
    MONEY_FIELDS,
    TAKE_CAPTURED,
    InvoiceForm,
)
from projects.admin.persons import PersonNamesMixin
from projects.capture.fields import source_label
from projects.forms_fields import MoneyField
from projects.forms_money import RecheckForm
from projects.models import BudgetLine, Project
from projects.models.money import Invoice, RiskKeyword
from projects.money import format_cny
from projects.selectors.invoices import (
    RULES,
    invoice_risks,
    risk_count,
    risk_filter,
    with_risks,
)
from projects.services.errors import WorkflowError
from projects.services.invoices import (
    invoice_add,
    invoice_check,
    invoice_recheck,
    invoice_update,
)


class RiskFilter(admin.SimpleListFilter):
    """风险提示: one choice per rule, each the rule's own SQL (selectors.invoices)."""

    title = "风险提示"
    parameter_name = "risk"

    def lookups(self, request, model_admin):
        return list(RULES)

    def queryset(self, request, queryset):
        if self.value():
            return risk_filter(queryset, self.value())
        return queryset


class RiskListPaginator(Paginator):
    """The changelist's count without the risk rules' joins (`risk_count`)."""

    @cached_property
    def count(self):
        return risk_count(self.object_list)


@admin.register(Invoice)
class InvoiceAdmin(PersonNamesMixin, InvoiceImportExportMixin, ProjectRecordAdmin):
    form = InvoiceForm
    list_display = [
        "number_display",
        "project_link",
        "kind",
        "issue_date",
        "seller_name",
        "total_display",
        "check_status",
        "flags_display",
    ]
    list_filter = [RiskFilter, "check_status", "kind", "project__state"]
    list_select_related = ["project__organization", "budget_line"]
    change_form_template = "admin/projects/money/invoice_change_form.html"
    search_fields = ["number", "code", "seller_name", "project__code", "project__title"]
    actions = ["mark_qualified", "mark_unqualified"]
    list_per_page = 50
    # A million invoices: no COUNT(*) of the whole table on every page view, and the
    # filtered count without the risk rules' joins.
    show_full_result_count = False
    paginator = RiskListPaginator

    def get_queryset(self, request):
        return with_risks(super().get_queryset(request)).select_related(
            "project__organization", "budget_line", "checked_by", "scan"
        )

    # --- columns ------------------------------------------------------------------------

    @admin.display(description="发票号码", ordering="number")
    def number_display(self, obj):
        return f"{obj.code} {obj.number}".strip()

    @admin.display(description="价税合计", ordering="total")
    def total_display(self, obj):
        return format_cny(obj.total)

    @admin.display(description="风险提示")
    def flags_display(self, obj):
        risks = invoice_risks(obj)
        if not risks:
            return "—"
        return format_html_join(
            "",
            '<span class="invoice-flag" title="{}">⚠ {}:{}</span><br>',
            ((r.reason, r.title, r.reason) for r in risks),
        )

    @admin.display(description="电子原件")
    def original_display(self, obj):
        document = obj.scan
        source = f"录入方式:{capture_source_label(obj.capture_source)}"
        if document is None:
            return source
        url = reverse("projects:document_download", args=[document.pk])
        preview = ""
        if document.content_type.startswith("image/"):
            preview = format_html(
                '<br><img class="invoice-original-preview" src="{}" alt="发票影像">', url
            )
        elif document.content_type == "application/pdf":
            page = reverse("admin:projects_invoice_original_preview", args=[obj.pk])
            preview = format_html(
                '<br><img class="invoice-original-preview" src="{}" alt="发票 PDF 第一页">', page
            )
        return format_html(
            '{}<br><a href="{}">{}</a>({} 字节)<br>SHA-256:<code>{}</code>{}',
            source,
            url,
            document.original_name,
            document.size,
            document.sha256,
            preview,
        )

    # --- who may do what ----------------------------------------------------------------

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # nothing financial is deleted (DESIGN.md §5)

    def has_change_permission(self, request, obj=None) -> bool:
        if not super().has_change_permission(request, obj):
            return False
        if obj is None:
            return True
        return self._may_edit(request, obj) or self._may_check(request, obj)

    def _may_edit(self, request, obj) -> bool:
        return obj.check_status == Invoice.CheckStatus.PENDING and perm.may_enter_invoices(
            obj.project, request.user
        )

    def _may_check(self, request, obj) -> bool:
        return perm.may_check_invoices(obj.project, request.user)

    def _may_recheck(self, request, obj) -> bool:
        return obj.check_status != Invoice.CheckStatus.PENDING and self._may_check(request, obj)

    def get_fields(self, request, obj=None):
        if obj is None:
            return [*CAPTURE_FIELDS, *INVOICE_DATA_FIELDS]
        recheck = ["recheck_link"] if self._may_recheck(request, obj) else []
        check = ["check_actions"] if self._may_check(request, obj) and not recheck else []
        return [
            *check,
            "original_display",
            *INVOICE_DATA_FIELDS,
            *CHECK_FIELDS,
            "checked_by",
            "checked_at",
            *recheck,
            "flags_display",
        ]

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        readonly = [
            "check_actions",
            "project",
            "checked_by",
            "checked_at",
            "recheck_link",
            "flags_display",
            "original_display",
        ]
        if not self._may_edit(request, obj):
            readonly += [f for f in INVOICE_DATA_FIELDS if f != "project"]
        # A decided check changes only by an explicit 改判 with a reason (the link below).
        if not self._may_check(request, obj) or obj.check_status != Invoice.CheckStatus.PENDING:
            readonly += CHECK_FIELDS
        return readonly

    @admin.display(description="改判")
    def recheck_link(self, obj):
        # Listed in get_fields only for who may 改判 this invoice (finance, not the approver).
        url = reverse("admin:projects_invoice_recheck", args=[obj.pk])
        return format_html('<a class="button" href="{}">改判(须填写理由)</a>', url)

    @admin.display(description="财务审核")
    def check_actions(self, obj):
        # 合格 / 不合格 buttons (projects/admin/invoice_checks.py); get_object sets the viewer.
        return check_buttons(obj, getattr(obj, "_viewer", None)) or "—"

    def get_object(self, request, object_id, from_field=None):
        obj = super().get_object(request, object_id, from_field)
        if obj is not None:
            obj._viewer = request.user
        return obj

    def get_list_display(self, request):
        # The per-row 合格 / 不合格 buttons need the request (who may check which invoice).
        return [*super().get_list_display(request), check_column(request)]

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if db_field.name in MONEY_FIELDS:
            label, allow_zero = MONEY_FIELDS[db_field.name]
            # A 红字发票's amounts are negative: the service checks the signs agree.
            return MoneyField(label, allow_zero=allow_zero, allow_negative=True)
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        form.request_user = request.user
        form.request = request
        return form

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        form = context["adminform"].form
        context.update(
            capture_url=reverse("admin:projects_invoice_capture"),
            captured=form.captured,
            offer_take=form.offer_take,
            suggestion=form.suggestion,
            take_name=TAKE_CAPTURED,
        )
        return super().render_change_form(request, context, add, change, form_url, obj)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "project":
            kwargs["queryset"] = Project.objects.visible_to(request.user).filter(
                state__in=perm.INVOICE_ENTRY_STATES
            )
        if db_field.name == "budget_line":
            project_id = request.GET.get("project") or request.POST.get("project")
            lines = BudgetLine.objects.visible_to(request.user).select_related("project")
            if project_id and str(project_id).isdigit():
                lines = lines.filter(project_id=project_id)
            else:
                lines = lines.filter(project__state__in=perm.INVOICE_ENTRY_STATES)
            kwargs["queryset"] = lines
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    # --- saving through the services ----------------------------------------------------

    def save_model(self, request, obj, form, change):
        data = {k: form.cleaned_data[k] for k in INVOICE_DATA_FIELDS if k in form.cleaned_data}
        captured = getattr(form, "captured", None)
        try:
            if not change:
                extra = {}
                if captured is not None:
                    extra = {"capture_source": captured.source, "original": captured.original}
                saved = invoice_add(
                    project=data.pop("project"), actor=request.user, **extra, **data
                )
                obj.pk = saved.pk
                if captured is not None and captured.token:
                    capture.forget(request, captured.token)
            elif self._may_edit(request, obj) and "code" in form.cleaned_data:
                data.pop("project", None)
                invoice_update(invoice=obj, actor=request.user, **data)
            if change and self._may_check(request, obj) and "check_status" in form.changed_data:
                status = form.cleaned_data["check_status"]
                if status != Invoice.CheckStatus.PENDING:
                    invoice_check(
                        invoice=obj,
                        actor=request.user,
                        qualified=status == Invoice.CheckStatus.QUALIFIED,
                        reason=form.cleaned_data.get("check_reason", ""),
                    )
        except WorkflowError as exc:
            request._money_error = True
            for message in exc.messages:
                self.message_user(request, message, messages.ERROR)

    def save_related(self, request, form, formsets, change):
        pass  # the invoice has no related rows of its own

    def log_addition(self, request, obj, message):
        if obj.pk:
            super().log_addition(request, obj, message)

    def response_add(self, request, obj, post_url_continue=None):
        if getattr(request, "_money_error", False):
            return HttpResponseRedirect(request.get_full_path())
        return super().response_add(request, obj, post_url_continue)

    def response_change(self, request, obj):
        if getattr(request, "_money_error", False):
            return HttpResponseRedirect(request.get_full_path())
        return super().response_change(request, obj)

    # --- finance's check as actions -----------------------------------------------------

    def get_actions(self, request):
        actions = super().get_actions(request)
        if not has_role(request.user, Role.FINANCE) or is_read_only(request.user):
            actions.pop("mark_qualified", None)
            actions.pop("mark_unqualified", None)
        return actions

    @admin.action(description="标记为合格")
    def mark_qualified(self, request, queryset):
        self._check(request, queryset, qualified=True, reason="")

    @admin.action(description="标记为不合格(需填写原因)")
    def mark_unqualified(self, request, queryset):
        reason = (request.POST.get("reason") or "").strip()
        if not reason:
            return TemplateResponse(
                request,
                "admin/projects/money/unqualified_reason.html",
                {
                    **self.admin_site.each_context(request),
                    "title": "标记为不合格",
                    "invoices": queryset,
                    "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
                    "opts": self.model._meta,
                },
            )
        self._check(request, queryset, qualified=False, reason=reason)

    def _check(self, request, queryset, *, qualified, reason):
        done, refused = 0, []
        for invoice in queryset:
            try:
                invoice_check(
                    invoice=invoice, actor=request.user, qualified=qualified, reason=reason
                )
                done += 1
            except WorkflowError as exc:
                refused.append(f"{invoice.number}:{exc.messages[0]}")
        if done:
            self.message_user(request, f"已审核 {done} 张发票。", messages.SUCCESS)
        for line in refused:
            self.message_user(request, line, messages.ERROR)

    # --- 改判: the explicit change of a decided check ------------------------------------

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("<int:pk>/recheck/", view(self.recheck_view), name="projects_invoice_recheck"),
            *check_urls(self),
            path("capture/", view(capture.capture_view), name="projects_invoice_capture"),
            path(
                "<int:pk>/original-preview/",
                view(self.original_preview_view),
                name="projects_invoice_original_preview",
            ),
            *super().get_urls(),
        ]

    def original_preview_view(self, request, pk):
        """The first page of a PDF original as a PNG, for whoever may see the invoice."""
        invoice = get_object_or_404(self.get_queryset(request), pk=pk)
        document = invoice.scan
        if document is None or document.content_type != "application/pdf":
            # Nothing to preview: back to the invoice (its page shows what original it has).
            return HttpResponseRedirect(reverse("admin:projects_invoice_change", args=[pk]))
        try:
            with document.file.open("rb") as handle:
                png = capture.pdf_first_page_png(handle.read())
        except (FileNotFoundError, OSError, ValueError) as exc:
            raise Http404("PDF 原件无法预览。") from exc
        response = HttpResponse(png, content_type="image/png")
        response["X-Content-Type-Options"] = "nosniff"
        response["Cache-Control"] = "private, no-store"
        return response

    def recheck_view(self, request, pk):
        invoice = get_object_or_404(self.get_queryset(request).select_related("project"), pk=pk)
        if not self._may_check(request, invoice):
            raise PermissionDenied
        form = RecheckForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                invoice_recheck(
                    invoice=invoice,
                    actor=request.user,
                    qualified=form.cleaned_data["conclusion"],
                    reason=form.cleaned_data["reason"],
                )
            except WorkflowError as exc:
                for message in exc.messages:
                    form.add_error(None, message)
            else:
                self.message_user(request, "已改判,改判理由已记入项目履历。", messages.SUCCESS)
                return HttpResponseRedirect(
                    reverse("admin:projects_invoice_change", args=[invoice.pk])
                )
        number = f"{invoice.code} {invoice.number}".strip()
        title = f"改判:发票 {number}(现为“{invoice.get_check_status_display()}”)"
        return money_form_page(self, request, form, title, invoice)


def capture_source_label(source: str) -> str:
    return source_label(source) if source else "手工录入"


@admin.register(RiskKeyword)
class RiskKeywordAdmin(admin.ModelAdmin):
    """The configurable list of the keyword rule (finance keeps it)."""

    list_display = ["word", "scope", "reason", "active"]
    list_editable = ["active"]
    list_filter = ["active", "scope"]
    search_fields = ["word", "reason"]

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # switched off instead, so a past flag's word stays explained


# --- on the project's page ----------------------------------------------------------------


@project_inline
class InvoiceInline(
    ReadOnlyInlineMixin, CappedInlineMixin, ProjectRecordInline, admin.TabularInline
):
    """The project's invoices, read-only here: entered and checked on the invoice pages.
    The newest 20 only; the template links to all of them on the invoice changelist."""

    model = Invoice
    extra = 0
    show_change_link = True
    template = "admin/projects/money/invoice_inline.html"
    shown_ordering = ("-issue_date", "-pk")
    fields = ["kind", "code", "number", "issue_date", "seller_name", "total_display", "status"]
    readonly_fields = fields

    def get_queryset(self, request):
        return with_risks(super().get_queryset(request)).select_related(
            "project__organization", "budget_line"
        )

    @staticmethod
    def has_no_rows(project) -> bool:
        """The project page reads `has_invoices` with the project (ProjectAdmin._read_object):
        without invoices the page skips the risk rules' query (10 KB of SQL, about 10 ms to
        build and plan for no row), every project's page until its first invoice."""
        return getattr(project, "has_invoices", None) is False

    @admin.display(description="价税合计")
    def total_display(self, obj):
        return format_cny(obj.total)

    @admin.display(description="审核结果 / 提示")
    def status(self, obj):
        flags = "、".join(risk.title for risk in invoice_risks(obj))
        reason = f" · {obj.check_reason}" if obj.check_reason else ""
        return f"{obj.get_check_status_display()}{reason}" + (f" ⚠ {flags}" if flags else "")


# The payments' admin and their inline on the project page, after the invoices' inline.
from projects.admin import payments  # noqa: E402, F401
