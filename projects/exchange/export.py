"""The resources each admin uses, and the streaming export: rows read in chunks through
values_list, converted once per column, written by the one streaming writer
(projects.exchange.writer.write_xlsx, which neutralises every text cell)."""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from decimal import Decimal

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
from projects.exchange.writer import local_naive, xlsx_response

RESOURCES = {
    "organization": OrganizationResource,
    "user": UserResource,
    "project": ProjectResource,
    "disbursement": DisbursementResource,
    "invoice": InvoiceResource,
}
IMPORTABLE = {"organization", "user", "project"}

# --- streaming xlsx -------------------------------------------------------------------------


def _cell(value, widget):
    """Typed cell value: numbers and dates stay numbers and dates."""
    return _converter(widget)(value)


def _converter(widget):
    """One conversion function per column, chosen once (not per cell)."""
    if isinstance(widget, ChoiceWidget):
        labels = widget.labels
        return lambda value: "" if value in (None, "") else labels.get(value, str(value))
    if isinstance(widget, YesNoWidget):
        return lambda value: "是" if value else "否"
    if isinstance(widget, MoneyWidget | NumberWidget | DateWidget):
        return local_naive
    return _text


def _text(value):
    """Text as text (the writer neutralises it); a typed value in a text column stays typed."""
    if value is None or isinstance(value, Decimal | int | float | datetime.date):
        return local_naive(value)
    return str(value)


def stream_rows(resource: SafeResource, queryset, chunk_size: int = 2000) -> Iterator[tuple]:
    """Rows as typed tuples, read in chunks through values_list (memory flat in row count)."""
    columns = resource.export_columns()
    queryset = resource.export_queryset(queryset)
    if isinstance(resource, UserResource):
        # Roles are a many-to-many: prefetched per chunk (one extra query a chunk).
        yield from _user_rows(resource, queryset, columns, chunk_size)
        return
    paths = [path for _h, path, _w in columns]
    converters = [_converter(widget) for _h, _p, widget in columns]
    for values in queryset.values_list(*paths).iterator(chunk_size=chunk_size):
        yield tuple([convert(v) for convert, v in zip(converters, values, strict=True)])


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
    return xlsx_response(export_headers(resource), stream_rows(resource, queryset), filename, name)


def template_response(key: str, user) -> FileResponse:
    """An empty import template: the Chinese headers of the resource's import columns."""
    resource = RESOURCES[key](user=user)
    headers = [field.column_name for field in resource.get_import_fields()]
    name = str(resource._meta.model._meta.verbose_name)
    return xlsx_response(headers, [], f"{name}导入模板.xlsx", name)
