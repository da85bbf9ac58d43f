"""Writing xlsx for people, and the one formula neutraliser.

- `neutralise`: text a spreadsheet would run as a formula (CSV/formula injection: it starts
  with = + - @, or with a tab or CR) gets a leading apostrophe. Leading white space of any
  script (U+3000, U+00A0 …) and control characters are looked through first: a spreadsheet
  or a CSV consumer that trims them would otherwise run `' =1+1'`. `restore` undoes it on
  import, so export → import gives back the same text. Every text cell any xlsx of the
  application writes goes through `neutralise` (here, the 申请书, the reports, the money
  sheets).
- `write_xlsx`: the one streaming writer (XlsxWriter in constant-memory mode, each row to
  disk as it is written); numbers and dates stay typed. A caller that knows its columns
  (the exports) passes one kind per column (TEXT, MONEY, NUMBER, DATE), so the writer is
  chosen once per column instead of by a type check per cell.
- `add_sheet` / `workbook_response`: small multi-sheet workbooks built in memory (openpyxl)
  for per-project documents, with the same rules.
"""

from __future__ import annotations

import datetime
import os
import tempfile
import unicodedata
from collections.abc import Iterable, Sequence
from decimal import Decimal
from io import BytesIO

from django.http import FileResponse, HttpResponse
from django.utils import timezone

from projects.downloads import protect_download

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MONEY_FORMAT = "#,##0.00"
DATE_FORMAT = "yyyy-mm-dd"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm"

# A cell whose text (after leading blanks) starts with one of these is run as a formula.
FORMULA_TRIGGERS = ("=", "+", "-", "@")
# Dangerous as the very first character even when followed by harmless text (OWASP).
LEADING_TRIGGERS = ("\t", "\r", "\n")


def _is_blank(ch: str) -> bool:
    """White space of any script, and control/format characters (category Z*, Cc, Cf)."""
    return ch.isspace() or unicodedata.category(ch) in ("Cc", "Cf", "Zs", "Zl", "Zp")


def strip_blanks(text: str) -> str:
    """Text with leading and trailing blanks (any Unicode white space, controls) removed."""
    start, end = 0, len(text)
    while start < end and _is_blank(text[start]):
        start += 1
    while end > start and _is_blank(text[end - 1]):
        end -= 1
    return text[start:end]


def _is_trigger(ch: str) -> bool:
    """= + - @, also in their full-width forms (＝ ＋ － ＠ fold to them under NFKC)."""
    if ch in FORMULA_TRIGGERS:
        return True
    return ch > "\x7f" and unicodedata.normalize("NFKC", ch)[:1] in FORMULA_TRIGGERS


# First characters known to start harmless text (neither a trigger nor a blank): the common
# case is decided by one set lookup. Printable ASCII is known up front; any other character
# is judged once by the full rules and remembered if harmless (bounded, so memory stays flat).
SAFE_FIRST = {chr(code) for code in range(0x21, 0x7F)} - set(FORMULA_TRIGGERS)
SAFE_FIRST_MAX = 65536


def looks_like_formula(value) -> bool:
    """Would a spreadsheet (or a CSV consumer that trims blanks) run this text?"""
    if not isinstance(value, str) or not value:
        return False
    first = value[0]
    if first in SAFE_FIRST:
        return False
    if first in LEADING_TRIGGERS or _is_trigger(first):
        return True
    if not _is_blank(first):
        if len(SAFE_FIRST) < SAFE_FIRST_MAX:
            SAFE_FIRST.add(first)
        return False  # the common case, decided on the first character
    rest = strip_blanks(value)
    return bool(rest) and _is_trigger(rest[0])


def neutralise(value):
    """Text that a spreadsheet would run as a formula is prefixed with an apostrophe."""
    return "'" + value if looks_like_formula(value) else value


def restore(value):
    """Undo `neutralise` on import, so that export → import gives back the same text."""
    if isinstance(value, str) and value.startswith("'") and looks_like_formula(value[1:]):
        return value[1:]
    return value


def clean_imported_text(value):
    """An imported text cell: blanks trimmed first, then an exported apostrophe undone.

    The trimming comes first so that `'\\u3000=1+1'` is judged as `=1+1` (and neutralised
    on every output), never kept as harmless-looking text."""
    if not isinstance(value, str):
        return value
    return restore(strip_blanks(value))


def local_naive(value):
    """An aware datetime as Beijing wall-clock time (xlsx has no time zones)."""
    if isinstance(value, datetime.datetime) and timezone.is_aware(value):
        return timezone.localtime(value).replace(tzinfo=None)
    return value


# --- the streaming writer -------------------------------------------------------------------


# Column kinds for `write_xlsx`. TEXT: str or None (neutralised); MONEY: Decimal, with the
# money format; NUMBER: int or float, no format; DATE: date or naive datetime, date format;
# ANY (None): decided per cell by its type, as for a caller that does not know its columns.
TEXT, MONEY, NUMBER, DATE, ANY = "text", "money", "number", "date", None


def write_xlsx(
    path: str,
    headers: list[str],
    rows: Iterable[Sequence],
    sheet: str = "Sheet1",
    kinds: Sequence[str | None] | None = None,
):
    """XlsxWriter in constant-memory mode: each row goes to disk as it is written.

    Cells arrive typed (Decimal, int, date, datetime, text); text is neutralised here too,
    so no caller can forget it. With `kinds` (one per column) each column is written by the
    one XlsxWriter method of its kind, chosen here once; a cell of None stays empty."""
    import xlsxwriter

    workbook = xlsxwriter.Workbook(
        path, {"constant_memory": True, "strings_to_formulas": False, "strings_to_urls": False}
    )
    worksheet = workbook.add_worksheet(sheet[:31])
    bold = workbook.add_format({"bold": True})
    date_format = workbook.add_format({"num_format": DATE_FORMAT})
    money_format = workbook.add_format({"num_format": MONEY_FORMAT})
    worksheet.write_row(0, 0, [neutralise(h) for h in headers], bold)
    if headers:
        worksheet.set_column(0, len(headers) - 1, 16)
    kinds = list(kinds) if kinds is not None else [ANY] * len(headers)
    columns = {kind: [c for c, k in enumerate(kinds) if k == kind] for kind in set(kinds)}
    text = columns.get(TEXT, ())
    money = columns.get(MONEY, ())
    number = columns.get(NUMBER, ())
    date = columns.get(DATE, ())
    other = columns.get(ANY, ())
    write_string = worksheet.write_string
    write_number = worksheet.write_number
    write_datetime = worksheet.write_datetime
    safe_first = SAFE_FIRST
    # Cells of one row may be written in any column order: the row is flushed when the next
    # row starts, its cells in column order.
    for r, row in enumerate(rows, start=1):
        for c in text:
            value = row[c]
            if value is not None:
                if value and value[0] not in safe_first:
                    value = neutralise(value)
                write_string(r, c, value)
        for c in money:
            value = row[c]
            if value is not None:
                write_number(r, c, value, money_format)
        for c in date:
            value = row[c]
            if value is not None:
                write_datetime(r, c, value, date_format)
        for c in number:
            value = row[c]
            if value is not None:
                write_number(r, c, value)
        for c in other:
            value = row[c]
            if value is not None:
                _write_any(worksheet, r, c, value, date_format, money_format)
    workbook.close()


def _write_any(worksheet, r: int, c: int, value, date_format, money_format) -> None:
    """One cell of a column of no declared kind, by its type."""
    if isinstance(value, Decimal):
        worksheet.write_number(r, c, value, money_format)
    elif isinstance(value, datetime.datetime | datetime.date):
        worksheet.write_datetime(r, c, local_naive(value), date_format)
    elif isinstance(value, int | float):
        worksheet.write_number(r, c, value)
    else:
        worksheet.write_string(r, c, neutralise(str(value)))


def file_response(write, filename: str) -> FileResponse:
    """Call `write(path)` on a temporary file, then stream it; gone once the response closes."""
    handle, path = tempfile.mkstemp(suffix=".xlsx")
    os.close(handle)
    try:
        write(path)
        stream = open(path, "rb")  # noqa: SIM115 (closed by FileResponse)
    finally:
        os.unlink(path)  # POSIX: the open handle keeps the data until it is closed
    response = FileResponse(stream, content_type=XLSX_CONTENT_TYPE)
    protect_download(response, filename)
    return response


def xlsx_response(headers, rows, filename: str, sheet: str = "Sheet1", kinds=None) -> FileResponse:
    return file_response(lambda path: write_xlsx(path, headers, rows, sheet, kinds), filename)


# --- small in-memory workbooks (openpyxl) ---------------------------------------------------


def safe_value(value):
    """A cell value for openpyxl: money and dates typed, text neutralised."""
    if isinstance(value, str):
        return neutralise(value)
    return local_naive(value)


def style_cell(cell) -> None:
    """Number formats for typed cells; text is always a string cell, never a formula."""
    if isinstance(cell.value, Decimal):
        cell.number_format = MONEY_FORMAT
    elif isinstance(cell.value, datetime.datetime):
        cell.number_format = DATETIME_FORMAT
    elif isinstance(cell.value, datetime.date):
        cell.number_format = DATE_FORMAT
    elif isinstance(cell.value, str):
        cell.data_type = "s"


def add_sheet(workbook, title: str, headers: list[str], rows, *, first=False):
    from openpyxl.styles import Font

    sheet = workbook.active if first else workbook.create_sheet()
    sheet.title = title[:31]
    sheet.append([safe_value(h) for h in headers])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
        style_cell(cell)
    for row in rows:
        sheet.append([safe_value(value) for value in row])
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            style_cell(cell)
    for index, header in enumerate(headers, 1):
        sheet.column_dimensions[sheet.cell(1, index).column_letter].width = max(
            12, len(str(header)) * 2 + 2
        )
    return sheet


def workbook_response(workbook, filename: str) -> HttpResponse:
    buffer = BytesIO()
    workbook.save(buffer)
    response = HttpResponse(buffer.getvalue(), content_type=XLSX_CONTENT_TYPE)
    protect_download(response, filename)
    return response
