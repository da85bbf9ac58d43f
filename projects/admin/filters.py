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


# Up to this many organisations the filter is a drop-down; a district with more (a city has
# hundreds) gets a name box instead, so the page never lists every organisation.
DROP_DOWN_LIMIT = 60


class OrganizationFilter(admin.SimpleListFilter):
    """申报组织 for those who see every organisation: a drop-down of up to DROP_DOWN_LIMIT
    organisations, else a box where part of the name is typed (组织名称含).

    A sidebar link per organisation (each with its own query string, found through SELECT
    DISTINCT over every project) cost more than the page's rows, and a drop-down of 500
    names still grew with the district. Scoped users only ever see their own organisation:
    no filter. `organization__id__exact` (a link from another page) works in both forms.
    """

    title = "申报组织"
    parameter_name = "organization__id__exact"
    name_parameter = "organization_name"
    template = "admin/projects/project/select_filter.html"
    shown = searching = False
    typed = ""

    def __init__(self, request, params, model, model_admin):
        name = params.pop(self.name_parameter, None)
        super().__init__(request, params, model, model_admin)
        if name and name[-1].strip():
            self.used_parameters[self.name_parameter] = name[-1].strip()[:100]

    def expected_parameters(self):
        return [self.parameter_name, self.name_parameter]

    def lookups(self, request, model_admin):
        self.shown = sees_everything(request.user)
        if not self.shown:
            return []
        first = list(
            Organization.objects.filter(kind=Organization.Kind.GRASSROOTS)
            .order_by("name")
            .values_list("pk", "name")[: DROP_DOWN_LIMIT + 1]
        )
        self.searching = len(first) > DROP_DOWN_LIMIT
        return [] if self.searching else first

    def has_output(self):
        return self.shown

    def name(self) -> str:
        return self.used_parameters.get(self.name_parameter, "")

    def queryset(self, request, queryset):
        value, name = self.value(), self.name()
        if value:
            if not value.isdigit():
                return queryset.none()
            queryset = queryset.filter(organization_id=int(value))
        if name:
            queryset = queryset.filter(organization__name__icontains=name)
        return queryset

    def choices(self, changelist):
        # The template builds one GET form: the other filters ride along as hidden fields.
        own = (self.parameter_name, self.name_parameter, "p")
        self.hidden_params = [
            (name, value)
            for name, values in changelist.get_filters_params().items()
            if name not in own
            for value in (values if isinstance(values, list) else [values])
        ]
        for name in ("q", "o"):
            if changelist.params.get(name):
                self.hidden_params.append((name, changelist.params[name]))
        current = self.value()
        self.typed = self.name()
        if self.searching and current and current.isdigit() and not self.typed:
            # Arrived by a link: the box shows that organisation's name (one row by key).
            chosen = Organization.objects.filter(pk=int(current)).values_list("name", flat=True)
            self.typed = next(iter(chosen), "")
        for pk, name in self.lookup_choices:
            yield {"value": pk, "display": name, "selected": str(pk) == current}
