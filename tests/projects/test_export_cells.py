"""The streaming export's cells, pinned per column (issue 15): the writer is chosen once per
column from its declared kind, and what it writes is what the per-cell type dispatch wrote:
money as numbers in the money format, dates as dates, integers as numbers, code lists as
their labels, text as text with formulas neutralised, empty values as empty cells."""

import datetime
import io
import zipfile
from decimal import Decimal

import pytest
from django.utils import timezone
from openpyxl import load_workbook

from accounts.models import User
from projects.exchange import export as ie
from projects.exchange import writer
from projects.exchange.widgets import DateWidget
from projects.models import Invoice, Project
from tests.factories import BudgetLineFactory, ProjectFactory

TRICKY_TEXT = ["=1+1", "－1", "\u3000=SUM(A1)", "@cmd", "中文名称", "'已有撇号", "", " 前导空格"]


def workbook_of(response):
    return load_workbook(io.BytesIO(b"".join(response.streaming_content))).active


def superuser():
    return User(username="root", is_superuser=True, is_staff=True, is_active=True)


def columns(sheet) -> dict[str, list]:
    header = [cell.value for cell in sheet[1]]
    return {name: [row[i] for row in sheet.iter_rows(min_row=2)] for i, name in enumerate(header)}


def test_each_export_column_has_one_declared_kind():
    kinds = {
        key: dict(
            zip(
                ie.export_headers(cls(user=superuser())),
                ie.export_kinds(cls(user=superuser())),
                strict=True,
            )
        )
        for key, cls in ie.RESOURCES.items()
        if key != "user"
    }
    assert kinds["invoice"] == {
        "项目编号": writer.TEXT,
        "申报组织": writer.TEXT,
        "票据种类": writer.TEXT,
        "发票代码": writer.TEXT,
        "发票号码": writer.TEXT,
        "开票日期": writer.DATE,
        "销售方名称": writer.TEXT,
        "销售方纳税人识别号": writer.TEXT,
        "购买方名称(抬头)": writer.TEXT,
        "金额": writer.MONEY,
        "税额": writer.MONEY,
        "价税合计": writer.MONEY,
        "审核结果": writer.TEXT,
        "不合格原因": writer.TEXT,
    }
    project = kinds["project"]
    assert project["年度"] == writer.NUMBER
    assert project["开始日期"] == project["结束日期"] == writer.DATE
    assert {project[h] for h in ("申请金额", "核定金额", "结算金额", "票据不合格损失")} == {
        writer.MONEY
    }
    assert project["核定等级"] == project["优秀项目"] == project["状态"] == writer.TEXT
    # Every column of these resources is declared: none falls back to a per-cell check.
    assert all(writer.ANY not in kinds[key].values() for key in kinds)
    # The users' rows are built per object (roles are not a field): checked per cell.
    assert ie.export_kinds(ie.UserResource(user=superuser())) is None


@pytest.mark.django_db
def test_invoice_export_cells_are_typed_per_column():
    project = ProjectFactory()
    line = BudgetLineFactory(project=project, quantity=Decimal("1"), unit_price=Decimal("1.00"))
    day = datetime.date(2026, 3, 31)
    Invoice.objects.bulk_create(
        Invoice(
            project=project,
            budget_line=line,
            kind=Invoice.Kind.VAT_ORDINARY,
            code="",
            number=f"{n:08d}",
            identity=f"X:{n:08d}",
            issue_date=day,
            seller_name=text,
            seller_tax_id="91350100M000100Y43",
            buyer_name="甲社区党支部",
            amount=Decimal("1234.50"),
            tax=Decimal("0.05"),
            total=Decimal("1234.55"),
            check_reason="",
            created_by=project.leader,
        )
        for n, text in enumerate(TRICKY_TEXT)
    )
    resource = ie.InvoiceResource(user=superuser())
    sheet = workbook_of(ie.export_response(resource, Invoice.objects.order_by("number"), "x.xlsx"))
    cells = columns(sheet)
    for name in ("金额", "税额", "价税合计"):
        assert {(c.data_type, c.number_format) for c in cells[name]} == {("n", "#,##0.00")}
    assert [c.value for c in cells["价税合计"]] == [1234.55] * len(TRICKY_TEXT)
    assert {(c.is_date, c.number_format) for c in cells["开票日期"]} == {(True, "yyyy-mm-dd")}
    assert {c.value for c in cells["开票日期"]} == {datetime.datetime(2026, 3, 31)}
    assert {c.value for c in cells["票据种类"]} == {str(Invoice.Kind.VAT_ORDINARY.label)}
    assert {c.value for c in cells["审核结果"]} == {str(Invoice.CheckStatus.PENDING.label)}
    assert {c.value for c in cells["项目编号"]} == {project.code}
    sellers = [c.value for c in cells["销售方名称"]]
    assert sellers[:6] == ["'=1+1", "'－1", "'\u3000=SUM(A1)", "'@cmd", "中文名称", "'已有撇号"]
    assert sellers[6] in ("", None) and sellers[7] == " 前导空格"
    assert all(c.data_type == "s" for c in cells["销售方名称"] if c.value is not None)


@pytest.mark.django_db
def test_project_export_cells_are_typed_per_column():
    ProjectFactory(
        title="+宣讲",
        settlement_amount=None,
        approved_amount=Decimal("3000.00"),
        start_date=datetime.date(2026, 4, 1),
    )
    resource = ie.ProjectResource(user=superuser())
    cells = {
        k: v[0]
        for k, v in columns(
            workbook_of(ie.export_response(resource, Project.objects.all(), "x.xlsx"))
        ).items()
    }
    project = Project.objects.get()
    assert (cells["年度"].value, cells["年度"].data_type) == (project.year, "n")
    assert cells["年度"].number_format == "General"
    assert cells["结算金额"].value is None  # empty money stays an empty cell
    assert (cells["核定金额"].value, cells["核定金额"].number_format) == (3000, "#,##0.00")
    assert cells["开始日期"].value == datetime.datetime(2026, 4, 1)
    assert cells["开始日期"].number_format == "yyyy-mm-dd"
    assert cells["项目名称"].value == "'+宣讲"
    assert cells["优秀项目"].value == "否"
    assert cells["状态"].value == str(project.get_state_display())


def sheet_xml(kinds, rows) -> bytes:
    buffer = io.BytesIO()
    writer.write_xlsx(buffer, ["文本", "金额", "日期", "整数"], rows, "表", kinds)
    with zipfile.ZipFile(buffer) as archive:
        return archive.read("xl/worksheets/sheet1.xml")


def test_declared_kinds_write_what_the_per_cell_dispatch_writes():
    moment = datetime.datetime(2026, 12, 2, 23, 59)
    rows = [
        (text, Decimal("-0.10"), datetime.date(2026, 1, 1), 7)
        for text in [*TRICKY_TEXT, "\t1", "\r=1", "\xa0@x", "\u200b=1", "＋1", "普通", None]
    ]
    rows += [(None, None, None, None), ("x", Decimal("1e3"), moment, 0)]
    declared = [writer.TEXT, writer.MONEY, writer.DATE, writer.NUMBER]
    assert sheet_xml(declared, rows) == sheet_xml(None, rows)
    assert b"<t>'=1+1</t>" in sheet_xml(declared, rows)


@pytest.mark.parametrize("text", ["＝1+1", "\u3000=1", "\xa0@x", "\u200b=1", "－1", " =1"])
def test_the_first_character_shortcut_never_remembers_a_trigger_or_a_blank(text):
    assert writer.looks_like_formula(text)
    assert writer.looks_like_formula("中" + text) is False  # remembered as harmless
    assert "中" in writer.SAFE_FIRST
    assert text[0] not in writer.SAFE_FIRST
    assert writer.looks_like_formula(text)  # still caught the second time
    assert writer.neutralise(text) == "'" + text


@pytest.mark.django_db
def test_aware_datetimes_in_a_date_column_are_beijing_time():
    from projects.models import BackgroundJob

    column = ie.column_plan(BackgroundJob, "created_at", DateWidget())
    assert column[0] == writer.DATE
    utc = datetime.datetime(2026, 12, 2, 17, 30, tzinfo=datetime.UTC)
    assert column[1](utc) == timezone.localtime(utc).replace(tzinfo=None)
    assert column[1](utc) == datetime.datetime(2026, 12, 3, 1, 30)
