"""The base every ModelAdmin of the application stands on.

It applies the one scoping rule (accounts.scoping) to the changelist, the change page and
every object URL, so another organisation's object is a 404, and makes auditors read-only.
"""

from django.contrib import admin

from accounts.roles import is_read_only


class ScopedAdmin(admin.ModelAdmin):
    def get_queryset(self, request):
        return (
            self.model._default_manager.get_queryset()
            .visible_to(request.user)
            .order_by(*(self.ordering or self.model._meta.ordering or ["-pk"]))
        )

    def has_add_permission(self, request, *args) -> bool:
        return not is_read_only(request.user) and super().has_add_permission(request, *args)

    def has_change_permission(self, request, obj=None) -> bool:
        return not is_read_only(request.user) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        return not is_read_only(request.user) and super().has_delete_permission(request, obj)


class ScopedInline:
    """Inlines are read-only for auditors, like their parent."""

    def has_add_permission(self, request, obj=None) -> bool:
        return not is_read_only(request.user) and super().has_add_permission(request, obj)

    def has_change_permission(self, request, obj=None) -> bool:
        return not is_read_only(request.user) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        return not is_read_only(request.user) and super().has_delete_permission(request, obj)
