"""Import/export mixins for the ModelAdmins (issue 6). Each admin inherits one as its first
base, so the mixins are self-contained: they work over ScopedAdmin (and beside django_fsm's
FSMAdminMixin, which only sets change_form_template; these set change_list_template).

- Import: xlsx only, bounded in uncompressed size and compression ratio before it is parsed
  (projects.uploads.check_ooxml_bounds); a dry-run preview with per-row errors, then the
  confirmed import runs
  again with rollback_on_validation_errors (all-or-nothing: a row that fails now rolls back
  every row). The resource is built with request.user, so lookups are scoped.
- Export: one GET streams an xlsx of the changelist's current filters/search/ordering within
  the user's scope (projects.exchange.export.export_response); no in-memory dataset.
- Permissions: the model's import_<model>/export_<model> codes (settings) and never for a
  read-only auditor.
"""

from io import BytesIO

from django.contrib import messages
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import ERROR_FLAG
from django.core.exceptions import (
    EmptyResultSet,
    FullResultSet,
    PermissionDenied,
    ValidationError,
)
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from import_export.admin import ExportMixin, ImportMixin
from import_export.formats.base_formats import XLSX

from accounts.roles import is_read_only
from projects import permissions as perm
from projects.exchange import export as ie
from projects.exchange.tmp_storage import acting_user
from projects.models import Project
from projects.uploads import check_ooxml_bounds

UNREADABLE = "无法读取文件:请上传有效的 Excel 文件(.xlsx)。"


class BoundedXLSX(XLSX):
    """xlsx whose uncompressed size and compression ratio are checked before openpyxl
    parses it (a 1 MB file holding a 1 GiB shared string is refused, not inflated), with the
    uploads' one check (projects.uploads.check_ooxml_bounds, as the invoice import)."""

    def create_dataset(self, in_stream):
        check_ooxml_bounds(BytesIO(in_stream))
        return super().create_dataset(in_stream)


def _compile(queryset) -> None:
    """Build the SQL without running it: a mistyped filter value fails here."""
    try:
        queryset.query.get_compiler(queryset.db).as_sql()
    except (EmptyResultSet, FullResultSet):
        pass  # a filter that matches nothing (or everything) is a valid export


class _ExportMixin(ExportMixin):
    resource_key: str = ""
    export_formats = [XLSX]
    import_export_change_list_template = "admin/import_export/change_list_safe.html"

    def get_resource_classes(self, request):
        return [ie.RESOURCES[self.resource_key]]

    def get_resource_kwargs(self, request, *args, **kwargs):
        return {"user": request.user}

    def export_action(self, request):
        if not self.has_export_permission(request):
            raise PermissionDenied
        resource = ie.RESOURCES[self.resource_key](user=request.user)
        try:
            queryset = self.get_export_queryset(request)
            # A mistyped value (?requested_amount=abc) fails only when the query is built.
            _compile(queryset)
        except (IncorrectLookupParameters, ValidationError, ValueError, TypeError):
            # As the changelist does: back to it with ?e=1 ("请修正以下错误"), never a 500.
            return self._bad_filter_response(request)
        filename = f"{self.model._meta.verbose_name}.xlsx"
        return ie.export_response(resource, queryset, filename)

    def _bad_filter_response(self, request):
        changelist = reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_changelist")
        if request.GET.get(ERROR_FLAG):
            messages.error(request, "导出的筛选条件无效,请在列表中重新选择筛选条件后再导出。")
            return HttpResponseRedirect(changelist)
        messages.error(request, "导出的筛选条件无效,请重新选择筛选条件后再导出。")
        return HttpResponseRedirect(f"{changelist}?{ERROR_FLAG}=1")

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("export_admin_action", None)
        return actions

    def changelist_view(self, request, extra_context=None):
        extra_context = extra_context or {}
        extra_context.setdefault("has_import_permission", False)
        return super().changelist_view(request, extra_context)


class _ImportExportMixin(ImportMixin, _ExportMixin):
    import_formats = [BoundedXLSX]
    # ImportMixin comes first in the MRO, so its own template (导入 only) would win and hide
    # 导出 from everyone allowed to export: name the one template that draws both, each under
    # its permission (issue 11, finding 7).
    import_export_change_list_template = "admin/import_export/change_list_safe.html"
    import_template_name = "admin/import_export/import_safe.html"

    def has_import_permission(self, request) -> bool:
        return not is_read_only(request.user) and super().has_import_permission(request)

    def get_urls(self):
        app, model = self.opts.app_label, self.opts.model_name
        extra = [
            path(
                "import-template/",
                self.admin_site.admin_view(self.import_template_view),
                name=f"{app}_{model}_import_template",
            )
        ]
        return extra + super().get_urls()

    def import_template_view(self, request):
        if not self.has_import_permission(request):
            raise PermissionDenied
        return ie.template_response(self.resource_key, request.user)

    def add_data_read_fail_error_to_form(self, form, e):
        # django-import-export would name the exception in English.
        message = " ".join(e.messages) if isinstance(e, ValidationError) else UNREADABLE
        form.add_error("import_file", message)

    def import_action(self, request, **kwargs):
        # The preview is stored in the database (IMPORT_EXPORT_TMP_STORAGE_CLASS) under this
        # user, so that any app process can confirm it and nobody else can.
        with acting_user(request.user):
            return super().import_action(request, **kwargs)

    def process_import(self, request, **kwargs):
        app, model = self.opts.app_label, self.opts.model_name
        try:
            with acting_user(request.user):
                return super().process_import(request, **kwargs)
        except ValidationError as exc:
            # The confirm step reads the stored file again: the same bounds, never a 500.
            messages.error(request, " ".join(exc.messages))
            return HttpResponseRedirect(reverse(f"admin:{app}_{model}_import"))
        except FileNotFoundError:
            # Already confirmed, expired, or another user's preview token.
            messages.error(request, "导入预览已完成或已过期,请重新上传文件并预览。")
            return HttpResponseRedirect(reverse(f"admin:{app}_{model}_import"))

    def get_import_data_kwargs(self, **kwargs):
        kwargs = super().get_import_data_kwargs(**kwargs)
        kwargs.pop("request", None)
        # All or nothing: without this, django-import-export commits the valid rows of a
        # file whose other rows fail validation at the confirm step.
        kwargs["rollback_on_validation_errors"] = True
        return kwargs

    def process_result(self, result, request):
        if result.has_errors() or result.has_validation_errors():
            # The data changed between preview and confirmation: nothing was committed.
            messages.error(request, "导入未完成:文件中有错误的行,已全部撤销,请重新预览。")
            app, model = self.opts.app_label, self.opts.model_name
            return HttpResponseRedirect(reverse(f"admin:{app}_{model}_import"))
        return super().process_result(result, request)


class OrganizationImportExportMixin(_ImportExportMixin):
    resource_key = "organization"


class UserImportExportMixin(_ImportExportMixin):
    resource_key = "user"


class ProjectImportExportMixin(_ImportExportMixin):
    resource_key = "project"


class DisbursementImportExportMixin(_ExportMixin):
    # Export only: disbursements are written only by the settle transition (append-only).
    resource_key = "disbursement"


class InvoiceImportExportMixin(_ExportMixin):
    """Invoices: export through the streaming resource like every other model; import is
    the money side's one invoice import (projects.services.invoice_imports behind
    projects/views/money.py: per project, preview, all or nothing, the project row locked),
    not django-import-export's. The changelist's 导入 / 下载导入模板 buttons open a page that
    lists the projects this user may import invoices into, each linking to that page."""

    resource_key = "invoice"
    CHOOSER_ROWS = 200

    def has_import_permission(self, request) -> bool:
        user = request.user
        return not is_read_only(user) and user.has_perm("projects.import_invoice")

    def changelist_view(self, request, extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "has_import_permission": self.has_import_permission(request),
        }
        return super().changelist_view(request, extra_context)

    def get_urls(self):
        app, model = self.opts.app_label, self.opts.model_name
        chooser = self.admin_site.admin_view(self.import_chooser_view)
        extra = [
            path("import/", chooser, name=f"{app}_{model}_import"),
            path("import-template/", chooser, name=f"{app}_{model}_import_template"),
        ]
        return extra + super().get_urls()

    def import_chooser_view(self, request):
        if not self.has_import_permission(request):
            raise PermissionDenied
        projects = perm.projects_open_for_invoices(
            Project.objects.visible_to(request.user), request.user
        )
        wanted = request.GET.get("project", "")
        if wanted:
            # From a filtered changelist: straight to that project's import page (404 for a
            # project that is not the user's or not open for invoices).
            project = get_object_or_404(projects, pk=int(wanted) if wanted.isdigit() else 0)
            return redirect("projects:invoice_import", project.pk)
        rows = list(
            projects.select_related("organization")
            .order_by("-year", "-number")
            .only("pk", "code", "title", "state", "organization__name")[: self.CHOOSER_ROWS + 1]
        )
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": "从 Excel 导入发票",
            "projects": rows[: self.CHOOSER_ROWS],
            "more": len(rows) > self.CHOOSER_ROWS,
        }
        return TemplateResponse(request, "admin/projects/money/invoice_import_choose.html", context)
