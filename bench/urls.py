"""URLs for bench_pages.py: the product's URLs plus a bare admin site over the same tables
(plain ModelAdmin, plain columns, the product's page size), the limit the product's
changelist is measured against."""

from django.contrib import admin
from django.urls import path

from config.urls import urlpatterns as product_urlpatterns
from projects.models import Project

bare_site = admin.AdminSite(name="bare")


class BareProjectAdmin(admin.ModelAdmin):
    list_display = ["code", "title", "organization_id", "leader_id", "state", "year"]
    list_filter = ["state", "year"]
    search_fields = ["code", "title"]
    list_per_page = 50  # the product's page size: the same rows on the page

    def get_queryset(self, request):
        # The same rows as the product: the one scoping rule, nothing else.
        return Project.objects.visible_to(request.user)

    def has_module_permission(self, request):
        return True

    def has_view_permission(self, request, obj=None):
        return True


bare_site.register(Project, BareProjectAdmin)

urlpatterns = [path("bare/", bare_site.urls), *product_urlpatterns]
