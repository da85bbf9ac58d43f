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


# --- the strict limit (issue 15): what the product's list has to do, and nothing else -------

strict_site = admin.AdminSite(name="strict")


class StrictProjectAdmin(admin.ModelAdmin):
    """A bare ModelAdmin without the two defaults the product removed (the full COUNT(*) and
    SELECT DISTINCT year), with the product's columns, joins, search fields and page size."""

    list_display = [
        "code",
        "title",
        "organization",
        "leader",
        "state",
        "proposed_grade",
        "grade",
        "requested_amount",
        "approved_amount",
        "first_review_deadline",
    ]
    list_display_links = ["title"]
    list_select_related = ["organization", "leader"]
    # Choice filters cost no query; no field filter on year (its SELECT DISTINCT).
    list_filter = ["state", "grade", "category"]
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER
    # The product's six search fields (its full name is last + first name).
    search_fields = [
        "code",
        "title",
        "leader__last_name",
        "leader__username",
        "organization__name",
        "organization__short_name",
    ]
    list_per_page = 50

    def get_queryset(self, request):
        return Project.objects.visible_to(request.user)

    def has_module_permission(self, request):
        return True

    def has_view_permission(self, request, obj=None):
        return True


strict_site.register(Project, StrictProjectAdmin)
urlpatterns.insert(0, path("strict/", strict_site.urls))
