"""What every project-related ModelAdmin shares: scoping, the auditor's read-only view,
and the archive lock (a closed project and everything under it is read-only for everyone,
superusers included, DESIGN.md §5)."""

from django.contrib import admin

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


class ProjectRecordAdmin(ScopedAdmin):
    """A ModelAdmin for rows that hang off a project."""

    def has_change_permission(self, request, obj=None) -> bool:
        return not is_archived(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        return not is_archived(obj) and super().has_delete_permission(request, obj)


class ProjectRecordInline(ScopedInline):
    """An inline on the project page; `obj` passed to the has_* methods is the project."""

    def has_add_permission(self, request, obj=None) -> bool:
        return not is_archived(obj) and super().has_add_permission(request, obj)

    def has_change_permission(self, request, obj=None) -> bool:
        return not is_archived(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        return not is_archived(obj) and super().has_delete_permission(request, obj)


__all__ = [
    "PROJECT_INLINES",
    "ProjectRecordAdmin",
    "ProjectRecordInline",
    "admin",
    "is_archived",
    "project_inline",
]
