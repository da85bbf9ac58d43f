"""compare_sources (reused by the page that compares a capture with typed fields) and the
budget-line suggestion from item names."""

import datetime
from decimal import Decimal

import pytest

from projects.capture import compare_sources, read_invoices, suggest_budget_item
from projects.capture.fields import FIELDS
from tests.projects.capture.makers import PAYLOAD_DIGITAL, einvoice_xml


def typed(**values) -> dict:
    invoice = dict.fromkeys(FIELDS, "")
    invoice.update(amount=None, tax=None, total=None, issue_date=None, source="typed")
    invoice.update(values)
    return invoice


def test_equal_readings_have_no_difference():
    (xml,) = read_invoices(einvoice_xml(), "a.xml")
    (qr,) = read_invoices(PAYLOAD_DIGITAL.encode(), "a.txt")
    assert compare_sources(xml, qr) == []


def test_each_differing_field_is_named_with_both_values():
    (xml,) = read_invoices(einvoice_xml(), "a.xml")
    other = typed(
        total=Decimal("121"),
        issue_date=datetime.date(2025, 4, 2),
        buyer_name="另一个示例单位",
        kind="vat_special",
    )
    assert compare_sources(xml, other) == [
        "票据种类不一致:XML为 数电发票,手工录入为 增值税专用发票。",
        "开票日期不一致:XML为 2025-04-01,手工录入为 2025-04-02。",
        "价税合计不一致:XML为 ¥112.00,手工录入为 ¥121.00。",
        "购买方名称不一致:XML为 “示例市党员教育中心”,手工录入为 “另一个示例单位”。",
    ]


def test_blank_means_the_source_does_not_say():
    (qr,) = read_invoices(PAYLOAD_DIGITAL.encode(), "a.txt")  # no seller, no amount before tax
    assert compare_sources(qr, typed(seller_name="任何名称", amount=Decimal("1.00"))) == []


def test_equivalent_spellings_are_not_differences():
    a = typed(total=Decimal("112"), buyer_name="示例(福州)中心", seller_tax_id="91350100m000100y43")
    b = typed(
        total=Decimal("112.00"),
        buyer_name="示例\uff08福州\uff09中心",
        seller_tax_id="91350100M000100Y43",
    )
    assert compare_sources(a, b) == []
    assert compare_sources(a, typed(total=Decimal("112.01")))  # a cent is a difference


def test_typed_text_values_are_compared_as_what_they_mean():
    (xml,) = read_invoices(einvoice_xml(), "a.xml")
    same = typed(total="112", issue_date="2025-04-01", kind="数电发票", tax="¥6.34")
    assert compare_sources(xml, same) == []
    other = typed(total="1,121.00", issue_date="2025年4月2日", kind="增值税普通发票")
    assert compare_sources(xml, other) == [
        "票据种类不一致:XML为 数电发票,手工录入为 增值税普通发票。",
        "开票日期不一致:XML为 2025-04-01,手工录入为 2025-04-02。",
        "价税合计不一致:XML为 ¥112.00,手工录入为 ¥1,121.00。",
    ]


def test_custom_labels():
    messages = compare_sources(
        typed(number="1" * 20), typed(number="2" * 20), a_label="扫码", b_label="填写"
    )
    assert messages == [f"发票号码不一致:扫码为 “{'1' * 20}”,填写为 “{'2' * 20}”。"]


@pytest.mark.parametrize(
    ("items", "expected"),
    [
        (["*纸制品*复印纸A4"], "materials"),
        (["*印刷品*宣传册"], "materials"),
        (["*餐饮服务*餐费"], "training"),
        (["*住宿服务*住宿费", "*餐饮服务*餐费"], "training"),
        (["*经营租赁*场地租赁费"], "venue"),
        (["*运输服务*客运服务费"], "transport"),
        (["*计算机外部设备*打印机"], "equipment"),
        (["*工艺品*奖杯"], "awards"),
        (["*印刷品*横幅", "*餐饮服务*餐费", "*纸制品*复印纸"], "materials"),
        (["*餐饮服务*餐费", "*印刷品*横幅"], "training"),  # a tie: the first item decides
        (["*信息技术服务*软件服务费"], None),
        (["详见销货清单"], None),
        ([], None),
    ],
)
def test_budget_line_suggestion(items, expected):
    assert suggest_budget_item(items) == expected
