"""The import's sheet reader gives exactly the values of openpyxl's read-only iter_rows."""

import datetime
from decimal import Decimal
from io import BytesIO

from openpyxl import Workbook, load_workbook
from openpyxl.cell.rich_text import CellRichText, TextBlock
from openpyxl.cell.text import InlineFont

from projects.exchange.reader import sheet_values


def varied_workbook() -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["发票代码", "金额", "开票日期", "说明", "空"])
    sheet.append(["3100231130", 100.5, datetime.date(2026, 1, 5), "  前后有空格 ", None])
    sheet.append([None, Decimal("12.30"), datetime.datetime(2026, 2, 1, 8, 30), "=1+1", ""])
    sheet.append(
        [1, True, "2026-03-01", CellRichText("粗", TextBlock(InlineFont(b=True), "体")), 0]
    )
    sheet["G7"] = "远处的单元格"  # rows 5 and 6 left out, a wider row
    sheet["A9"] = "=SUM(B2:B3)"
    buffer = BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def test_values_are_the_same_as_openpyxl_iter_rows():
    content = varied_workbook()
    expected = {
        number: tuple(v for v in values)
        for number, values in enumerate(
            load_workbook(BytesIO(content), read_only=True)
            .worksheets[0]
            .iter_rows(values_only=True),
            start=1,
        )
        if any(v is not None for v in values)
    }
    got = dict(sheet_values(load_workbook(BytesIO(content), read_only=True).worksheets[0]))
    assert set(got) == set(expected) == {1, 2, 3, 4, 7, 9}
    for number, values in got.items():
        width = len(values)
        assert values == expected[number][:width], number
        assert not any(v is not None for v in expected[number][width:])
    assert got[2][3] == "  前后有空格 " and got[4][3] == "粗体" and got[3][3] == "=1+1"
    assert got[9][0] == "=SUM(B2:B3)"
