"""The project page's inlines as plain tables when the page is read-only (issue 15).

A read-only project page (every state but an editable draft/returned application) has
nothing to post, yet Django's admin builds a formset for each inline, a form for each row
and renders a management form and hidden id inputs per row: most of the page's time. Here
each inline becomes rows and cells read straight from its queryset, with the same markup,
column labels, cell text, "查看" links and caps as Django's tabular/stacked inline
templates draw for a view-only inline, and no <input> at all. An editable page keeps its
formsets (its POST expects their management forms); a POST to a read-only page is refused
by the admin before any of this (has_change_permission).
"""

from functools import cached_property

from django.contrib.admin.utils import (
    display_for_field,
    help_text_for_field,
    label_for_field,
    lookup_field,
)
from django.core.exceptions import ObjectDoesNotExist
from django.db.models import ManyToManyRel, OneToOneField
from django.db.models.fields.related import ForeignObjectRel
from django.forms.models import _get_foreign_key
from django.template.defaultfilters import linebreaksbr
from django.urls import NoReverseMatch, reverse
from django.utils.html import conditional_escape, format_html
from django.utils.text import capfirst

from projects.admin.base import CappedInlineMixin

TABULAR = "admin/projects/project/plain_tabular.html"
STACKED = "admin/projects/project/plain_stacked.html"


class PlainCell:
    def __init__(self, column: dict, contents):
        self.name, self.label = column["name"], column["label"]
        self.help_text = column["help_text"]
        self.contents = contents


class PlainRow:
    def __init__(self, original, cells: list[PlainCell]):
        self.original, self.cells = original, cells


class PlainInline:
    """One inline of a read-only project page. Named like Django's InlineAdminFormSet where
    the templates read it (`opts`, `formset.prefix`, `formset.instance`, `classes`), so the
    invoice inline's own template (links above, "共 N 张" below) serves both."""

    is_collapsible = False

    def __init__(self, inline, request, project):
        self.opts = inline
        self.request = request
        self.instance = project
        self.fk = _get_foreign_key(project.__class__, inline.model, fk_name=inline.fk_name)
        self.prefix = self.fk.remote_field.get_accessor_name(model=inline.model).replace("+", "")
        self.classes = " ".join(inline.classes) if inline.classes else ""
        self.field_names = [
            name
            for name in _flatten(inline.get_fieldsets(request, project))
            if name != self.fk.name
        ]
        # As inlineformset_factory: one row at most under a one-to-one key (its heading is
        # then the singular name).
        self.max_num = 1 if self.fk.unique else inline.get_max_num(request, project)
        self.has_change_link = inline.show_change_link and inline.has_registered_model
        self.empty_value_display = inline.get_empty_value_display()
        custom = inline.template not in (
            "admin/edit_inline/tabular.html",
            "admin/edit_inline/stacked.html",
        )
        self.stacked = "stacked" in inline.template
        # A custom template (the invoices') includes the plain table in place of Django's.
        self.template = inline.template if custom else (STACKED if self.stacked else TABULAR)
        self.table_template = STACKED if self.stacked else TABULAR

    @property
    def formset(self):
        return self

    # --- rows --------------------------------------------------------------------------------

    def _queryset(self):
        queryset = self.opts.get_queryset(self.request).filter(**{self.fk.name: self.instance})
        if isinstance(self.opts, CappedInlineMixin) and self.opts.shown_ordering:
            queryset = queryset.order_by(*self.opts.shown_ordering)
        elif not queryset.ordered:
            queryset = queryset.order_by(self.opts.model._meta.pk.name)  # as the formset
        return self._without_the_project(queryset)

    def _without_the_project(self, queryset):
        """Every row belongs to the page's project (set on each row in `_rows`): reading it
        again with each row (select_related) and sorting by its columns (a model ordering
        such as -project__year, -project__number, month) only cost joins, about a third of
        a small inline's query. The rows and their order are the same."""
        queryset = queryset.all()
        query = queryset.query
        if isinstance(query.select_related, dict) and self.fk.name in query.select_related:
            related = {k: v for k, v in query.select_related.items() if k != self.fk.name}
            query.select_related = related or False
        ordering = query.order_by
        if not ordering and query.default_ordering:
            ordering = self.opts.model._meta.ordering
        own = [term for term in ordering if not self._names_the_project(term)]
        if len(own) != len(ordering):
            queryset = queryset.order_by(*(own or [self.opts.model._meta.pk.name]))
        return queryset

    def _names_the_project(self, term) -> bool:
        if not isinstance(term, str):
            return False
        name = term.lstrip("-")
        return name in (self.fk.name, self.fk.attname) or name.startswith(f"{self.fk.name}__")

    @cached_property
    def _rows(self) -> list:
        has_no_rows = getattr(self.opts, "has_no_rows", None)
        if has_no_rows is not None and has_no_rows(self.instance):
            return []  # known from the page's own read of the project: no query to build
        queryset = self._queryset()
        if isinstance(self.opts, CappedInlineMixin):
            self._uncapped = queryset
            rows = list(queryset[: self.opts.max_shown])
        else:
            rows = list(queryset)
        for row in rows:
            setattr(row, self.fk.name, self.instance)  # as the formset does: no re-read
        return rows

    def get_queryset(self) -> list:
        return self._rows

    @cached_property
    def total_count(self) -> int:
        rows = self._rows
        if not isinstance(self.opts, CappedInlineMixin) or len(rows) < self.opts.max_shown:
            return len(rows)
        return self._uncapped.count()

    @property
    def is_capped(self) -> bool:
        return self.total_count > len(self._rows)

    @cached_property
    def rows(self) -> list[PlainRow]:
        columns = list(zip(self.field_names, self.fields, strict=True))
        return [
            PlainRow(
                original, [PlainCell(column, self._contents(f, original)) for f, column in columns]
            )
            for original in self._rows
        ]

    def __iter__(self):
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self._rows)

    # --- columns -------------------------------------------------------------------------

    @cached_property
    def fields(self) -> list[dict]:
        model = self.opts.model
        return [
            {
                # Django's column head names a function column "column-" (the template
                # calls the function); its cells are "field-<function name>".
                "head": "" if callable(name) else name,
                "name": _name(name),
                "label": capfirst(label_for_field(name, model, self.opts)),
                "help_text": help_text_for_field(_name(name), model),
            }
            for name in self.field_names
        ]

    def _contents(self, field, obj):
        """What AdminReadonlyField.contents shows for a view-only inline's cell."""
        from django.contrib.admin.templatetags.admin_list import _boolean_icon

        try:
            f, attr, value = lookup_field(field, obj, self.opts)
        except (AttributeError, ValueError, ObjectDoesNotExist):
            result = self.empty_value_display
        else:
            if f is None:
                if getattr(attr, "boolean", False):
                    result = _boolean_icon(value)
                elif hasattr(value, "__html__"):
                    result = value
                else:
                    result = linebreaksbr(value)
            else:
                if isinstance(f.remote_field, ManyToManyRel) and value is not None:
                    result = ", ".join(map(str, value.all()))
                elif (
                    isinstance(f.remote_field, (ForeignObjectRel, OneToOneField))
                    and value is not None
                ):
                    result = self._admin_link(f.remote_field, value)
                else:
                    result = display_for_field(value, f, self.empty_value_display)
                result = linebreaksbr(result)
        return conditional_escape(result)

    def _admin_link(self, remote_field, remote_obj):
        meta = remote_field.model._meta
        try:
            url = reverse(
                f"admin:{meta.app_label}_{meta.model_name}_change",
                args=[remote_obj.pk],
                current_app=self.opts.admin_site.name,
            )
        except NoReverseMatch:
            return str(remote_obj)
        return format_html('<a href="{}">{}</a>', url, remote_obj)


def _name(field) -> str:
    if callable(field):
        return field.__name__ if field.__name__ != "<lambda>" else ""
    return field


def _flatten(fieldsets) -> list:
    names = []
    for _title, options in fieldsets:
        for field in options["fields"]:
            if isinstance(field, (list, tuple)):
                names.extend(field)
            else:
                names.append(field)
    return names


def plain_inlines(model_admin, request, project) -> list[PlainInline]:
    """The page's inlines (those this user may see, in order) as plain tables."""
    return [
        PlainInline(inline, request, project)
        for inline in model_admin.get_inline_instances(request, project)
    ]


__all__ = ["PlainInline", "plain_inlines"]
