"""QR codes in images (sizes, rotation, blur, noise) and PDFs (QR plus the printed text)."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from PIL import Image

from projects.capture import read_invoices
from tests.projects.capture.makers import (
    BUYER,
    BUYER_ID,
    NUMBER,
    PAYLOAD_DIGITAL,
    PAYLOAD_OLD,
    SELLER,
    SELLER_ID,
    image_bytes,
    invoice_lines,
    invoice_pdf,
    qr_image,
)


def refused(content: bytes, filename: str) -> str:
    with pytest.raises(ValidationError) as caught:
        read_invoices(content, filename)
    return " ".join(caught.value.messages)


@pytest.mark.parametrize(
    "variant",
    [
        {"scale": 2},
        {"scale": 4},
        {"scale": 10},
        {"scale": 4, "rotate": 90},
        {"scale": 4, "rotate": 180},
        {"scale": 5, "rotate": 17},
        {"scale": 5, "blur": 1.2},
        {"scale": 5, "noise": 0.02},
        {"scale": 6, "rotate": 8, "blur": 0.8, "noise": 0.01},
    ],
)
def test_qr_image_variants(variant):
    (invoice,) = read_invoices(image_bytes(qr_image(PAYLOAD_DIGITAL, **variant)), "scan.png")
    assert invoice["number"] == NUMBER
    assert invoice["total"] == Decimal("112.00")
    assert invoice["source"] == "image"


def test_jpeg_photo():
    content = image_bytes(qr_image(PAYLOAD_OLD, scale=5).convert("RGB"), "JPEG")
    (invoice,) = read_invoices(content, "photo.JPG")
    assert invoice["check_code"] == "85342965681116380258"


def test_two_invoices_in_one_photo():
    left, right = qr_image(PAYLOAD_OLD, scale=4), qr_image(PAYLOAD_DIGITAL, scale=4)
    both = Image.new("L", (left.width + right.width + 60, max(left.height, right.height)), 255)
    both.paste(left, (0, 0))
    both.paste(right, (left.width + 60, 0))
    numbers = sorted(invoice["number"] for invoice in read_invoices(image_bytes(both), "a.png"))
    assert numbers == sorted(["80100798", NUMBER])


def test_image_without_qr_and_with_another_qr():
    blank = Image.new("L", (400, 300), 255)
    assert "没有找到二维码" in refused(image_bytes(blank), "a.png")
    url = image_bytes(qr_image("https://example.com/pay?id=1", scale=4))
    assert "不是发票二维码" in refused(url, "a.png")


def test_image_whose_qr_holds_a_bad_payload():
    bad = image_bytes(qr_image("01,32,,2592400000000126016,112,20250401,,1", scale=4))
    assert "20 位数字" in refused(bad, "a.png")


def test_broken_image_and_other_formats_are_refused():
    assert "PNG/JPG" in refused(b"\x89PNG\r\n\x1a\n broken", "a.png")
    gif = image_bytes(qr_image(PAYLOAD_DIGITAL), "GIF")
    assert "PNG/JPG" in refused(gif, "a.png")


# --- PDF ---------------------------------------------------------------------------------------


def test_pdf_qr_completed_by_its_text():
    (invoice,) = read_invoices(invoice_pdf(), "invoice.pdf")
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
        "check_code": "",  # 数电 payloads leave the check code empty (8924 is the 8th field)
        "source": "pdf",
    }


def test_pdf_text_in_the_standard_two_column_layout():
    lines = [
        "名称: 示例市党员教育中心    名称: 示例文具有限公司",
        f"统一社会信用代码/纳税人识别号: {BUYER_ID}  统一社会信用代码/纳税人识别号: {SELLER_ID}",
        "价税合计(大写) 壹佰壹拾贰圆整 (小写) ¥112.00",
    ]
    (invoice,) = read_invoices(invoice_pdf(lines=lines), "invoice.pdf")
    assert (invoice["buyer_name"], invoice["seller_name"]) == (BUYER, SELLER)
    assert (invoice["buyer_tax_id"], invoice["seller_tax_id"]) == (BUYER_ID, SELLER_ID)


def test_pdf_whose_text_disagrees_with_its_qr_is_refused():
    lines = [line for line in invoice_lines(total="121.00") if not line.startswith("合计")]
    content = invoice_pdf(lines=lines)
    message = refused(content, "invoice.pdf")
    assert "价税合计不一致" in message
    assert "PDF 的二维码为 ¥112.00" in message and "PDF 的文字为 ¥121.00" in message


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        (invoice_lines(number="25924000000001260165"), "发票号码不一致"),
        (invoice_lines(issued="2025年04月02日"), "开票日期不一致"),
    ],
)
def test_pdf_whose_printed_number_or_date_differs_from_its_qr(lines, expected):
    assert expected in refused(invoice_pdf(lines=lines), "invoice.pdf")


def test_pdf_printed_number_without_its_code_is_ignored():
    # An older invoice's text with the number but not the code: not a reading to compare.
    lines = ["发票号码: 80100798", "开票日期: 2016年10月18日"]
    (invoice,) = read_invoices(invoice_pdf([PAYLOAD_OLD], lines=lines), "old.pdf")
    assert invoice["code"] == "011001605111"


def test_pdf_text_whose_amounts_do_not_add_up_is_refused():
    message = refused(invoice_pdf(lines=invoice_lines(total="121.00")), "invoice.pdf")
    assert "不等于价税合计" in message


def test_pdf_with_one_invoice_a_page():
    content = invoice_pdf([PAYLOAD_OLD, PAYLOAD_DIGITAL], lines=[])
    assert [i["number"] for i in read_invoices(content, "two.pdf")] == ["80100798", NUMBER]


def test_small_qr_found_at_the_retry_resolution():
    (invoice,) = read_invoices(invoice_pdf(lines=[], qr_points=34), "small.pdf")
    assert invoice["number"] == NUMBER


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (invoice_pdf([None]), "没有找到二维码"),
        (invoice_pdf(["https://example.com/"], lines=[]), "不是发票二维码"),
        (b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 200, "不是 PDF 格式"),
        (b"%PDF-1.7\n broken beyond repair", "已损坏"),
    ],
)
def test_refused_pdf(content, expected):
    assert expected in refused(content, "invoice.pdf")


def test_empty_pdf_file():
    assert "文件为空" in refused(b"", "invoice.pdf")


def test_oversized_image_is_refused_before_decoding(monkeypatch):
    from projects.capture import images

    content = image_bytes(qr_image(PAYLOAD_DIGITAL, scale=4))
    assert read_invoices(content, "a.png")
    monkeypatch.setattr(images, "MAX_IMAGE_PIXELS", 10_000)
    assert "图片尺寸过大" in refused(content, "a.png")


def test_pdf_with_too_many_pages_is_refused(monkeypatch):
    from projects.capture import images

    monkeypatch.setattr(images, "MAX_PDF_PAGES", 1)
    assert "页数过多" in refused(invoice_pdf([PAYLOAD_DIGITAL, PAYLOAD_OLD], lines=[]), "a.pdf")


def test_password_protected_pdf_is_refused():
    import io

    from reportlab.lib import pdfencrypt
    from reportlab.pdfgen import canvas

    buffer = io.BytesIO()
    locked = pdfencrypt.StandardEncryption("secret", ownerPassword="owner", strength=128)
    pdf = canvas.Canvas(buffer, encrypt=locked)
    pdf.drawString(10, 10, "x")
    pdf.save()
    assert "已加密" in refused(buffer.getvalue(), "a.pdf")


def test_pdfs_read_from_several_threads_at_once():
    # PDFium is not thread-safe; a threaded server may read several uploads at the same time.
    from concurrent.futures import ThreadPoolExecutor

    pdfs = [invoice_pdf([payload], lines=[]) for payload in (PAYLOAD_DIGITAL, PAYLOAD_OLD)] * 6
    with ThreadPoolExecutor(max_workers=4) as pool:
        numbers = list(pool.map(lambda pdf: read_invoices(pdf, "a.pdf")[0]["number"], pdfs))
    assert numbers == [NUMBER, "80100798"] * 6


def test_png_header_claiming_a_huge_canvas_is_refused():
    import struct
    import zlib

    data = bytearray(image_bytes(Image.new("L", (1, 1), 255)))
    ihdr = data.index(b"IHDR")
    struct.pack_into(">II", data, ihdr + 4, 20000, 20000)  # 400 Mpx claimed by 70 bytes
    struct.pack_into(">I", data, ihdr + 17, zlib.crc32(bytes(data[ihdr : ihdr + 17])))
    assert "图片尺寸过大" in refused(bytes(data), "bomb.png")
    struct.pack_into(">II", data, ihdr + 4, 9000, 8000)  # 72 Mpx: above our limit only
    struct.pack_into(">I", data, ihdr + 17, zlib.crc32(bytes(data[ihdr : ihdr + 17])))
    assert "图片尺寸过大" in refused(bytes(data), "bomb.png")
