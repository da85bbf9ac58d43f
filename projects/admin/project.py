"""The project's admin: application form, transition buttons, history timeline (issue 3).

Transitions never go through django-fsm's FSMAdminMixin: its change-view POST
(`_fsm_transition_to`) skips the user's transition permission and swallows errors without
rolling back. Every button here opens the transition's form at the contract URL
/admin/projects/project/<pk>/transition/<name>/, whose POST calls
services.apply_transition (lock, permission, conditions, signed review, history).
"""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.db.models import CharField, Exists, OuterRef
from django.db.models.functions import Concat
from django.http import Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from accounts.admin_base import ScopedAdmin
from accounts.models import User
from accounts.roles import Role, has_role, sees_everything
from projects import permissions as perm
from projects import services
from projects.admin import status
from projects.admin.base import PROJECT_INLINES, RefusalAsMessageMixin
from projects.admin.budget import BudgetLineInline, grade_caps
from projects.admin.filters import OrganizationFilter, OverdueFilter, YearFilter

# The application form in the order of the regulation's 附表 (三(二)1).
from projects.admin.importexport import ProjectImportExportMixin
from projects.admin.persons import PersonNamesMixin
from projects.admin.plain_inlines import plain_inlines
from projects.admin.running import MissingMonthlyReportFilter
from projects.dates import format_date
from projects.forms import ChecklistForm, DateField, DateWidget, form_for
from projects.models import (
    BudgetLine,
    ProhibitedItem,
    Project,
    ProjectHistory,
    Review,
)
from projects.models.money import Invoice
from projects.money import format_cny
from projects.services import projects as project_services

APPLICATION_FIELDSETS = [
    (
        "项目基本情况",
        {
            "fields": [
                "title",
                ("category", "allowed_use"),
                ("origin", "term"),
                ("start_date", "end_date"),
                ("organization", "leader"),
                "participants",
                "proposed_grade",
            ]
        },
    ),
    (
        "项目申请报告(附表)",
        {"fields": ["leader_profile", "purpose", "content", "plan", "expected_outcome"]},
    ),
]
STATUS_FIELDSET = (
    "审批状态",
    {
        "fields": [
            ("code", "year", "state_label"),
            ("requested_amount_cny", "grade", "approved_amount_cny"),
            ("submitted_at", "first_review_deadline_mark"),
        ]
    },
)
# Read-only outside draft/returned: the application's own fields and its organisation.
APPLICATION_FIELDS = [*project_services.APPLICATION_FIELDS, "organization"]
STATUS_FIELDS = [
    "code",
    "year",
    "state_label",
    "requested_amount_cny",
    "grade",
    "approved_amount_cny",
    "submitted_at",
    "first_review_deadline_mark",
]


@admin.register(Project)
class ProjectAdmin(PersonNamesMixin, RefusalAsMessageMixin, ProjectImportExportMixin, ScopedAdmin):
    change_form_template = "admin/projects/project/change_form.html"
    list_display = [
        "code",
        "title",
        "organization",
        "leader_name",
        "state_label",
        "proposed_grade",
        "grade",
        "requested_amount_cny",
        "approved_amount_cny",
        "first_review_deadline_mark",
    ]
    # One link a row: each link resolves its URL and preserved filters (per-row work).
    list_display_links = ["title"]
    list_select_related = ["organization", "leader"]
    list_filter = [
        "state",
        "grade",
        "category",
        OrganizationFilter,
        YearFilter,
        OverdueFilter,
        MissingMonthlyReportFilter,
    ]
    # "共 N 条" would COUNT every project the user sees on each page view; the filtered
    # count is still shown.
    show_full_result_count = False
    # Facet counts would count every project once per filter choice (500 organisations).
    show_facets = admin.ShowFacets.NEVER
    # A full name (赵一帆) is last + first name joined: annotated in get_search_results.
    search_fields = [
        "code",
        "title",
        "leader_full_name",
        "leader__username",
        "organization__name",
        "organization__short_name",
    ]
    search_placeholder = "项目编号、名称、负责人姓名或申报组织"
    search_help_text = "可按项目编号、项目名称、负责人姓名(如 赵一帆)或用户名、申报组织名称搜索。"
    list_per_page = 50
    inlines = [BudgetLineInline]
    # A read-only page draws its inlines as plain tables (projects/admin/plain_inlines.py).
    plain_read_only_inlines = True
    # Dates as people write them (2026年12月10日 …), with an example in the box.
    formfield_overrides = {models.DateField: {"form_class": DateField, "widget": DateWidget}}

    def get_search_results(self, request, queryset, search_term):
        if search_term:
            queryset = queryset.annotate(
                leader_full_name=Concat(
                    "leader__last_name", "leader__first_name", output_field=CharField()
                )
            )
        return super().get_search_results(request, queryset, search_term)

    # --- columns --------------------------------------------------------------------------

    @admin.display(description="项目负责人", ordering="leader__last_name")
    def leader_name(self, obj) -> str:
        return obj.leader.display_name

    @admin.display(description="状态", ordering="state")
    def state_label(self, obj) -> str:
        return obj.get_state_display()

    @admin.display(description="申请金额", ordering="requested_amount")
    def requested_amount_cny(self, obj) -> str:
        return format_cny(obj.requested_amount)

    @admin.display(description="核定金额", ordering="approved_amount")
    def approved_amount_cny(self, obj) -> str:
        return format_cny(obj.approved_amount)

    @admin.display(description="初审期限", ordering="first_review_deadline")
    def first_review_deadline_mark(self, obj) -> str:
        if obj.first_review_deadline is None:
            return "—"
        if obj.is_overdue_first_review:
            return format_html(
                '<span class="overdue-mark">{} 已逾期</span>',
                format_date(obj.first_review_deadline),
            )
        return format_date(obj.first_review_deadline)

    # --- permissions ----------------------------------------------------------------------

    def has_add_permission(self, request) -> bool:
        return perm.may_create_project(request.user) and super().has_add_permission(request)

    def has_change_permission(self, request, obj=None) -> bool:
        # The application changes only in draft/returned, by its leader or org reviewer
        # (§5); in every other state the page is read-only for everyone, superusers
        # included, and has no Save button: decisions are made by the transition buttons.
        if obj is not None and not perm.may_edit_application(obj, request.user):
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        # Nothing is deleted: a draft is withdrawn, and the history keeps the rest.
        return False

    # --- the form -------------------------------------------------------------------------

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            # On the add page show only what this user chooses: the organisation is their
            # own, the leader is themself unless they are the org reviewer.
            fixed = set(self.get_readonly_fields(request, obj))
            basics = [
                row
                for row in APPLICATION_FIELDSETS[0][1]["fields"]
                if row != ("organization", "leader")
            ]
            chosen = tuple(name for name in ("organization", "leader") if name not in fixed)
            if chosen:
                basics.insert(4, chosen if len(chosen) > 1 else chosen[0])
            return [(APPLICATION_FIELDSETS[0][0], {"fields": basics}), APPLICATION_FIELDSETS[1]]
        return [STATUS_FIELDSET, *APPLICATION_FIELDSETS]

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            fixed = [] if self._may_choose_organization(request) else ["organization"]
            if not has_role(request.user, Role.ORG_REVIEWER) and not request.user.is_superuser:
                fixed.append("leader")
            return fixed
        if not perm.may_edit_application(obj, request.user):
            return [*STATUS_FIELDS, *APPLICATION_FIELDS]
        # The organisation never changes; only an org reviewer may name another leader.
        fixed = [*STATUS_FIELDS, "organization"]
        if not perm.is_org_reviewer(obj, request.user):
            fixed.append("leader")
        return fixed

    def _may_choose_organization(self, request) -> bool:
        return request.user.is_superuser or request.user.organization_id is None

    def formfield_for_choice_field(self, db_field, request, **kwargs):
        field = super().formfield_for_choice_field(db_field, request, **kwargs)
        if db_field.name == "proposed_grade":
            grade_caps(field, getattr(request, "_project_year", None))
        return field

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "leader" and not sees_everything(request.user):
            kwargs["queryset"] = User.objects.filter(
                organization_id=request.user.organization_id, is_active=True
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_changeform_initial_data(self, request):
        return {"leader": request.user.pk, **super().get_changeform_initial_data(request)}

    def save_model(self, request, obj, form, change):
        if change:
            # Under the project's lock, re-checking state and permission, and writing only
            # the application's own fields: never the state or money it does not show.
            services.application_update(
                obj,
                actor=request.user,
                values={name: form.cleaned_data[name] for name in form.changed_data},
            )
            return None
        # New applications get their code through the one allocator (2026-0012).
        fields = {
            name: value
            for name, value in form.cleaned_data.items()
            if name not in ("organization", "leader")
        }
        created = services.project_create(
            actor=request.user,
            organization=form.cleaned_data.get("organization") or request.user.organization,
            leader=form.cleaned_data.get("leader") or request.user,
            **fields,
        )
        # The inline formsets hold `obj`: let it become the row just created.
        obj.pk, obj.code, obj.year = created.pk, created.code, created.year
        obj.organization, obj.leader = created.organization, created.leader
        obj._state.adding = False
        obj._state.db = created._state.db

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        services.application_saved(
            form.instance, actor=request.user, changed=list(form.changed_data)
        )

    def response_add(self, request, obj, post_url_continue=None):
        # After saving a new application the applicant lands on its page (next: 提交).
        messages.success(request, f"申请已保存为草稿:{obj.code} {obj.title}。")
        return redirect("admin:projects_project_change", obj.pk)

    def response_change(self, request, obj):
        messages.success(request, f"申请书已保存:{obj.code} {obj.title}。")
        return redirect("admin:projects_project_change", obj.pk)

    def get_formsets_with_inlines(self, request, obj=None):
        # A read-only page draws its inlines as plain tables (render_change_form): no
        # formset, no form per row, no management form.
        if getattr(request, "_plain_inlines", False):
            return
        yield from super().get_formsets_with_inlines(request, obj)

    def get_inlines(self, request, obj):
        # A new application has only its budget; the records of a running project
        # (reports, invoices …) appear once it exists.
        if obj is None:
            return list(self.inlines)
        return [*self.inlines, *(inline for inline in PROJECT_INLINES if inline.shown_for(obj))]

    # --- the change page: buttons, history, reviews --------------------------------------

    def get_object(self, request, object_id, from_field=None):
        # change_view reads the project for the page's buttons and status bar, then the
        # admin's changeform_view asks again: on a GET (nothing is changed) the same row
        # serves both, one query instead of two.
        key = (str(object_id), from_field)
        cached = getattr(request, "_project_object", None)
        if request.method == "GET" and cached and cached[0] == key:
            return cached[1]
        project = self._read_object(request, object_id, from_field)
        if request.method == "GET":
            request._project_object = (key, project)
        return project

    def _read_object(self, request, object_id, from_field=None):
        # The page's status bar names the leader and the organisation: fetch them with it;
        # and whether it has any invoice (the invoices' inline skips its query if not).
        queryset = (
            self.get_queryset(request)
            .select_related("organization", "leader")
            .annotate(has_invoices=Exists(Invoice.objects.filter(project=OuterRef("pk"))))
        )
        opts = self.model._meta
        field = opts.pk if from_field is None else opts.get_field(from_field)
        try:
            return queryset.get(**{field.name: field.to_python(object_id)})
        except (self.model.DoesNotExist, ValidationError, ValueError):
            return None

    def change_view(self, request, object_id, form_url="", extra_context=None):
        project = self.get_object(request, object_id)
        if project is None:
            raise Http404("项目不存在。")
        request._project_year = project.year  # the caps beside 申报等级 are that year's
        # Nothing on a read-only page is posted (a POST is refused before the formsets).
        request._plain_inlines = (
            self.plain_read_only_inlines
            and request.method == "GET"
            and not self.has_change_permission(request, project)
            and not any(
                inline.has_add_permission(request, project)
                or inline.has_change_permission(request, project)
                for inline in self.get_inline_instances(request, project)
            )
        )
        extra_context = {**(extra_context or {}), **self._project_context(request, project)}
        return super().change_view(request, object_id, form_url, extra_context)

    def _project_context(self, request, project) -> dict:
        names = services.available_transitions(project, request.user)
        buttons = [
            {
                "name": name,
                "label": services.transition_meta(name).custom.get("label", name),
                "url": reverse("admin:projects_project_transition", args=[project.pk, name]),
            }
            for name in names
        ]
        primary, danger = status.split_buttons(buttons)
        reviews = list(Review.objects.filter(project=project).order_by("signed_at", "pk"))
        for review in reviews:
            review.answers = status.checklist_answers(review)
        return {
            "transition_buttons": [*primary, *danger],
            "primary_buttons": primary,
            "danger_buttons": danger,
            "status_bar": status.status_bar(project),
            "open_questions": status.open_questions(project),
            "report_link": self._report_link(request, project),
            "history_rows": ProjectHistory.objects.filter(project=project).order_by("seq"),
            "review_rows": reviews,
            "print_url": reverse("projects:application_print", args=[project.pk]),
            "xlsx_url": reverse("projects:application_xlsx", args=[project.pk]),
            "archive_url": reverse("projects:project_archive", args=[project.pk]),
            "archive_package_url": reverse("projects:project_archive_package", args=[project.pk]),
        }

    def _report_link(self, request, project) -> str:
        """填报进展报告 with project and month filled in, when this user owes one (三(一)5)."""
        notes = status.monthly_notes(project)
        if not notes or not perm.may_report_progress(project, request.user):
            return ""
        from projects.models import ProgressReport

        report_admin = self.admin_site._registry.get(ProgressReport)
        if report_admin is None or not report_admin.has_add_permission(request):
            return ""
        try:
            from projects.selectors.obligations import monthly_status
        except ImportError:
            from projects.supervision import monthly_status
        owed = monthly_status(project)
        month = (owed.overdue or owed.due)[0]
        url = reverse("admin:projects_progressreport_add")
        return f"{url}?project={project.pk}&month={month.isoformat()}"

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        # One application at a time: after saving, its page shows the next step (提交).
        context["show_save_and_add_another"] = False
        if add:
            context["title"] = "新建项目申请"
        elif obj is not None:
            context["title"] = "项目详情与办理"
            if getattr(request, "_plain_inlines", False):
                context["plain_inlines"] = plain_inlines(self, request, obj)
            context["prohibited_lines"] = prohibited_budget_lines(obj, self._shown_lines(context))
        return super().render_change_form(request, context, add, change, form_url, obj)

    @staticmethod
    def _shown_lines(context):
        """The budget lines the page's budget inline already read, so the prohibited-item
        check does not read them a second time (None when that inline is not on the page)."""
        for inline in context.get("inline_admin_formsets", ()):
            if inline.formset.model is BudgetLine:
                return list(inline.formset.get_queryset())
        for inline in context.get("plain_inlines", ()):
            if inline.opts.model is BudgetLine:
                return inline.get_queryset()
        return None

    def changelist_view(self, request, extra_context=None):
        extra_context = {"title": "项目一览", **(extra_context or {})}
        return super().changelist_view(request, extra_context)

    def get_urls(self):
        return [
            path(
                "<int:object_id>/transition/<str:name>/",
                self.admin_site.admin_view(self.transition_view),
                name="projects_project_transition",
            ),
            *super().get_urls(),
        ]

    def transition_view(self, request, object_id, name):
        """The form of one transition; its POST goes through services.apply_transition."""
        if name not in services.TRANSITIONS:
            raise Http404("没有这个操作。")
        project = self.get_queryset(request).filter(pk=object_id).first()
        if project is None:
            raise Http404("项目不存在。")
        if not self.has_view_permission(request, project):
            raise PermissionDenied
        form_class = form_for(name)
        form_kwargs = {"project": project, "actor": request.user, "transition": name}
        refusal = self._refusal(project, name, request.user)
        if request.method == "POST" and not refusal:
            form = form_class(request.POST, **form_kwargs)
            if form.is_valid():
                try:
                    services.apply_transition(project, name, actor=request.user, **form.decision())
                except services.WorkflowError as exc:
                    for message in exc.messages:
                        form.add_error(None, message)
                else:
                    label = services.transition_meta(name).custom.get("label", name)
                    messages.success(request, f"已完成“{label}”:{project.code} {project.title}。")
                    return redirect("admin:projects_project_change", project.pk)
        else:
            # A refused POST (the state moved on, no permission): the page states the refusal
            # once, in its own box; not a second time as a message.
            form = form_class(**form_kwargs)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "original": project,
            "project": project,
            "title": services.transition_meta(name).custom.get("label", name),
            "transition_name": name,
            "form": form,
            "refusal": refusal,
            # An unmet condition stands above the form until the user tries: then it is the
            # form's error, shown once.
            "unmet": [
                message
                for message in ([] if refusal else services.unmet_conditions(project, name))
                if message not in form.non_field_errors()
            ],
            "help_rows": form.help_rows() if hasattr(form, "help_rows") else [],
            "prohibited_lines": prohibited_budget_lines(project),
            "change_url": reverse("admin:projects_project_change", args=[project.pk]),
            "danger": name in status.DANGER_TRANSITIONS,
            "status_bar": status.status_bar(project),
            **self._application_beside(project, form_class),
        }
        return TemplateResponse(request, "admin/projects/project/transition.html", context)

    @staticmethod
    def _application_beside(project, form_class) -> dict:
        """A reviewer decides with the application in view (二(二), 三(二)2-3): its sections,
        its budget and the earlier reviews' answers to the six conditions."""
        if not issubclass(form_class, ChecklistForm):
            return {}
        from projects.views.printing import application_rows

        rows = application_rows(project)
        reviews = list(Review.objects.filter(project=project).order_by("signed_at", "pk"))
        for review in reviews:
            review.answers = status.checklist_answers(review)
        return {
            "application": {
                "header": rows["header"],
                "sections": rows["sections"],
                "budget": rows["budget"],
                "budget_total": rows["budget_total"],
            },
            "earlier_reviews": reviews,
        }

    @staticmethod
    def _refusal(project, name, user) -> str:
        """Why the user may not even try this transition now (state or permission)."""
        try:
            services.check_transition(project, name, user)
        except services.WorkflowError as exc:
            if services.unmet_conditions(project, name) == exc.messages:
                return ""  # only conditions unmet: the form shows them and stays usable
            return "；".join(exc.messages)
        return ""


def prohibited_budget_lines(project, lines=None) -> list[dict]:
    """Budget lines whose text matches a prohibited item: flagged to every reviewer (§2).
    `lines`: the project's budget lines when the caller has read them already."""
    keywords = list(ProhibitedItem.objects.values_list("keyword", flat=True))
    if not keywords:
        return []
    flagged = []
    if lines is None:
        lines = BudgetLine.objects.filter(project=project).order_by("pk")
    for line in lines:
        words = line.prohibited_keywords(keywords)
        if words:
            flagged.append({"line": line, "words": "、".join(words)})
    return flagged


__all__ = ["ProjectAdmin"]
