"""The scanner payload (.txt): the observed payloads, what a scanner or an IME adds, refusals."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from projects.capture import FIELDS, read_invoices
from tests.projects.capture.makers import PAYLOAD_DIGITAL_ORDINARY, PAYLOAD_OLD


def read(text: str) -> list[dict]:
    return read_invoices(text.encode(), "scan.txt")


def refused(text: str) -> str:
    with pytest.raises(ValidationError) as caught:
        read(text)
    return " ".join(caught.value.messages)


def test_old_electronic_ordinary_invoice():
    (invoice,) = read(PAYLOAD_OLD)
    assert tuple(invoice) == FIELDS
    assert invoice["kind"] == "vat_ordinary"
    assert invoice["code"] == "011001605111"
    assert invoice["number"] == "80100798"
    assert invoice["issue_date"] == datetime.date(2016, 10, 18)
    # The older kinds print the amount before tax; tax and total are not in the payload.
    assert invoice["amount"] == Decimal("64.90")
    assert invoice["tax"] is None and invoice["total"] is None
    assert invoice["check_code"] == "85342965681116380258"
    assert invoice["source"] == "qr"
    assert invoice["seller_name"] == "" and invoice["buyer_tax_id"] == ""


def test_digital_ordinary_integer_amount_is_the_total():
    (invoice,) = read(PAYLOAD_DIGITAL_ORDINARY)
    assert invoice["kind"] == "digital"
    assert invoice["code"] == ""
    assert invoice["number"] == "23442000000014209621"
    assert invoice["total"] == Decimal("112.00") and invoice["amount"] is None
    assert invoice["issue_date"] == datetime.date(2023, 2, 15)


def test_digital_special_amount_is_the_tax_inclusive_total():
    (invoice,) = read("01,31,,25924000000001260164,379.00,20250401,,8924")
    assert invoice["kind"] == "digital"
    assert invoice["total"] == Decimal("379.00")
    assert isinstance(invoice["total"], Decimal)


def test_paper_special_invoice_kind():
    (invoice,) = read("01,01,3200162130,01234567,1000.00,20190301,,ABCD")
    assert invoice["kind"] == "vat_special"
    assert invoice["amount"] == Decimal("1000.00")


@pytest.mark.parametrize("ending", ["\r\n", "\n", "\r", "  \t\r\n", "\n\n"])
def test_scanner_enter_and_trailing_whitespace(ending):
    (invoice,) = read(PAYLOAD_DIGITAL_ORDINARY + ending)
    assert invoice["number"] == "23442000000014209621"


def test_full_width_commas_and_digits_are_normalised():
    full_width = PAYLOAD_DIGITAL_ORDINARY.replace(",", "\uff0c")
    full_width = full_width.replace("112", "\uff11\uff11\uff12")
    assert "," not in full_width
    (invoice,) = read(full_width)
    assert invoice["total"] == Decimal("112.00")


def test_utf8_bom_from_a_text_editor():
    (invoice,) = read_invoices(("\ufeff" + PAYLOAD_OLD).encode(), "scan.txt")
    assert invoice["number"] == "80100798"


def test_unpublished_trailing_field_is_never_validated():
    (invoice,) = read("01,32,,23442000000014209621,112,20230215,,Zz-9/+*")
    assert invoice["number"] == "23442000000014209621"


def test_unknown_kind_code_is_kept_as_given():
    (invoice,) = read("01,03,144001900111,00123456,5000.00,20200101,,")
    assert invoice["kind"] == "other"
    assert invoice["source"] == "qr:kind=03"


def test_red_letter_negative_amount():
    (invoice,) = read("01,32,,23442000000014209622,-112.00,20230216,,74AE")
    assert invoice["total"] == Decimal("-112.00")


def test_several_payloads_one_per_line_and_a_repeat_captured_once():
    text = "\r\n".join([PAYLOAD_OLD, PAYLOAD_DIGITAL_ORDINARY, PAYLOAD_OLD]) + "\r\n"
    numbers = [invoice["number"] for invoice in read(text)]
    assert numbers == ["80100798", "23442000000014209621"]


def test_same_number_twice_with_different_amounts_is_refused():
    other = PAYLOAD_DIGITAL_ORDINARY.replace(",112,", ",113,")
    message = refused(PAYLOAD_DIGITAL_ORDINARY + "\n" + other)
    assert "价税合计不一致" in message and "¥112.00" in message and "¥113.00" in message


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        ("01,32,,2344200000001420962,112,20230215,,74AE", "20 位数字"),  # 19 digits
        ("01,32,,234420000000142096211,112,20230215,,74AE", "20 位数字"),  # 21 digits
        ("01,32,044001900111,23442000000014209621,112,20230215,,", "应为空"),
        ("01,10,011001605111,8010079,64.9,20161018,1", "8 位数字"),
        ("01,10,0110016051,801007981,64.9,20161018,1", "8 位数字"),
        ("01,10,01100160511,80100798,64.9,20161018,1", "10 位或 12 位"),
        ("01,32,,23442000000014209621,112,20230230,,74AE", "不是有效的日期"),
        ("01,32,,23442000000014209621,112,2023021,,74AE", "8 位数字"),
        ("01,32,,23442000000014209621,112.001,20230215,,74AE", "最多保留两位小数"),
        ("01,32,,23442000000014209621,1,12,20230215,,74AE", "7 或 8 项"),
        ("01,32,,23442000000014209621,,20230215,,74AE", "请填写发票二维码中的金额"),
        ("01,32,,23442000000014209621,112,20230215", "7 或 8 项"),
        ("02,32,,23442000000014209621,112,20230215,,74AE", "应以“01,”开头"),
        ("https://inv-veri.chinatax.gov.cn/", "应以“01,”开头"),
        ("01,3X,,23442000000014209621,112,20230215,,74AE", "票种代码"),
        ("01,10,011001605111,80100798,64.9,20161018,85342-96568", "校验码"),
    ],
)
def test_refused_payloads(payload, expected):
    assert expected in refused(payload)


def test_arabic_indic_digits_are_refused():
    # NFKC leaves U+0660..U+0669 as they are; only ASCII 0-9 count as digits.
    arabic = "".join(chr(0x0660 + int(d)) for d in "23442000000014209621")
    assert "20 位数字" in refused(f"01,32,,{arabic},112,20230215,,74AE")
    assert "不是有效的金额" in refused(f"01,32,,23442000000014209621,{chr(0x0661)}12,20230215,,")


def test_empty_and_blank_payload_files():
    with pytest.raises(ValidationError, match="文件为空"):
        read_invoices(b"", "scan.txt")
    with pytest.raises(ValidationError, match="没有读到发票"):
        read_invoices(b" \r\n", "scan.txt")


def test_not_utf8_text_is_refused():
    with pytest.raises(ValidationError, match="不是有效的文本"):
        read_invoices(b"\xff\xfe\x00\xd8garbage", "scan.txt")


def test_too_many_payloads_in_one_paste_are_refused():
    from projects import capture

    text = "\n".join(
        f"01,32,,{23442000000014200000 + i},112,20230215,," for i in range(capture.MAX_PAYLOADS)
    )
    assert len(read(text)) == capture.MAX_PAYLOADS
    assert "一次最多读取" in refused(text + "\n" + PAYLOAD_OLD)
