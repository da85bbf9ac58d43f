"""What every project-related ModelAdmin shares: scoping, the auditor's read-only view,
and the archive lock (a closed project and everything under it is read-only for everyone,
superusers included, DESIGN.md §5)."""

from functools import cached_property

from django.contrib import admin, messages
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html

from accounts.admin_base import ScopedAdmin, ScopedInline

# Inlines shown on the project's change page, contributed by each area's module
# (budget lines, reports, invoices, disbursements …) in display order.
PROJECT_INLINES: list[type] = []


def project_inline(cls):
    """Class decorator: show this inline on the project's change page."""
    PROJECT_INLINES.append(cls)
    return cls


def project_of(obj):
    return getattr(obj, "project", obj) if obj is not None else None


def is_archived(obj) -> bool:
    project = project_of(obj)
    return project is not None and project.state == "closed"


class RefusalAsMessageMixin:
    """A service's refusal (WorkflowError) during the admin's save becomes a message.

    The admin runs the whole save in one transaction, so the refusal (the state moved on
    since the form was drawn, a rule the form could not see) rolls back everything the
    request wrote; the user is sent back to the same page with the reason.
    """

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        from projects.services import WorkflowError

        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except WorkflowError as exc:
            for message in exc.messages:
                messages.error(request, message)
            return redirect(request.path)


class ProjectRecordAdmin(ScopedAdmin):
    """A ModelAdmin for rows that hang off a project."""

    @admin.display(description="项目", ordering="project__code")
    def project_link(self, obj):
        # Needs `project` in list_select_related: one query for the page, not one a row.
        url = reverse("admin:projects_project_change", args=[obj.project_id])
        return format_html('<a href="{}">{}</a>', url, obj.project.code)

    def has_change_permission(self, request, obj=None) -> bool:
        return not is_archived(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        return not is_archived(obj) and super().has_delete_permission(request, obj)


class ProjectRecordInline(ScopedInline):
    """An inline on the project page; `obj` passed to the has_* methods is the project."""

    # Records that only exist once a project is approved (reports, changes, invoices,
    # payments) are not shown, always empty, on an application still under review.
    only_after_approval = True

    @classmethod
    def shown_for(cls, project) -> bool:
        from projects.models.choices import PRE_APPROVAL_STATES

        return not (cls.only_after_approval and project.state in PRE_APPROVAL_STATES)

    def has_add_permission(self, request, obj=None) -> bool:
        return not is_archived(obj) and super().has_add_permission(request, obj)

    def has_change_permission(self, request, obj=None) -> bool:
        return not is_archived(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        return not is_archived(obj) and super().has_delete_permission(request, obj)


class ReadOnlyInlineMixin:
    """A record shown on the project's page and never edited there: it changes only through
    its own services (reports, invoices, payments)."""

    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class CappedInlineMixin:
    """Show at most `max_shown` rows of an inline that can grow without bound (500 invoices
    on one project), so the project page costs the same however big the project is; the
    template links to the full, paginated changelist (`formset.total_count` rows).

    Only for read-only inlines: the formset's rows are a fixed list of the first rows.
    """

    max_shown = 20
    shown_ordering: tuple[str, ...] = ()

    def get_formset(self, request, obj=None, **kwargs):
        base = super().get_formset(request, obj, **kwargs)
        cap, ordering = self.max_shown, self.shown_ordering

        class CappedFormSet(base):
            def get_queryset(self):
                if not hasattr(self, "_capped"):
                    queryset = super().get_queryset()
                    if ordering:
                        queryset = queryset.order_by(*ordering)
                    self._uncapped = queryset
                    self._capped = self._queryset = list(queryset[:cap])
                return self._capped

            @cached_property
            def total_count(self) -> int:
                rows = self.get_queryset()
                return len(rows) if len(rows) < cap else self._uncapped.count()

            @property
            def is_capped(self) -> bool:
                return self.total_count > len(self.get_queryset())

        return CappedFormSet


def money_form_page(model_admin, request, form, title, obj):
    return TemplateResponse(
        request,
        "admin/projects/money/form_page.html",
        {
            **model_admin.admin_site.each_context(request),
            "title": title,
            "form": form,
            "object": obj,
            "opts": model_admin.model._meta,
        },
    )


__all__ = [
    "CappedInlineMixin",
    "ReadOnlyInlineMixin",
    "money_form_page",
    "RefusalAsMessageMixin",
    "PROJECT_INLINES",
    "ProjectRecordAdmin",
    "ProjectRecordInline",
    "admin",
    "is_archived",
    "project_inline",
]
