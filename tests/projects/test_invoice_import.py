"""Invoice import from xlsx: all or nothing, each bad row reported with its row number."""

from decimal import Decimal
from io import BytesIO

import pytest
from django.utils import timezone
from openpyxl import Workbook, load_workbook

from projects.models.money import Invoice
from projects.services import WorkflowError
from projects.services.invoice_imports import COLUMNS, invoice_import, invoice_import_template
from projects.services.invoices import invoice_add
from tests.projects import fixtures_money
from tests.projects.fixtures_money import invoice_data

pytestmark = pytest.mark.django_db
accepted = fixtures_money.accepted
HEADERS = list(COLUMNS)


def row(project, number, **overrides):
    values = {
        "发票代码": "3100231130",
        "发票号码": number,
        "开票日期": timezone.localdate(),
        "销售方名称": "示例文化用品有限公司",
        "销售方纳税人识别号": "91350100M000100Y43",
        "购买方名称": project.organization.name,
        "金额": 100.1,  # numeric cells arrive as floats
        "税额": 0,
        "价税合计": 100.1,
        "票据种类": "增值税普通发票",
        "预算明细": 1,
        "购买方纳税人识别号": "",
    }
    values.update(overrides)
    return [values[h] for h in HEADERS]


def xlsx(rows, headers=HEADERS) -> BytesIO:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(headers)
    for values in rows:
        sheet.append(values)
    buffer = BytesIO()
    workbook.save(buffer)
    buffer.seek(0)
    return buffer


def test_good_file_is_imported_in_full(accepted, applicant):
    rows = [row(accepted, f"{20000000 + i}") for i in range(30)]
    preview = invoice_import(project=accepted, source=xlsx(rows), actor=applicant, dry_run=True)
    assert preview.ok and len(preview.rows) == 30 and not Invoice.objects.exists()
    result = invoice_import(project=accepted, source=xlsx(rows), actor=applicant, dry_run=False)
    assert result.ok and result.created == 30
    assert Invoice.objects.filter(project=accepted).count() == 30
    assert Invoice.objects.first().total == Decimal("100.10")


def test_bad_rows_are_reported_by_row_number_and_nothing_is_imported(accepted, applicant):
    rows = [
        row(accepted, "20000001"),
        row(accepted, "2000000"),  # row 3: 7-digit number
        row(accepted, "20000003", 销售方纳税人识别号="91350100M000100Y44"),  # row 4
        row(accepted, "20000004", 金额=100, 税额=13, 价税合计=114),  # row 5
        row(accepted, "20000005", 金额=-1, 税额=2, 价税合计=1),  # row 6: mixed signs
        row(accepted, "20000006", 金额=1.234, 价税合计=1.234),  # row 7
        row(accepted, "20000001"),  # row 8: same invoice as row 2
        row(accepted, "20000008", 销售方名称='=HYPERLINK("http://x")'),  # row 9
        row(accepted, "20000009", 预算明细=7),  # row 10
        row(accepted, "20000010", 开票日期="明天"),  # row 11
    ]
    result = invoice_import(project=accepted, source=xlsx(rows), actor=applicant, dry_run=False)
    assert not result.ok and result.created == 0
    assert not Invoice.objects.exists()
    by_row = {r.row_number: "；".join(r.errors) for r in result.bad_rows}
    assert sorted(by_row) == [3, 4, 5, 6, 7, 8, 9, 10, 11]
    assert "8位数字" in by_row[3]
    assert "统一社会信用代码" in by_row[4]
    assert "不等于价税合计" in by_row[5]
    assert "蓝字发票的金额和税额不能为负数" in by_row[6]
    assert "两位小数" in by_row[7]
    assert "第2行" in by_row[8]
    assert "公式" in by_row[9]
    assert "找不到" in by_row[10]
    assert "日期" in by_row[11]
    assert all(message.startswith("第") for message in result.messages())


def test_a_red_invoice_row_is_imported_with_its_negative_amounts(accepted, applicant):
    rows = [row(accepted, "20000021", 金额=-100.1, 价税合计=-100.1)]
    result = invoice_import(project=accepted, source=xlsx(rows), actor=applicant, dry_run=False)
    assert result.ok, result.messages()
    assert Invoice.objects.get().total == Decimal("-100.10")


def test_already_claimed_invoice_in_the_file_blocks_the_import(accepted, applicant):
    claimed = invoice_add(project=accepted, actor=applicant, **invoice_data(accepted))
    rows = [row(accepted, "20000001"), row(accepted, " " + claimed.number.replace("1", "１"))]
    result = invoice_import(project=accepted, source=xlsx(rows), actor=applicant, dry_run=False)
    assert [r.row_number for r in result.bad_rows] == [3]
    assert "只能报销一次" in result.bad_rows[0].errors[0]
    assert Invoice.objects.count() == 1


def test_unreadable_or_wrong_files(accepted, applicant):
    for source, message in (
        (BytesIO(b"not a spreadsheet"), "无法读取"),
        (xlsx([], headers=["发票号码", "金额"]), "缺少列"),
        (xlsx([]), "没有发票数据"),
    ):
        result = invoice_import(project=accepted, source=source, actor=applicant, dry_run=False)
        assert not result.ok and message in result.messages()[0]
    assert not Invoice.objects.exists()


def test_import_respects_role_and_state(accepted, applicant, outsider, finance, approved):
    rows = [row(accepted, "20000001")]
    for actor in (outsider, finance):
        with pytest.raises(WorkflowError):
            invoice_import(project=accepted, source=xlsx(rows), actor=actor, dry_run=True)


def test_rows_as_dicts_for_the_benchmark(accepted, applicant):
    rows = [dict(zip(HEADERS, row(accepted, f"{30000000 + i}"), strict=True)) for i in range(5)]
    result = invoice_import(project=accepted, source=rows, actor=applicant, dry_run=False)
    assert result.created == 5


def test_template_lists_headers_and_budget_lines_and_reimports(accepted, applicant):
    accepted.organization.uscc = "91110108551385082Q"
    accepted.organization.save()
    workbook = invoice_import_template(project=accepted)
    buffer = BytesIO()
    workbook.save(buffer)
    buffer.seek(0)
    loaded = load_workbook(buffer)
    assert [c.value for c in loaded["发票清单"][1]] == HEADERS
    assert loaded["预算明细"]["C2"].value == accepted.budget_lines.get().description
    assert loaded["发票清单"]["L2"].value == accepted.organization.uscc
    buffer.seek(0)
    result = invoice_import(project=accepted, source=buffer, actor=applicant, dry_run=True)
    assert result.ok, result.messages()  # the example row itself is valid


# --- issue 10: one money parser, formulas after normalising, cross-kind and script digits -


def test_thousands_separators_are_accepted_and_three_decimals_refused(accepted, applicant):
    good = row(accepted, "21000001", 金额="1,000.00", 价税合计="1,000.00")
    result = invoice_import(project=accepted, source=xlsx([good]), actor=applicant, dry_run=True)
    assert result.ok, result.messages()
    bad = [
        row(accepted, "21000002", 金额=12.345, 价税合计=12.345),  # a float cell, never rounded
        row(accepted, "21000003", 金额="1e3", 价税合计="1e3"),
        row(accepted, "21000004", 金额="+100", 价税合计="+100"),
        row(accepted, "21000005", 金额="1_000", 价税合计="1_000"),
        row(accepted, "21000006", 金额="١٠٠", 价税合计="١٠٠"),
    ]
    result = invoice_import(project=accepted, source=xlsx(bad), actor=applicant, dry_run=False)
    assert len(result.bad_rows) == 5, result.messages()
    assert "最多保留两位小数" in result.messages()[0]
    assert not Invoice.objects.exists()


@pytest.mark.parametrize("cell", [" =1+1", "\r=1", "\u3000=1+1", "\xa0@SUM(A1)", "\t+1"])
def test_formula_guard_runs_after_whitespace_is_stripped(accepted, applicant, cell):
    result = invoice_import(
        project=accepted,
        source=xlsx([row(accepted, "21100001", 销售方名称=cell)]),
        actor=applicant,
        dry_run=False,
    )
    assert not result.ok and "公式" in result.messages()[0]
    assert not Invoice.objects.exists()


def test_same_invoice_under_two_kinds_in_one_file_is_one_invoice(accepted, applicant):
    rows = [
        row(accepted, "12345678", 发票代码="310023113011"),
        row(accepted, "31002311301112345678", 发票代码="", 票据种类="数电发票"),
        row(accepted, "١٢٣٤٥٦٧٨"),  # Arabic-Indic digits: not a number at all
    ]
    result = invoice_import(project=accepted, source=xlsx(rows), actor=applicant, dry_run=False)
    messages = result.messages()
    assert "第3行" in messages[0] and "与第2行是同一张发票" in messages[0]
    assert "第4行" in messages[1] and "应为8位数字" in messages[1]
    assert not Invoice.objects.exists()


@pytest.fixture(scope="module")
def bomb_path(tmp_path_factory):
    """A 1 MB xlsx whose shared strings inflate to 1 GiB."""
    import zipfile

    plain = xlsx([]).getvalue()
    path = tmp_path_factory.mktemp("bomb") / "bomb.xlsx"
    with zipfile.ZipFile(BytesIO(plain)) as source, zipfile.ZipFile(path, "w", 8) as bomb:
        for info in source.infolist():
            if info.filename != "xl/sharedStrings.xml":
                bomb.writestr(info.filename, source.read(info.filename))
        with bomb.open("xl/sharedStrings.xml", "w", force_zip64=True) as part:
            part.write(b'<?xml version="1.0"?><sst count="1" uniqueCount="1"><si><t>')
            chunk = b"A" * (1 << 20)
            for _ in range(1024):
                part.write(chunk)
            part.write(b"</t></si></sst>")
    assert path.stat().st_size < 2 * 1024 * 1024
    return path


def test_xlsx_bomb_is_refused_before_parsing_without_memory_growth(accepted, applicant, bomb_path):
    import tracemalloc

    tracemalloc.start()
    try:
        with open(bomb_path, "rb") as handle:
            result = invoice_import(project=accepted, source=handle, actor=applicant, dry_run=True)
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert not result.ok
    assert "解压后超过" in result.messages()[0]
    assert peak < 16 * 1024 * 1024  # the 1 GiB part was never inflated into memory


def test_bounds_check_limits_the_size_and_the_ratio():
    import zipfile

    from django.core.exceptions import ValidationError

    from projects.uploads import check_ooxml_bounds

    buffer = BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("a.xml", b"<a>" + b"x" * 3000 + b"</a>")
    buffer.seek(0)
    check_ooxml_bounds(buffer)  # small and ordinary: accepted, position restored
    assert buffer.tell() == 0
    # Lower limits: the declared size, then the ratio, each refused in Chinese.
    with pytest.raises(ValidationError, match="解压后超过"):
        check_ooxml_bounds(buffer, max_uncompressed=1000)
    big = BytesIO()
    with zipfile.ZipFile(big, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("b.xml", b"y" * (4 * 1024 * 1024))
    with pytest.raises(ValidationError, match="压缩比异常"):
        check_ooxml_bounds(big)
    with pytest.raises(ValidationError, match="无法读取"):
        check_ooxml_bounds(BytesIO(b"PK\x03\x04 not really"))


def test_an_import_is_one_verifiable_event_with_before_and_after(accepted, applicant):
    from projects.models import ProjectHistory
    from projects.services import events

    rows = [row(accepted, f"{22000000 + i}") for i in range(3)]
    invoice_import(project=accepted, source=xlsx(rows), actor=applicant, dry_run=False)
    event = ProjectHistory.objects.filter(project=accepted).order_by("-seq").first()
    assert event.transition == "invoice_import" and event.data["count"] == 3
    assert event.data["before"] == {"invoices": 0, "invoiced": "0.00"}
    assert event.data["after"] == {"invoices": 3, "invoiced": "300.30"}
    assert events.verify().ok


def test_the_migration_computes_the_same_identity_as_the_service():
    import importlib

    from projects.services.invoices import invoice_identity

    migration = importlib.import_module("projects.migrations.0009_invoice_identity_across_kinds")
    for code, number in (
        ("3100231130", "12345678"),
        ("310023113011", "１２３４５６７８"),
        ("", "31002311301112345678"),
        ("", "AB12"),
        ("ab", "x 1"),
        ("123", "4567"),
    ):
        assert migration.identity(code, number) == invoice_identity(code, number)


def test_a_value_parsed_once_per_batch_still_reports_every_row(accepted, applicant):
    # The batch parses each distinct cell value once: a repeated bad amount is reported on
    # each of its rows, and equal values of other types (1 and True, 100 and "100") are
    # judged each by their own type.
    rows = [
        row(accepted, "22000001", 金额="12.345", 价税合计="12.345"),
        row(accepted, "22000002", 金额="12.345", 价税合计="12.345"),
        row(accepted, "22000003", 金额=100, 税额=0, 价税合计=100),
        row(accepted, "22000004", 金额="１００", 税额="0", 价税合计="100"),  # full-width digits
        row(accepted, "22000005", 票据种类="  增值税 普通发票 "),
        row(accepted, "22000006", 票据种类="增值税普通发票x"),
    ]
    result = invoice_import(project=accepted, source=xlsx(rows), actor=applicant, dry_run=True)
    bad = {r.row_number: r.errors for r in result.bad_rows}
    assert set(bad) == {2, 3, 7}, result.messages()
    assert all("最多保留两位小数" in bad[n][0] for n in (2, 3))
    assert "无法识别" in bad[7][0]
    fine = {r.row_number: r.values for r in result.rows if not r.errors}
    assert fine[4]["amount"] == fine[5]["amount"] == Decimal("100.00")
    assert fine[6]["kind"] == Invoice.Kind.VAT_ORDINARY


# --- issue 12: the buyer's tax ID column, so the buyer-tax-ID risk rule sees imported rows --

ORG_USCC = "91110108551385082Q"
THIRD_USCC = "91350100M000100Y43"


def test_buyer_tax_id_column_is_imported_and_flagged_when_not_the_organisations(
    accepted, applicant
):
    from projects.selectors.invoices import invoice_risks

    accepted.organization.uscc = ORG_USCC
    accepted.organization.save()
    rows = [
        row(accepted, "40000001", 购买方纳税人识别号=ORG_USCC),
        row(accepted, "40000002", 购买方纳税人识别号=THIRD_USCC),
    ]
    result = invoice_import(project=accepted, source=xlsx(rows), actor=applicant, dry_run=False)
    assert result.ok, result.messages()
    own = Invoice.objects.get(number="40000001")
    other = Invoice.objects.get(number="40000002")
    assert own.buyer_tax_id == ORG_USCC and other.buyer_tax_id == THIRD_USCC
    assert [r.key for r in invoice_risks(own)] == []
    risks = invoice_risks(other)
    assert [r.key for r in risks] == ["buyer"] and THIRD_USCC in risks[0].reason


def test_bad_buyer_tax_id_is_reported_by_row_and_a_file_without_the_column_imports(
    accepted, applicant
):
    bad = invoice_import(
        project=accepted,
        source=xlsx([row(accepted, "40000003", 购买方纳税人识别号="91110108551385082X")]),
        actor=applicant,
        dry_run=True,
    )
    assert bad.messages() == [
        "第2行:购买方纳税人识别号“91110108551385082X”不是有效的统一社会信用代码。"
    ]
    old_headers = [h for h in HEADERS if h != "购买方纳税人识别号"]
    old_row = row(accepted, "40000004")[: len(old_headers)]
    result = invoice_import(
        project=accepted, source=xlsx([old_row], old_headers), actor=applicant, dry_run=False
    )
    assert result.ok and Invoice.objects.get(number="40000004").buyer_tax_id == ""


def test_a_sheet_whose_xml_breaks_part_way_is_refused_with_a_message(accepted, applicant):
    # The workbook opens (its parts list is fine) but the sheet's XML is cut off after some
    # rows: reading it raised a ParseError, a 500 on the import page.
    import zipfile

    good = xlsx([row(accepted, f"{50000000 + i}") for i in range(30)]).getvalue()
    broken = BytesIO()
    with zipfile.ZipFile(BytesIO(good)) as source, zipfile.ZipFile(broken, "w") as target:
        for item in source.infolist():
            data = source.read(item)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = data[: len(data) // 2]
            target.writestr(item, data)
    result = invoice_import(
        project=accepted, source=broken.getvalue(), actor=applicant, dry_run=False
    )
    assert result.messages() == ["无法读取文件:文件内容已损坏或不完整,请重新导出后再上传。"]
    assert not Invoice.objects.exists()
