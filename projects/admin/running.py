"""Admin of the running area (三(三), 三(五)): progress and problem reports, change requests,
the summary report and documents; their inlines on the project page; the to-do panels and
the "missing monthly reports" changelist filter.

Every save goes through a service (projects/services/reports.py, change_requests.py,
summaries.py, documents.py: each locks the project, checks the predicate, refuses a closed
project and records a signed event); the panels and the filter read
projects/selectors/obligations.py. The forms run the same checks first so that bad input
comes back as a form error; a refusal that only shows under the lock (a race) is caught in
changeform_view and shown as a message, never a 500.
"""

from django import forms
from django.contrib import admin, messages
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.html import format_html

from projects import permissions as perm
from projects.admin.base import (
    ProjectRecordAdmin,
    ProjectRecordInline,
    ReadOnlyInlineMixin,
    is_archived,
    project_inline,
)
from projects.admin.persons import PersonNamesMixin
from projects.dates import format_month
from projects.forms import MonthField
from projects.models import (
    ChangeRequest,
    Document,
    ProblemReport,
    ProgressReport,
    Project,
    State,
    SummaryReport,
)
from projects.models.choices import RUNNING_STATES
from projects.selectors.obligations import overdue_reports_queryset
from projects.services import WorkflowError
from projects.services import change_requests as change_svc
from projects.services import documents as document_svc
from projects.services import reports as report_svc
from projects.services.change_requests import CHANGEABLE_STATES
from projects.services.summaries import SUMMARY_FIELDS, summary_report_save

PANEL_LIMIT = 20


def project_link(project) -> str:
    return reverse("admin:projects_project_change", args=[project.pk])


# --- the base: service-backed admin ---------------------------------------------------------


class ServiceAdmin(PersonNamesMixin, ProjectRecordAdmin):
    """Add and change pages whose save is a service call (no direct writes).

    Subclasses give `add_fields`, `change_fields(request, obj)`,
    `service_errors(request, obj, data)` (form-time refusals, as a list of Chinese sentences;
    named so as not to shadow ModelAdmin.check) and `perform(request, obj, data)`.
    """

    add_fields: list[str] = []
    project_states = (State.APPROVED, State.IN_PROGRESS, State.ACCEPTANCE)

    def change_fields(self, request, obj) -> list[str]:
        return []

    def get_fields(self, request, obj=None):
        if obj is None:
            return self.add_fields
        return [*self.display_fields, *self.change_fields(request, obj)]

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else self.display_fields

    def has_change_permission(self, request, obj=None) -> bool:
        # The change page is where the next step is signed; the model row itself is never
        # edited freely. Archived projects are read-only (ProjectRecordAdmin).
        if obj is not None and not self.change_fields(request, obj):
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # signed records are kept

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "project":
            kwargs["queryset"] = (
                Project.objects.visible_to(request.user)
                .filter(state__in=self.project_states)
                .select_related("organization")
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_form(self, request, obj=None, **kwargs):
        base = super().get_form(request, obj, **kwargs)
        model_admin = self

        class ServiceForm(base):
            def clean(self):
                data = super().clean()
                if not self.errors:
                    for message in model_admin.service_errors(request, obj, data):
                        self.add_error(None, message)
                return data

            def _post_clean(self):
                # The service validates and writes the row; the partially filled instance
                # (no author yet) is not validated here.
                pass

        return ServiceForm

    def service_errors(self, request, obj, data) -> list[str]:
        return []

    def save_model(self, request, obj, form, change):
        saved = self.perform(request, obj, form.cleaned_data)
        obj.pk = saved.pk
        obj.__dict__.update({k: v for k, v in saved.__dict__.items() if k != "_state"})
        obj._state.adding = False

    def save_related(self, request, form, formsets, change):
        pass

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except WorkflowError as err:
            for message in err.messages:
                self.message_user(request, message, messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())


def _project_of(data, obj):
    return obj.project if obj is not None else data.get("project")


# --- progress reports ------------------------------------------------------------------------


@admin.register(ProgressReport)
class ProgressReportAdmin(ServiceAdmin):
    list_display = ["project", "month_label", "author", "submitted_at", "read_by", "read_at"]
    list_select_related = ["project", "author", "read_by"]
    list_filter = [("read_at", admin.EmptyFieldListFilter), "month"]
    search_fields = ["project__code", "project__title"]
    add_fields = ["project", "month", "progress", "problems", "next_steps"]
    display_fields = [
        "project",
        "month_label",
        "progress",
        "problems",
        "next_steps",
        "author",
        "submitted_at",
        "read_by",
        "read_at",
    ]
    project_states = tuple(RUNNING_STATES)

    @admin.display(description="报告月份", ordering="month")
    def month_label(self, obj):
        return format_month(obj.month)

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if db_field.name == "month":
            # A month picker (stored as the month's first day), not a date box.
            return MonthField(
                label=db_field.verbose_name,
                required=not db_field.blank,
                help_text="选择要填报的月份,例如 2026-09 或 2026年9月",
            )
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    def change_fields(self, request, obj):
        return ["org_comment"] if perm.may_read_reports(obj.project, request.user) else []

    def service_errors(self, request, obj, data):
        project = _project_of(data, obj)
        if project is None:
            return []
        if obj is None:
            if not perm.may_report_progress(project, request.user):
                return ["只有项目负责人可以填报进展报告。"]
            return report_svc.progress_report_errors(project, data.get("month"))
        return []

    def perform(self, request, obj, data):
        if obj is None or obj._state.adding:
            return report_svc.progress_report_submit(
                actor=request.user,
                **{k: data.get(k, "") for k in self.add_fields},
            )
        return report_svc.progress_report_read(
            report=obj, actor=request.user, comment=data.get("org_comment", "")
        )


# --- problem reports -------------------------------------------------------------------------


@admin.register(ProblemReport)
class ProblemReportAdmin(ServiceAdmin):
    list_display = ["project", "submitted_at", "author", "forwarded_at", "answered_at"]
    list_select_related = ["project", "author"]
    list_filter = [
        ("forwarded_at", admin.EmptyFieldListFilter),
        ("answered_at", admin.EmptyFieldListFilter),
    ]
    add_fields = ["project", "description"]
    display_fields = [
        "project",
        "description",
        "author",
        "submitted_at",
        "forwarded_by",
        "forwarded_at",
        "answered_by",
        "answered_at",
    ]

    def change_fields(self, request, obj):
        if not obj.forwarded_by_id and perm.may_read_reports(obj.project, request.user):
            return ["org_comment"]
        if (
            obj.forwarded_by_id
            and not obj.answered_by_id
            and perm.may_answer_problem(obj.project, request.user)
        ):
            return ["answer"]
        return []

    def get_readonly_fields(self, request, obj=None):
        fields = super().get_readonly_fields(request, obj)
        if obj is not None and "answer" in self.change_fields(request, obj):
            fields = [*fields, "org_comment"]
        return fields

    def get_fields(self, request, obj=None):
        fields = super().get_fields(request, obj)
        if obj is not None and "answer" in self.change_fields(request, obj):
            fields = [*self.display_fields, "org_comment", "answer"]
        return fields

    def service_errors(self, request, obj, data):
        project = _project_of(data, obj)
        if (
            obj is None
            and project is not None
            and not perm.may_report_progress(project, request.user)
        ):
            return ["只有项目负责人可以上报问题。"]
        if obj is not None and "answer" in data and not (data.get("answer") or "").strip():
            return ["请填写答复意见。"]
        return []

    def perform(self, request, obj, data):
        if obj is None or obj._state.adding:
            return report_svc.problem_report_submit(
                project=data["project"], actor=request.user, description=data["description"]
            )
        if "answer" in data:
            return report_svc.problem_report_answer(
                report=obj, actor=request.user, answer=data["answer"]
            )
        return report_svc.problem_report_forward(
            report=obj, actor=request.user, comment=data.get("org_comment", "")
        )


# --- change requests -------------------------------------------------------------------------


class ChangeDecisionForm(forms.ModelForm):
    decision = forms.ChoiceField(label="决定", choices=[], widget=forms.RadioSelect)
    opinion = forms.CharField(label="意见", widget=forms.Textarea(attrs={"rows": 3}))

    class Meta:
        model = ChangeRequest
        fields: list[str] = []


ORG_DECISIONS = [("endorse", "同意,上报领导小组"), ("turn_down", "不同意")]
LEADERSHIP_DECISIONS = [("approve", "批准变更"), ("reject", "不批准")]


@admin.register(ChangeRequest)
class ChangeRequestAdmin(ServiceAdmin):
    list_display = ["project", "kind", "status", "requested_by", "requested_at", "decided_at"]
    list_select_related = ["project", "requested_by"]
    list_filter = ["status", "kind"]
    search_fields = ["project__code", "project__title"]
    project_states = CHANGEABLE_STATES
    add_fields = [
        "project",
        "kind",
        "reason",
        "new_content",
        "new_start_date",
        "new_end_date",
        "new_amount",
        "new_leader",
    ]
    display_fields = [
        "project",
        "kind",
        "status",
        "change_text",
        "reason",
        "requested_by",
        "requested_at",
        "org_opinion",
        "org_by",
        "org_at",
        "decision_opinion",
        "decided_by",
        "decided_at",
    ]

    @admin.display(description="变更内容")
    def change_text(self, obj):
        return obj.describe_change()

    def decisions(self, request, obj):
        if obj.status == ChangeRequest.Status.SUBMITTED and perm.may_endorse_change(
            obj.project, request.user
        ):
            return ORG_DECISIONS
        if obj.status == ChangeRequest.Status.ENDORSED and perm.may_decide_change(
            obj.project, request.user
        ):
            return LEADERSHIP_DECISIONS
        return []

    def change_fields(self, request, obj):
        return ["decision", "opinion"] if self.decisions(request, obj) else []

    def get_form(self, request, obj=None, **kwargs):
        if obj is not None:
            kwargs["form"] = ChangeDecisionForm
        form = super().get_form(request, obj, **kwargs)
        if obj is not None:
            form.base_fields["decision"].choices = self.decisions(request, obj)
        return form

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "new_leader":
            from accounts.models import User

            kwargs["queryset"] = User.objects.visible_to(request.user).filter(is_active=True)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def service_errors(self, request, obj, data):
        if obj is not None:
            return []
        project = data.get("project")
        if project is None:
            return []
        if not perm.may_request_change(project, request.user):
            return ["只有项目负责人可以申请变更。"]
        return change_svc.change_request_errors(project, data.get("kind"), data)

    def perform(self, request, obj, data):
        if obj is None or obj._state.adding:
            values = {k: data.get(k) for k in self.add_fields}
            return change_svc.change_request_submit(actor=request.user, **values)
        step = getattr(change_svc, f"change_request_{data['decision']}")
        return step(change=obj, actor=request.user, opinion=data["opinion"])


# --- summary report --------------------------------------------------------------------------


@admin.register(SummaryReport)
class SummaryReportAdmin(ServiceAdmin):
    list_display = ["project", "author", "submitted_at"]
    list_select_related = ["project", "author"]
    project_states = tuple(RUNNING_STATES)
    section_fields = [name for name, _ in SUMMARY_FIELDS]
    add_fields = ["project", *section_fields]
    display_fields = ["project", "author", "submitted_at"]

    def change_fields(self, request, obj):
        if obj.project.state == State.IN_PROGRESS and perm.may_write_summary(
            obj.project, request.user
        ):
            return self.section_fields
        return []

    def get_fields(self, request, obj=None):
        if obj is not None and not self.change_fields(request, obj):
            return [*self.display_fields, *self.section_fields]
        return super().get_fields(request, obj)

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and not self.change_fields(request, obj):
            return [*self.display_fields, *self.section_fields]
        return super().get_readonly_fields(request, obj)

    def service_errors(self, request, obj, data):
        project = _project_of(data, obj)
        if project is None:
            return []
        if not perm.may_write_summary(project, request.user):
            return ["只有项目负责人可以填写总结报告。"]
        if obj is None and SummaryReport.objects.filter(project=project).exists():
            return ["该项目已有总结报告,请在原报告上修改。"]
        return []

    def perform(self, request, obj, data):
        project = data.get("project") or obj.project
        sections = {name: data.get(name, "") for name in self.section_fields}
        return summary_report_save(project=project, actor=request.user, **sections)


# --- documents -------------------------------------------------------------------------------


@admin.register(Document)
class DocumentAdmin(ServiceAdmin):
    list_display = [
        "original_name",
        "project",
        "kind",
        "size",
        "uploaded_by",
        "uploaded_at",
        "download",
    ]
    list_select_related = ["project", "uploaded_by"]
    list_filter = ["kind"]
    search_fields = ["original_name", "project__code", "project__title"]
    project_states = tuple(s for s in State.values if s != State.CLOSED)
    add_fields = ["project", "kind", "file", "description"]
    display_fields = [
        "project",
        "kind",
        "original_name",
        "download",
        "content_type",
        "size",
        "sha256",
        "description",
        "uploaded_by",
        "uploaded_at",
    ]

    @admin.display(description="下载")
    def download(self, obj):
        url = reverse("projects:document_download", args=[obj.pk])
        return format_html('<a href="{}">下载</a>', url)

    def get_changeform_initial_data(self, request):
        return {"kind": Document.Kind.OTHER, **super().get_changeform_initial_data(request)}

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        if obj is None and "file" in form.base_fields:
            form.base_fields["file"].help_text = (
                f"允许 {document_svc.ALLOWED_TEXT},"
                f"不超过 {document_svc.max_document_bytes() // (1024 * 1024)} MB;"
                "按文件内容检查类型,并逐一打开检查:图片须完整可显示,PDF 须能打开且不含脚本,"
                "Office 文件不得含宏(与归档时的检测相同)。"
            )
        return form

    def service_errors(self, request, obj, data):
        project = data.get("project")
        if project is None:
            return []
        if not perm.may_upload_document(project, request.user):
            return ["您无权为该项目上传附件。"]
        return document_svc.document_errors(data.get("file"))

    def perform(self, request, obj, data):
        return document_svc.document_upload(
            project=data["project"],
            actor=request.user,
            uploaded=data["file"],
            kind=data.get("kind") or Document.Kind.OTHER,
            description=data.get("description", ""),
        )


# --- inlines on the project page (read-only lists; each row links to its own page) -----------


class ReadOnlyInline(
    PersonNamesMixin, ReadOnlyInlineMixin, ProjectRecordInline, admin.TabularInline
):
    extra = 0
    show_change_link = True

    def get_readonly_fields(self, request, obj=None):
        return self.fields


@project_inline
class ProgressReportInline(ReadOnlyInline):
    model = ProgressReport
    fields = ["month", "progress", "author", "submitted_at", "read_by", "read_at", "org_comment"]
    verbose_name_plural = "月度进展报告"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("project", "author", "read_by")


@project_inline
class ProblemReportInline(ReadOnlyInline):
    model = ProblemReport
    fields = ["description", "author", "submitted_at", "forwarded_by", "answer", "answered_by"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("author", "forwarded_by", "answered_by")


@project_inline
class ChangeRequestInline(ReadOnlyInline):
    model = ChangeRequest
    fields = ["kind", "reason", "status", "requested_by", "requested_at", "decided_by"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("project", "requested_by", "decided_by")


@project_inline
class SummaryReportInline(ReadOnlyInline, admin.StackedInline):
    model = SummaryReport
    fields = ["author", "submitted_at", *[name for name, _ in SUMMARY_FIELDS]]
    template = "admin/edit_inline/stacked.html"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("project", "author")


@project_inline
class DocumentInline(ReadOnlyInline):
    # Application scans may be attached while the application is under review.
    only_after_approval = False
    model = Document
    fields = ["original_name", "kind", "size", "uploaded_by", "uploaded_at", "download"]

    @admin.display(description="下载")
    def download(self, obj):
        if not obj.pk:
            return ""
        url = reverse("projects:document_download", args=[obj.pk])
        return format_html('<a href="{}">下载</a>', url)

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("project", "uploaded_by")


# --- the changelist filter (the lead adds it to ProjectAdmin.list_filter) ---------------------


class MissingMonthlyReportFilter(admin.SimpleListFilter):
    """Projects with overdue monthly progress reports (三(一)5)."""

    title = "月度进展报告"
    parameter_name = "monthly_report"

    def lookups(self, request, model_admin):
        return [("overdue", "有逾期未报的月份")]

    def queryset(self, request, queryset):
        if self.value() != "overdue":
            return queryset
        # A subquery, not a list of ids: the city's running projects stay in the database.
        return queryset.filter(pk__in=overdue_reports_queryset(queryset).values("pk"))


__all__ = [
    "ChangeRequestAdmin",
    "DocumentAdmin",
    "MissingMonthlyReportFilter",
    "ProblemReportAdmin",
    "ProgressReportAdmin",
    "SummaryReportAdmin",
    "is_archived",
]
