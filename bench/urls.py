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


# --- the load test's limit (bench/loadtest.py) -------------------------------------------
# A bare AdminSite with a plain ModelAdmin for every model the product's admin registers:
# the same tables, the product's page size, the one scoping rule, no columns, filters,
# inlines, dashboard or workflow of the product. Served by the same gunicorn under the same
# middleware as the product (bench/load_settings.py), so the session, the second factor,
# axes and CSP cost the same on both sides.

load_site = admin.AdminSite(name="bare_load")


class LoadBareAdmin(admin.ModelAdmin):
    list_per_page = 50

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        visible_to = getattr(queryset, "visible_to", None)
        return visible_to(request.user) if visible_to else queryset

    def has_module_permission(self, request):
        return True

    def has_view_permission(self, request, obj=None):
        return True

    # What the user may do with an object is the product's rule (the product's ModelAdmin
    # decides): an editable form where the product shows one, a read-only page where the
    # product shows the object read-only; the bare rendering of it.
    def has_add_permission(self, request, *args):
        return self.product_admin.has_add_permission(request, *args)

    def has_change_permission(self, request, obj=None):
        return self.product_admin.has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self.product_admin.has_delete_permission(request, obj)


def _register_load_site():
    from django.contrib.admin import site as product_site

    for model, model_admin in product_site._registry.items():
        attrs = {"list_per_page": model_admin.list_per_page, "product_admin": model_admin}
        load_site.register(model, type(f"LoadBare{model.__name__}Admin", (LoadBareAdmin,), attrs))


_register_load_site()

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


urlpatterns = [
    path("strict/", strict_site.urls),
    path("bare/", bare_site.urls),
    path("bare-load/", load_site.urls),
    *product_urlpatterns,
]
