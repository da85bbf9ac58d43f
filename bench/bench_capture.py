"""Capture speed (issue 12), ratios against a real floor measured in the same run.

(a) 1,000 数电 XML invoices in one zip through ``read_invoices`` against the limit: the same
    zip opened with zipfile and every member parsed with lxml alone, the same fields pulled
    out (Decimal amounts, a date). Product and limit alternate, median of the repeats.
    A second line shows the product against zipfile + defusedxml alone (the parser the rules
    require: its tree builder is pure Python), to separate the capture code's own cost.
(b) The QR of a one-page PDF at 200 dpi through ``read_invoices`` (which also reads the page's
    text and cross-checks it) against the limit: pypdfium2 opening and rendering the page at
    200 dpi plus zxing-cpp on the rendered image.

The database part of the issue's bench (bulk_create, duplicate check against a city-scale
database) is measured where the invoice service lives, not here.

    .venv/bin/python bench/bench_capture.py [--invoices 1000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import datetime
import io
import os
import statistics
import sys
import time
import zipfile
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

import defusedxml.ElementTree as DefusedET  # noqa: E402
import pypdfium2 as pdfium  # noqa: E402
import zxingcpp  # noqa: E402
from lxml import etree  # noqa: E402

from projects.capture import read_invoices  # noqa: E402
from tests.projects.capture.makers import einvoice_xml, invoice_pdf  # noqa: E402


def bundle_of(count: int) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for index in range(count):
            number = f"2592400000{index:010d}"
            archive.writestr(f"dzfp_{number}_示例文具有限公司.xml", einvoice_xml(number))
    return buffer.getvalue()


def _text(root, path: str) -> str:
    found = root.find(path)
    return found.text if found is not None and found.text else ""


def lxml_limit(content: bytes) -> list[dict]:
    """The floor: unzip, parse with lxml, pull the same fields out."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    out = []
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        for info in archive.infolist():
            root = etree.fromstring(archive.read(info), parser)
            data = root.find("EInvoiceData")
            basic = data.find("BasicInformation")
            out.append(
                {
                    "number": _text(root, "TaxSupervisionInfo/InvoiceNumber"),
                    "issue_date": datetime.date.fromisoformat(
                        _text(root, "TaxSupervisionInfo/IssueTime")[:10]
                    ),
                    "amount": Decimal(_text(basic, "TotalAmWithoutTax")),
                    "tax": Decimal(_text(basic, "TotalTaxAm")),
                    "total": Decimal(_text(basic, "TotalTax-includedAmount")),
                    "seller_name": _text(data, "SellerInformation/SellerName"),
                    "seller_tax_id": _text(data, "SellerInformation/SellerIdNum"),
                    "buyer_name": _text(data, "BuyerInformation/BuyerName"),
                    "buyer_tax_id": _text(data, "BuyerInformation/BuyerIdNum"),
                }
            )
    return out


def defusedxml_alone(content: bytes) -> int:
    """Reference: the parser the rules require (defusedxml, pure-Python tree builder) alone."""
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        return len(
            [DefusedET.fromstring(archive.read(i), forbid_dtd=True) for i in archive.infolist()]
        )


def render_and_decode_limit(content: bytes) -> list[str]:
    document = pdfium.PdfDocument(content)
    try:
        image = document[0].render(scale=200 / 72, grayscale=True).to_pil()
        return [
            r.text for r in zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)
        ]
    finally:
        document.close()


def alternate(product, limit, repeat: int) -> tuple[float, float]:
    product_times, limit_times = [], []
    for _ in range(repeat):
        for func, times in ((product, product_times), (limit, limit_times)):
            started = time.perf_counter()
            func()
            times.append(time.perf_counter() - started)
    return statistics.median(product_times), statistics.median(limit_times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--invoices", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    print(f"负载(1/5/15 分钟): {' '.join(f'{v:.2f}' for v in os.getloadavg())}")

    bundle = bundle_of(args.invoices)
    assert len(read_invoices(bundle, "dzfp.zip")) == len(lxml_limit(bundle)) == args.invoices
    product, limit = alternate(
        lambda: read_invoices(bundle, "dzfp.zip"), lambda: lxml_limit(bundle), args.repeat
    )
    print(
        f"(a) {args.invoices} 张数电 XML(一个 zip): 产品 {product * 1000:.0f} ms,"
        f"极限(zipfile + lxml){limit * 1000:.0f} ms,比值 {product / limit:.2f}×"
        f"(每张 {product / args.invoices * 1e6:.0f} µs)"
    )
    product, reference = alternate(
        lambda: read_invoices(bundle, "dzfp.zip"), lambda: defusedxml_alone(bundle), args.repeat
    )
    print(
        f"    参考: zipfile + defusedxml 仅解析 {reference * 1000:.0f} ms,"
        f"产品是它的 {product / reference:.2f}×"
    )

    pdf = invoice_pdf()
    assert read_invoices(pdf, "a.pdf") and render_and_decode_limit(pdf)
    product, limit = alternate(
        lambda: read_invoices(pdf, "a.pdf"), lambda: render_and_decode_limit(pdf), args.repeat * 4
    )
    print(
        f"(b) 一页 PDF 的二维码(200 dpi): 产品 {product * 1000:.1f} ms,"
        f"极限(渲染 + zxing-cpp){limit * 1000:.1f} ms,比值 {product / limit:.2f}×"
    )
    print(f"负载(1/5/15 分钟): {' '.join(f'{v:.2f}' for v in os.getloadavg())}")


if __name__ == "__main__":
    main()
