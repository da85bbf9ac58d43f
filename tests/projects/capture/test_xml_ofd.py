"""The 数电 XML and the OFD (custom data, page tags, the attached original XML)."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from projects.capture import read_invoice_items, read_invoices, suggest_budget_item
from tests.projects.capture.makers import (
    BUYER,
    BUYER_ID,
    NUMBER,
    SELLER,
    SELLER_ID,
    einvoice_xml,
    legacy_invoice_xml,
    ofd_bytes,
    zip_bytes,
)


def refused(content: bytes, filename: str) -> str:
    with pytest.raises(ValidationError) as caught:
        read_invoices(content, filename)
    return " ".join(caught.value.messages)


def test_digital_xml_all_fields():
    (invoice,) = read_invoices(einvoice_xml(), "dzfp.xml")
    assert invoice == {
        "kind": "digital",
        "code": "",
        "number": NUMBER,
        "issue_date": datetime.date(2025, 4, 1),
        "amount": Decimal("105.66"),
        "tax": Decimal("6.34"),
        "total": Decimal("112.00"),
        "seller_name": SELLER,
        "seller_tax_id": SELLER_ID,
        "buyer_name": BUYER,
        "buyer_tax_id": BUYER_ID,
        "check_code": "",
        "source": "xml",
    }


def test_digital_xml_with_a_namespace_and_a_time_of_day():
    content = einvoice_xml(namespace="urn:example:einvoice", issue_time="2025-04-01 10:20:30")
    (invoice,) = read_invoices(content, "INVOICE.XML")
    assert invoice["issue_date"] == datetime.date(2025, 4, 1)
    assert invoice["seller_tax_id"] == SELLER_ID


def test_gbk_encoded_xml():
    content = einvoice_xml().decode().replace('encoding="UTF-8"', 'encoding="GBK"').encode("gbk")
    (invoice,) = read_invoices(content, "gbk.xml")
    assert invoice["seller_name"] == SELLER


def test_ofd_with_gbk_original_invoice_xml():
    legacy = legacy_invoice_xml().decode().replace("UTF-8", "GB2312").encode("gb2312")
    (invoice,) = read_invoices(ofd_bytes(custom=CUSTOM, original_xml=legacy), "a.ofd")
    assert invoice["buyer_name"] == BUYER


def test_item_names_and_a_budget_line_suggestion():
    content = einvoice_xml(items=("*纸制品*复印纸", "*印刷品*党章学习读本", "*餐饮服务*餐费"))
    assert read_invoice_items(content, "a.xml") == [
        ["*纸制品*复印纸", "*印刷品*党章学习读本", "*餐饮服务*餐费"]
    ]
    assert suggest_budget_item(read_invoice_items(content, "a.xml")[0]) == "materials"


def test_red_letter_xml_negative_amounts():
    content = einvoice_xml(amount="-105.66", tax="-6.34", total="-112.00")
    (invoice,) = read_invoices(content, "red.xml")
    assert invoice["total"] == Decimal("-112.00")


def test_xml_whose_amounts_do_not_add_up_is_refused():
    message = refused(einvoice_xml(total="120.00"), "a.xml")
    assert "不等于价税合计" in message


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (einvoice_xml(number="2592400000000126016"), "20 位数字"),
        (einvoice_xml(total="112.005"), "最多保留两位小数"),
        (einvoice_xml(issue_time="2025-02-30"), "不是有效的日期"),
        (einvoice_xml(seller_id="9135-0100"), "格式不正确"),
        (b"<EInvoice><Header/>", "格式有误"),
        (b"<Report><Title>x</Title></Report>", "不是数电发票 XML"),
        (b"<EInvoice><Header/></EInvoice>", "缺少 EInvoiceData"),
        ("<?xml version='1.0' encoding='gbk'?><a>".encode("gbk"), "格式有误"),
        (b"<?xml version='1.0' encoding='GBK'?><EInvoice>" + b"\xff\xff", "GBK"),
        (b"<?xml version='1.0' encoding='Big5'?><EInvoice/>", "格式有误"),
    ],
)
def test_refused_xml(content, expected):
    assert expected in refused(content, "a.xml")


# --- OFD ---------------------------------------------------------------------------------------

CUSTOM = {
    "发票代码": "011001605111",
    "发票号码": "80100798",
    "开票日期": "2016年10月18日",
    "校验码": "85342965681116380258",
    "合计金额": "64.90",
    "合计税额": "3.89",
    "购买方纳税人识别号": BUYER_ID,
    "销售方纳税人识别号": SELLER_ID,
}
PAGE = {
    "7": "增值税电子普通发票",
    "11": "011001605111",
    "12": "80100798",
    "13": "2016年10月18日",
    "20": BUYER,
    "21": SELLER,
    "30": "¥68.79",
}
TAGS = {
    "InvoiceCode": "11",
    "InvoiceNo": "12",
    "IssueDate": "13",
    "BuyerName": "20",
    "SellerName": "21",
    "TaxInclusiveTotalAmount": "30",
}


def test_ofd_custom_data_and_page_tags_are_combined():
    (invoice,) = read_invoices(ofd_bytes(custom=CUSTOM, tags=TAGS, page_texts=PAGE), "a.ofd")
    assert invoice["kind"] == "vat_ordinary"
    assert (invoice["code"], invoice["number"]) == ("011001605111", "80100798")
    assert invoice["issue_date"] == datetime.date(2016, 10, 18)
    assert invoice["amount"] == Decimal("64.90") and invoice["tax"] == Decimal("3.89")
    assert invoice["total"] == Decimal("68.79")  # only the page says it
    assert invoice["buyer_name"] == BUYER and invoice["seller_tax_id"] == SELLER_ID
    assert invoice["source"] == "ofd"


def test_ofd_custom_data_and_tag_that_disagree_name_the_field():
    page = dict(PAGE, **{"12": "80100799"})
    message = refused(ofd_bytes(custom=CUSTOM, tags=TAGS, page_texts=page), "a.ofd")
    assert "发票号码不一致" in message
    assert "“80100798”" in message and "“80100799”" in message


def test_ofd_digital_invoice_by_title():
    custom = {"发票号码": NUMBER, "开票日期": "2025-04-01", "价税合计": "112.00"}
    page = {"1": "电子发票(增值税专用发票)"}
    (invoice,) = read_invoices(ofd_bytes(custom=custom, page_texts=page), "a.ofd")
    assert invoice["kind"] == "digital" and invoice["total"] == Decimal("112.00")


def test_ofd_older_invoice_with_attached_original_xml():
    content = ofd_bytes(custom=CUSTOM, original_xml=legacy_invoice_xml())
    (invoice,) = read_invoices(content, "a.ofd")
    assert invoice["total"] == Decimal("68.79")
    assert invoice["buyer_name"] == BUYER
    assert read_invoice_items(content, "a.ofd") == [["*印刷品*党建读本"]]


def test_ofd_attached_xml_disagreeing_with_custom_data_is_refused():
    content = ofd_bytes(custom=CUSTOM, original_xml=legacy_invoice_xml(HJSE="3.88", JSHJ="68.78"))
    message = refused(content, "a.ofd")
    assert "税额不一致" in message and "¥3.89" in message and "¥3.88" in message


def test_ofd_with_a_digital_xml_attached():
    (invoice,) = read_invoices(ofd_bytes(original_xml=einvoice_xml()), "a.ofd")
    assert invoice["kind"] == "digital" and invoice["number"] == NUMBER


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (zip_bytes({"Doc_0/Document.xml": "<a/>"}), "缺少 OFD.xml"),
        (ofd_bytes(), "没有找到发票信息"),
        (ofd_bytes(custom={"发票代码": "011001605111"}), "不符合格式"),
        (ofd_bytes(custom={"合计金额": "64.90"}), "没有找到发票号码或开票日期"),
        (b"PK\x03\x04 this is not a zip", "不是 zip 格式"),
        (einvoice_xml(), "不是 zip 格式"),
    ],
)
def test_refused_ofd(content, expected):
    assert expected in refused(content, "a.ofd")
