"""Reading an uploaded sheet: openpyxl read-only, values only, row numbers as Excel shows
them, without building a rich-text object for every inline-string cell.

Files written by openpyxl (our own templates) and by Java exporters (Apache POI's streaming
writer, as e-invoice platforms use) hold their text as inline strings; openpyxl turns each
into a `Text` tree just to join its runs, a third of the reading time of an invoice list.
Here such a cell's text is joined directly, exactly as `Text.content` does (the plain text,
then each run's text, phonetic hints left out); every other cell (numbers, dates, shared
strings, formulas) goes through openpyxl's own `parse_cell` unchanged. The test
`test_values_are_the_same_as_openpyxl_iter_rows` compares the two on a varied sheet.
"""

from __future__ import annotations

from collections.abc import Iterator

from openpyxl.utils import coordinate_to_tuple
from openpyxl.worksheet._reader import FORMULA_TAG, INLINE_STRING, WorkSheetParser
from openpyxl.xml.constants import SHEET_MAIN_NS

_TEXT = f"{{{SHEET_MAIN_NS}}}t"
_RUN = f"{{{SHEET_MAIN_NS}}}r"


class _ValuesParser(WorkSheetParser):
    def parse_cell(self, element):
        if element.get("t") != "inlineStr" or (
            not self.data_only and element.find(FORMULA_TAG) is not None
        ):
            return super().parse_cell(element)
        coordinate = element.get("r")
        if coordinate:
            row, column = coordinate_to_tuple(coordinate)
            self.col_counter = column
        else:
            self.col_counter += 1
            row, column = self.row_counter, self.col_counter
        child = element.find(INLINE_STRING)
        value, data_type = None, "inlineStr"
        if child is not None:
            parts = [child.find(_TEXT), *(run.find(_TEXT) for run in child.findall(_RUN))]
            value = "".join(part.text or "" for part in parts if part is not None)
            data_type = "s"
        style_id = element.get("s", 0)
        return {
            "row": row,
            "column": column,
            "value": value,
            "data_type": data_type,
            "style_id": int(style_id) if style_id else 0,
        }


def sheet_values(sheet) -> Iterator[tuple[int, tuple]]:
    """(Excel row number, the row's values from column A) of a read-only worksheet, for the
    rows the file holds (empty rows it leaves out are not yielded)."""
    workbook = sheet.parent
    with sheet._get_source() as source:
        parser = _ValuesParser(
            source,
            sheet._shared_strings,
            data_only=workbook.data_only,
            epoch=workbook.epoch,
            date_formats=workbook._date_formats,
            timedelta_formats=workbook._timedelta_formats,
        )
        for number, cells in parser.parse():
            values = [None] * max((cell["column"] for cell in cells), default=0)
            for cell in cells:
                values[cell["column"] - 1] = cell["value"]
            yield number, tuple(values)
