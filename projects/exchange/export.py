"""The resources each admin uses, and the streaming export: rows read in chunks through
values_list, converted once per column, written by the one streaming writer
(projects.exchange.writer.write_xlsx, which neutralises every text cell)."""

from __future__ import annotations

import datetime
from collections.abc import Iterator, Sequence
from decimal import Decimal

from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.http import FileResponse

from projects.exchange.project import ProjectResource
from projects.exchange.resources import (
    DisbursementResource,
    InvoiceResource,
    OrganizationResource,
    SafeResource,
    UserResource,
)
from projects.exchange.widgets import (
    ChoiceWidget,
    DateWidget,
    MoneyWidget,
    NumberWidget,
    YesNoWidget,
)
from projects.exchange.writer import ANY, DATE, MONEY, NUMBER, TEXT, local_naive, xlsx_response

RESOURCES = {
    "organization": OrganizationResource,
    "user": UserResource,
    "project": ProjectResource,
    "disbursement": DisbursementResource,
    "invoice": InvoiceResource,
}
IMPORTABLE = {"organization", "user", "project"}
# Rows fetched per round trip (a server-side cursor on PostgreSQL).
CHUNK_SIZE = 2000

# --- streaming xlsx -------------------------------------------------------------------------


def _cell(value, widget):
    """Typed cell value: numbers and dates stay numbers and dates."""
    return _converter(widget)(value)


def _converter(widget):
    """One conversion function per column, chosen once (not per cell)."""
    if isinstance(widget, ChoiceWidget):
        return _Labels({**widget.labels, None: "", "": ""}).__getitem__
    if isinstance(widget, YesNoWidget):
        return _YesNo({True: "是", False: "否", None: "否"}).__getitem__
    if isinstance(widget, MoneyWidget | NumberWidget | DateWidget):
        return local_naive
    return _text


class _Labels(dict):
    """A code list's labels ("" when empty); an unknown code is shown as text. Looked up
    as a plain dict (no Python call per cell), the fallback only for a code not listed."""

    def __missing__(self, value):
        return str(value)


class _YesNo(dict):
    def __missing__(self, value):
        return "是" if value else "否"


def _text(value):
    """Text as text (the writer neutralises it); a typed value in a text column stays typed."""
    if value is None or isinstance(value, Decimal | int | float | datetime.date):
        return local_naive(value)
    return str(value)


def _model_field(model, path: str):
    """The model field a values_list path ends on, or None (not a plain field)."""
    field = None
    for part in path.split("__"):
        if model is None:
            return None
        try:
            field = model._meta.get_field(part)
        except FieldDoesNotExist:
            return None
        model = field.related_model
    return None if field is None or field.is_relation else field


def column_plan(model, path: str, widget) -> tuple[str | None, object]:
    """(writer kind, conversion or None) of one export column, from its widget and the model
    field its path reads: values the database already gives in the cell's type are written
    as they come; only code lists, 是/否 and aware datetimes are converted."""
    field = _model_field(model, path)
    if isinstance(widget, ChoiceWidget | YesNoWidget):
        return TEXT, _converter(widget)
    if isinstance(widget, MoneyWidget) and isinstance(field, models.DecimalField):
        return MONEY, None
    if isinstance(widget, NumberWidget) and isinstance(field, models.IntegerField):
        return NUMBER, None
    if isinstance(widget, DateWidget) and isinstance(field, models.DateField):
        # DateTimeField is a DateField: its aware values become Beijing wall-clock time.
        return DATE, (local_naive if isinstance(field, models.DateTimeField) else None)
    if isinstance(field, models.CharField | models.TextField):
        # Text as it comes (every other converter gives a str back unchanged).
        return TEXT, None
    return ANY, _converter(widget)


def export_kinds(resource: SafeResource) -> list[str | None] | None:
    """The writer kind of each export column (in the order of export_headers); None for the
    users, whose rows are built per object (the roles column is not a field)."""
    if isinstance(resource, UserResource):
        return None
    return _plan(resource)[1]


def _plan(resource: SafeResource):
    model = resource._meta.model
    columns = resource.export_columns()
    plans = [column_plan(model, path, widget) for _h, path, widget in columns]
    paths = [path for _h, path, _w in columns]
    return paths, [kind for kind, _c in plans], [convert for _k, convert in plans]


def stream_rows(
    resource: SafeResource, queryset, chunk_size: int = CHUNK_SIZE
) -> Iterator[Sequence]:
    """Rows as typed sequences, read in chunks through values_list (memory flat in row
    count); only the columns that need it are converted (see column_plan)."""
    columns = resource.export_columns()
    queryset = resource.export_queryset(queryset)
    if isinstance(resource, UserResource):
        # Roles are a many-to-many: prefetched per chunk (one extra query a chunk).
        yield from _user_rows(resource, queryset, columns, chunk_size)
        return
    paths, _kinds, converters = _plan(resource)
    rows = queryset.values_list(*paths).iterator(chunk_size=chunk_size)
    converted = [(c, convert) for c, convert in enumerate(converters) if convert is not None]
    if not converted:
        yield from rows
        return
    for values in rows:
        row = list(values)
        for c, convert in converted:
            row[c] = convert(row[c])
        yield row


def _user_rows(resource, queryset, columns, chunk_size):
    paths = [path for _h, path, _w in columns]
    widgets_ = [widget for _h, _p, widget in columns]
    role_widget = resource.fields["roles"].widget
    for user in queryset.iterator(chunk_size=chunk_size):
        row = []
        for path, widget in zip(paths, widgets_, strict=True):
            value = user
            for part in path.split("__"):
                value = getattr(value, part, None) if value is not None else None
            row.append(_cell(value, widget))
        roles = role_widget.render([g.name for g in user.groups.all()])
        row.insert(7, roles)
        yield tuple(row)


def export_headers(resource: SafeResource) -> list[str]:
    return [field.column_name for field in resource.get_export_fields()]


def export_response(resource: SafeResource, queryset, filename: str) -> FileResponse:
    name = str(resource._meta.model._meta.verbose_name)
    rows = stream_rows(resource, queryset)
    return xlsx_response(export_headers(resource), rows, filename, name, export_kinds(resource))


def template_response(key: str, user) -> FileResponse:
    """An empty import template: the Chinese headers of the resource's import columns."""
    resource = RESOURCES[key](user=user)
    headers = [field.column_name for field in resource.get_import_fields()]
    name = str(resource._meta.model._meta.verbose_name)
    return xlsx_response(headers, [], f"{name}导入模板.xlsx", name)
