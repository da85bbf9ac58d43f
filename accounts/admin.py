from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.models import Group

from accounts.admin_base import ScopedAdmin
from accounts.models import User
from accounts.roles import Role


# Registered by projects.admin.accounts, which adds the Excel import and export: accounts
# never imports projects (LAYOUT.md).
class OrganizationAdmin(ScopedAdmin):
    list_display = ["name", "kind", "parent", "uscc", "payee_name", "is_active"]
    list_filter = ["kind", "is_active"]
    search_fields = ["name", "short_name", "uscc"]
    list_select_related = ["parent"]
    autocomplete_fields = ["parent"]
    fieldsets = [
        (None, {"fields": ["name", "short_name", "kind", "parent", "uscc", "is_active"]}),
        ("收款账户(拨付时使用)", {"fields": ["payee_name", "bank_name", "bank_account"]}),
        ("联系方式", {"fields": ["contact_phone"]}),
    ]

    def has_delete_permission(self, request, obj=None) -> bool:
        # Organisations carry projects and money: deactivate them, never delete.
        return False


class UserAdmin(ScopedAdmin, DjangoUserAdmin):
    list_display = ["username", "display_name", "organization", "title", "roles", "is_active"]
    list_filter = ["groups", "organization", "is_active"]
    search_fields = ["username", "first_name", "last_name", "phone"]
    list_select_related = ["organization"]
    ordering = ["organization__name", "username"]
    fieldsets = [
        (None, {"fields": ["username", "password"]}),
        ("个人信息", {"fields": ["last_name", "first_name", "email", "phone"]}),
        ("组织与角色", {"fields": ["organization", "title", "groups", "is_active", "is_staff"]}),
        ("高级", {"classes": ["collapse"], "fields": ["is_superuser", "user_permissions"]}),
        ("登录记录", {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [
        (
            None,
            {
                "classes": ["wide"],
                "fields": [
                    "username",
                    "password1",
                    "password2",
                    "organization",
                    "title",
                    "groups",
                    "is_staff",
                ],
            },
        ),
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("groups")

    @admin.display(description="姓名")
    def display_name(self, obj: User) -> str:
        return obj.display_name

    @admin.display(description="角色")
    def roles(self, obj: User) -> str:
        names = {group.name for group in obj.groups.all()}
        return "、".join(role.label for role in Role if role.value in names) or "—"

    def has_delete_permission(self, request, obj=None) -> bool:
        # Signed decisions point at users: deactivate, never delete.
        return False


admin.site.unregister(Group)


@admin.register(Group)
class RoleGroupAdmin(admin.ModelAdmin):
    """Role groups are defined in code (accounts.roles); shown read-only for reference."""

    list_display = ["name", "label"]

    @admin.display(description="角色")
    def label(self, obj: Group) -> str:
        return Role(obj.name).label if obj.name in Role.values else obj.name

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
