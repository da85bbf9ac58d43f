"""The organisation and user admins of accounts, with the Excel import and export of the
exchange area (accounts itself never imports projects)."""

from django.contrib import admin

from accounts import admin as accounts_admin
from accounts.models import Organization, User
from projects.admin.importexport import OrganizationImportExportMixin, UserImportExportMixin


@admin.register(Organization)
class OrganizationAdmin(OrganizationImportExportMixin, accounts_admin.OrganizationAdmin):
    pass


@admin.register(User)
class UserAdmin(UserImportExportMixin, accounts_admin.UserAdmin):
    pass
