"""The project list's own filters: overdue first reviews, years on record, organisations."""

from django.contrib import admin
from django.db.models import Max, Min

from accounts.models import Organization
from accounts.roles import sees_everything

# The application form in the order of the regulation's 附表 (三(二)1).


class OverdueFilter(admin.SimpleListFilter):
    """三(二)2: 项目部一周内须完成初审; overdue ones can be listed on their own."""

    title = "初审是否逾期"
    parameter_name = "overdue"

    def lookups(self, request, model_admin):
        return [("yes", "初审已逾期")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.overdue_first_review()
        return queryset


class YearFilter(admin.SimpleListFilter):
    """年度, from the first to the last year on record: two index reads (project_year_code)
    instead of the SELECT DISTINCT year over every project that a field filter runs."""

    title = "年度"
    parameter_name = "year__exact"

    def lookups(self, request, model_admin):
        span = model_admin.get_queryset(request).aggregate(first=Min("year"), last=Max("year"))
        if span["first"] is None:
            return []
        return [(str(year), str(year)) for year in range(span["last"], span["first"] - 1, -1)]

    def queryset(self, request, queryset):
        value = self.value()
        if not value:
            return queryset
        # A hand-edited URL gets an empty list, never a 500.
        return queryset.filter(year=int(value)) if value.isdigit() else queryset.none()


class OrganizationFilter(admin.SimpleListFilter):
    """申报组织 as one drop-down for those who see every organisation.

    A city has hundreds of grassroots organisations: a sidebar link per organisation (each
    with its own query string, found through SELECT DISTINCT over every project) cost more
    than the page's rows. Scoped users only ever see their own organisation: no filter.
    """

    title = "申报组织"
    parameter_name = "organization__id__exact"
    template = "admin/projects/project/select_filter.html"

    def lookups(self, request, model_admin):
        if not sees_everything(request.user):
            return []
        return list(
            Organization.objects.filter(kind=Organization.Kind.GRASSROOTS)
            .order_by("name")
            .values_list("pk", "name")
        )

    def queryset(self, request, queryset):
        value = self.value()
        if not value:
            return queryset
        return queryset.filter(organization_id=int(value)) if value.isdigit() else queryset.none()

    def choices(self, changelist):
        # The template builds one GET form: the other filters ride along as hidden fields.
        self.hidden_params = [
            (name, value)
            for name, values in changelist.get_filters_params().items()
            if name not in (self.parameter_name, "p")
            for value in (values if isinstance(values, list) else [values])
        ]
        for name in ("q", "o"):
            if changelist.params.get(name):
                self.hidden_params.append((name, changelist.params[name]))
        current = self.value()
        for pk, name in self.lookup_choices:
            yield {"value": pk, "display": name, "selected": str(pk) == current}
