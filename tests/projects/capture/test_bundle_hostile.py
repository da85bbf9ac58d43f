"""The tax platform's zip (each invoice once, the XML preferred, files cross-checked) and the
hostile inputs: entities, traversal, bombs, lying headers, renamed executables."""

import io
import struct
import zipfile
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from projects.capture import read_invoice_items, read_invoices, safety
from tests.projects.capture.makers import (
    NUMBER,
    PAYLOAD_DIGITAL,
    PAYLOAD_OLD,
    SELLER_ID,
    einvoice_xml,
    image_bytes,
    invoice_lines,
    invoice_pdf,
    ofd_bytes,
    qr_image,
    zip_bytes,
)

STEM = f"dzfp_{NUMBER}_示例文具有限公司_20250401093000"
OFD_CUSTOM = {"发票号码": NUMBER, "开票日期": "2025-04-01", "价税合计": "112.00"}


def refused(content: bytes, filename: str = "bundle.zip") -> str:
    with pytest.raises(ValidationError) as caught:
        read_invoices(content, filename)
    return " ".join(caught.value.messages)


def test_platform_bundle_captures_the_invoice_once_from_its_xml():
    content = zip_bytes(
        {
            f"{STEM}.xml": einvoice_xml(),
            f"{STEM}.pdf": invoice_pdf(),
            f"{STEM}.ofd": ofd_bytes(custom=OFD_CUSTOM),
            "说明.txt": "readme",
        }
    )
    (invoice,) = read_invoices(content, f"{STEM}.zip")
    assert invoice["source"] == "zip:xml"
    assert invoice["number"] == NUMBER and invoice["total"] == Decimal("112.00")
    assert invoice["seller_tax_id"] == SELLER_ID
    assert read_invoice_items(content, f"{STEM}.zip") == [["*纸制品*复印纸", "*文具*签字笔"]]


def test_bundle_without_xml_prefers_the_ofd_and_keeps_what_only_the_pdf_says():
    content = zip_bytes({f"{STEM}.pdf": invoice_pdf(), f"{STEM}.ofd": ofd_bytes(custom=OFD_CUSTOM)})
    (invoice,) = read_invoices(content, "b.zip")
    assert invoice["source"] == "zip:ofd"
    assert invoice["buyer_tax_id"] == "91110108551385082Q"  # from the PDF's text


def test_bundle_of_many_invoices():
    numbers = [NUMBER[:-3] + f"{i:03d}" for i in range(5)]
    members = {f"dzfp_{number}_x.xml": einvoice_xml(number) for number in numbers}
    members["old.png"] = image_bytes(qr_image(PAYLOAD_OLD))
    invoices = read_invoices(zip_bytes(members), "many.zip")
    assert len(invoices) == 6
    assert {invoice["source"] for invoice in invoices} == {"zip:xml", "zip:image"}


def test_bundle_whose_pdf_disagrees_with_its_xml_names_the_field_and_both_values():
    pdf = invoice_pdf([PAYLOAD_DIGITAL.replace("112.00", "113.00")], lines=[])
    content = zip_bytes({f"{STEM}.xml": einvoice_xml(), f"{STEM}.pdf": pdf})
    message = refused(content)
    assert "价税合计不一致" in message
    assert f"{STEM}.xml(XML)为 ¥112.00" in message and f"{STEM}.pdf为 ¥113.00" in message


def test_bundle_whose_pdf_buyer_differs_from_its_xml():
    pdf = invoice_pdf(lines=invoice_lines(buyer="另一个示例单位"))
    message = refused(zip_bytes({f"{STEM}.xml": einvoice_xml(), f"{STEM}.pdf": pdf}))
    assert "购买方名称不一致" in message and "“另一个示例单位”" in message


def test_unreadable_member_is_named():
    content = zip_bytes({f"{STEM}.xml": einvoice_xml(), f"{STEM}.pdf": invoice_pdf([None])})
    message = refused(content)
    assert f"“{STEM}.pdf”无法读取" in message and "没有找到二维码" in message


def test_gbk_member_names_are_shown_as_chinese():
    # Chinese Windows zips names in GBK without the UTF-8 flag.
    content = zip_bytes({"XXXX.pdf": invoice_pdf([None])})
    assert content.count(b"XXXX.pdf") == 2  # local header and central directory
    message = refused(content.replace(b"XXXX.pdf", "发票.pdf".encode("gbk")))
    assert "“发票.pdf”无法读取" in message


def test_bundle_without_invoices_and_nested_zip():
    assert "没有发票文件" in refused(zip_bytes({"readme.txt": "x"}))
    assert "嵌套压缩包" in refused(zip_bytes({"inner.zip": zip_bytes({"a.xml": einvoice_xml()})}))


# --- hostile -----------------------------------------------------------------------------------

EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE EInvoice [<!ENTITY x SYSTEM "file:///etc/passwd">]>
<EInvoice><EInvoiceData><SellerInformation><SellerName>&x;</SellerName></SellerInformation>
</EInvoiceData></EInvoice>"""
BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]><EInvoice>&lol3;</EInvoice>"""
NETWORK_DTD = b"""<?xml version="1.0"?>
<!DOCTYPE EInvoice SYSTEM "http://example.com/e.dtd"><EInvoice/>"""


@pytest.mark.parametrize("content", [EXTERNAL_ENTITY, BILLION_LAUGHS, NETWORK_DTD])
def test_xml_with_entities_or_dtd_is_refused(content):
    assert "出于安全原因拒绝读取" in refused(content, "a.xml")


def test_hostile_xml_inside_a_bundle_and_an_ofd():
    assert "出于安全原因" in refused(zip_bytes({"a.xml": EXTERNAL_ENTITY}))
    assert "出于安全原因" in refused(ofd_bytes(original_xml=BILLION_LAUGHS), "a.ofd")


@pytest.mark.parametrize(
    "name", ["../evil.xml", "a/../../evil.xml", "/etc/evil.xml", "..\\evil.xml", "C:/evil.xml"]
)
def test_member_names_leaving_the_archive_are_refused(name):
    message = refused(zip_bytes({name: einvoice_xml()}))
    assert "指向压缩包以外的位置" in message


def test_traversal_inside_an_ofd_is_refused():
    assert "指向压缩包以外" in refused(zip_bytes({"OFD.xml": "<a/>", "../x": "1"}), "a.ofd")


@pytest.fixture(scope="module")
def zip_bomb() -> bytes:
    """One member of 200 MB of zeros, compressed while streaming (a few hundred KB)."""
    buffer = io.BytesIO()
    chunk = bytes(1024 * 1024)
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        with archive.open("zeros.xml", "w", force_zip64=True) as member:
            for _ in range(200):
                member.write(chunk)
    return buffer.getvalue()


def test_zip_bomb_is_refused_before_decompressing(zip_bomb, monkeypatch):
    assert len(zip_bomb) < 1024 * 1024
    # Refused on the directory alone: reading any member would fail this test.
    monkeypatch.setattr(safety.SafeZip, "read", lambda self, info: pytest.fail("decompressed"))
    assert "解压后过大" in refused(zip_bomb)
    assert "解压后过大" in refused(zip_bomb, "bomb.ofd")


def test_high_compression_ratio_is_refused():
    content = zip_bytes({"zeros.xml": bytes(5 * 1024 * 1024)})
    assert "压缩比异常" in refused(content)


def test_total_uncompressed_size_is_capped(monkeypatch):
    monkeypatch.setattr(safety, "MAX_TOTAL_BYTES", 3000)
    members = {f"{i}.xml": einvoice_xml(NUMBER[:-1] + str(i)) for i in range(3)}
    assert "总大小超过" in refused(zip_bytes(members))


def test_ofd_limits_are_tighter_than_a_bundles():
    many = {f"Doc_0/Res/{i}.xml": b"<a/>" for i in range(safety.MAX_OFD_MEMBERS)}
    content = zip_bytes({"OFD.xml": b"<a/>", **many})
    assert "文件过多" in refused(content, "a.ofd")
    fonts = {f"Doc_0/Res/{i}.ttf": bytes(8 * 1024 * 1024) for i in range(3)}
    big = zip_bytes({"OFD.xml": b"<a/>", **fonts}, compression=zipfile.ZIP_STORED)
    assert "总大小超过 20 MB" in refused(big, "a.ofd")


def test_too_many_members_are_refused():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        for index in range(safety.MAX_ZIP_MEMBERS + 1):
            archive.writestr(f"{index}.txt", b"")
    assert "文件过多" in refused(buffer.getvalue())


def _lie_about_size(content: bytes, declared: int) -> bytes:
    """Rewrite the local header and central directory so they declare `declared` bytes."""
    data = bytearray(content)
    local = data.index(b"PK\x03\x04")
    struct.pack_into("<I", data, local + 22, declared)
    central = data.index(b"PK\x01\x02")
    struct.pack_into("<I", data, central + 24, declared)
    return bytes(data)


def test_member_larger_than_its_header_says_is_refused():
    honest = zip_bytes({"a.xml": einvoice_xml()})
    lying = _lie_about_size(honest, 100)
    assert read_invoices(honest, "a.zip")  # the honest archive reads
    assert "已损坏" in refused(lying)


def test_renamed_executable_and_empty_files():
    exe = b"MZ\x90\x00" + bytes(500)
    assert "不是 PDF 格式" in refused(exe, "invoice.pdf")
    assert "不是 zip 格式" in refused(exe, "invoice.zip")
    assert "格式有误" in refused(exe, "invoice.xml")
    assert "PNG/JPG" in refused(exe, "invoice.png")
    for name in ("a.pdf", "a.xml", "a.zip", "a.ofd", "a.png", "a.txt"):
        assert "文件为空" in refused(b"", name)


@pytest.mark.parametrize("name", ["invoice.exe", "invoice", "invoice.pdf.exe", "a.docx"])
def test_unsupported_extensions(name):
    assert "不支持的文件类型" in refused(b"%PDF-1.7", name)
