"""The limit of the export benches: raw XlsxWriter in constant-memory mode writing the same
cells the product writes, with nothing else.

It reads the same query (the resource's scoped queryset, `values_list` of the same paths,
`iterator` with the same chunk size), maps code lists to their labels and 是/否 with plain
dicts, and writes each column with the XlsxWriter method and number format of its type:
money as numbers with the money format, dates as dates with the date format, integers as
numbers, text as strings (the same workbook options, sheet name, bold header and column
width). It does not neutralise formulas, convert time zones or check scope rules: what the
product does beyond this is its overhead. `same_cells` checks that the two files hold the
same cells, so the limit is never a lighter job than the product.
"""

from __future__ import annotations

import hashlib
import zipfile

import xlsxwriter
from django.db import models

from projects.exchange import export as ie
from projects.exchange.widgets import ChoiceWidget, DateWidget, MoneyWidget, YesNoWidget
from projects.exchange.writer import DATE_FORMAT, MONEY_FORMAT


def write_limit(path: str, resource, queryset, sheet: str) -> None:
    columns = resource.export_columns()
    headers = ie.export_headers(resource)
    paths = [p for _h, p, _w in columns]
    book = xlsxwriter.Workbook(
        path, {"constant_memory": True, "strings_to_formulas": False, "strings_to_urls": False}
    )
    worksheet = book.add_worksheet(sheet[:31])
    bold = book.add_format({"bold": True})
    date_format = book.add_format({"num_format": DATE_FORMAT})
    money_format = book.add_format({"num_format": MONEY_FORMAT})
    worksheet.write_row(0, 0, headers, bold)
    worksheet.set_column(0, len(headers) - 1, 16)
    model = resource._meta.model
    plain, mapped = [], []
    for c, (_h, p, widget) in enumerate(columns):
        if isinstance(widget, ChoiceWidget):
            labels = {**widget.labels, None: "", "": ""}
            mapped.append((c, labels))
        elif isinstance(widget, YesNoWidget):
            mapped.append((c, {True: "是", False: "否", None: "否"}))
        elif isinstance(widget, MoneyWidget):
            plain.append((c, worksheet.write_number, money_format))
        elif isinstance(widget, DateWidget):
            plain.append((c, worksheet.write_datetime, date_format))
        elif isinstance(_field(model, p), models.IntegerField):
            plain.append((c, worksheet.write_number, None))
        else:
            plain.append((c, worksheet.write_string, None))
    write_string = worksheet.write_string
    queryset = resource.export_queryset(queryset)
    rows = queryset.values_list(*paths).iterator(chunk_size=ie.CHUNK_SIZE)
    for r, values in enumerate(rows, start=1):
        for c, write, cell_format in plain:
            value = values[c]
            if value is not None:
                write(r, c, value, cell_format)
        for c, labels in mapped:
            write_string(r, c, labels[values[c]])
    book.close()


def _field(model, path: str):
    for part in path.split("__")[:-1]:
        model = model._meta.get_field(part).related_model
    return model._meta.get_field(path.split("__")[-1])


def same_cells(first: str, second: str) -> bool:
    """Both xlsx files hold the same sheet, strings and styles (byte for byte)."""
    parts = ("xl/worksheets/sheet1.xml", "xl/styles.xml", "xl/workbook.xml")

    def digest(path):
        # Streamed: a million rows are close to 1 GB of sheet XML.
        digests = []
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
            for part in (p for p in parts if p in names):
                sha = hashlib.sha256()
                with archive.open(part) as handle:
                    for block in iter(lambda handle=handle: handle.read(1 << 20), b""):
                        sha.update(block)
                digests.append(sha.digest())
        return digests

    return digest(first) == digest(second)
