"""Invoices made for the tests: 数电 XML, OFD, PDF (reportlab), QR images (segno), zips.

Fictional parties only; the two USCCs are valid fictional codes.
"""

from __future__ import annotations

import io
import random
import zipfile
from decimal import Decimal
from xml.sax.saxutils import escape

import segno
from PIL import Image, ImageFilter
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen import canvas

SELLER_ID = "91350100M000100Y43"
BUYER_ID = "91110108551385082Q"
SELLER = "示例文具有限公司"
BUYER = "示例市党员教育中心"
NUMBER = "25924000000001260164"
PAYLOAD_DIGITAL = f"01,31,,{NUMBER},112.00,20250401,,8924"
PAYLOAD_OLD = "01,10,011001605111,80100798,64.9,20161018,85342965681116380258"
PAYLOAD_DIGITAL_ORDINARY = "01,32,,23442000000014209621,112,20230215,,74AE"

pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))


def einvoice_xml(
    number=NUMBER,
    *,
    amount="105.66",
    tax="6.34",
    total="112.00",
    issue_time="2025-04-01",
    seller=SELLER,
    seller_id=SELLER_ID,
    buyer=BUYER,
    buyer_id=BUYER_ID,
    items=("*纸制品*复印纸", "*文具*签字笔"),
    namespace="",
    extra="",
) -> bytes:
    lines = "".join(
        f"<IssuItemInformation><ItemName>{escape(item)}</ItemName><Amount>1.00</Amount>"
        "<TaxRate>0.06</TaxRate><ComTaxAm>0.06</ComTaxAm></IssuItemInformation>"
        for item in items
    )
    xmlns = f' xmlns="{namespace}"' if namespace else ""
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><EInvoice{xmlns}>'
        f"<Header><EIid>{number}</EIid><EInvoiceTag>SWEI3100</EInvoiceTag></Header>"
        "<EInvoiceData>"
        f"<SellerInformation><SellerIdNum>{seller_id}</SellerIdNum>"
        f"<SellerName>{escape(seller)}</SellerName></SellerInformation>"
        f"<BuyerInformation><BuyerIdNum>{buyer_id}</BuyerIdNum>"
        f"<BuyerName>{escape(buyer)}</BuyerName></BuyerInformation>"
        f"<BasicInformation><TotalAmWithoutTax>{amount}</TotalAmWithoutTax>"
        f"<TotalTaxAm>{tax}</TotalTaxAm><TotalTax-includedAmount>{total}"
        "</TotalTax-includedAmount><TotalTax-includedAmountInChinese>壹佰壹拾贰圆整"
        "</TotalTax-includedAmountInChinese><RequestTime>2025-04-01 09:30:00</RequestTime>"
        f"</BasicInformation>{extra}{lines}</EInvoiceData>"
        f"<TaxSupervisionInfo><InvoiceNumber>{number}</InvoiceNumber>"
        f"<IssueTime>{issue_time}</IssueTime></TaxSupervisionInfo></EInvoice>"
    ).encode()


def qr_image(payload: str, *, scale=4, rotate=0, blur=0.0, noise=0.0, border=4) -> Image.Image:
    buffer = io.BytesIO()
    segno.make(payload, error="m").save(buffer, kind="png", scale=scale, border=border)
    image = Image.open(io.BytesIO(buffer.getvalue())).convert("L")
    canvas_image = Image.new("L", (image.width + 80, image.height + 80), 255)
    canvas_image.paste(image, (40, 40))
    image = canvas_image
    if rotate:
        image = image.rotate(rotate, expand=True, fillcolor=255)
    if blur:
        image = image.filter(ImageFilter.GaussianBlur(blur))
    if noise:
        rng = random.Random(12)
        pixels = image.load()
        for _ in range(int(image.width * image.height * noise)):
            x, y = rng.randrange(image.width), rng.randrange(image.height)
            pixels[x, y] = 255 - pixels[x, y]
    return image


def image_bytes(image: Image.Image, kind="PNG") -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=kind)
    return buffer.getvalue()


def invoice_lines(
    *,
    buyer=BUYER,
    buyer_id=BUYER_ID,
    seller=SELLER,
    seller_id=SELLER_ID,
    total="112.00",
    number=NUMBER,
    issued="2025年04月01日",
):
    return [
        "电子发票(增值税专用发票)",
        f"发票号码: {number}",
        f"开票日期: {issued}",
        f"购买方名称: {buyer}",
        f"购买方纳税人识别号: {buyer_id}",
        f"销售方名称: {seller}",
        f"销售方纳税人识别号: {seller_id}",
        "合计 ¥105.66 ¥6.34",
        f"价税合计(大写) 壹佰壹拾贰圆整 (小写) ¥{total}",
    ]


def invoice_pdf(payloads=(PAYLOAD_DIGITAL,), lines=None, *, qr_points=72) -> bytes:
    """One page per payload (None: a page without QR), the QR top left, the text below."""
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer)
    for payload in payloads:
        if payload is not None:
            reader = ImageReader(qr_image(payload, scale=6, border=2).convert("RGB"))
            pdf.drawImage(reader, 40, 740, width=qr_points, height=qr_points)
        pdf.setFont("STSong-Light", 11)
        for index, line in enumerate(invoice_lines() if lines is None else lines):
            pdf.drawString(60, 700 - 18 * index, line)
        pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def zip_bytes(members: dict, *, compression=zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return buffer.getvalue()


OFD_NS = "http://www.ofdspec.org/2016"


def ofd_bytes(*, custom=None, tags=None, original_xml=None, page_texts=None) -> bytes:
    """custom: CustomData name -> value; tags: tag element -> text object ID on the page;
    page_texts: text object ID -> text."""
    custom_xml = "".join(
        f'<ofd:CustomData Name="{name}">{escape(value)}</ofd:CustomData>'
        for name, value in (custom or {}).items()
    )
    members = {
        "OFD.xml": (
            f'<?xml version="1.0" encoding="UTF-8"?><ofd:OFD xmlns:ofd="{OFD_NS}" Version="1.0">'
            "<ofd:DocBody><ofd:DocInfo><ofd:DocID>x</ofd:DocID>"
            f"<ofd:CustomDatas>{custom_xml}</ofd:CustomDatas></ofd:DocInfo>"
            "<ofd:DocRoot>Doc_0/Document.xml</ofd:DocRoot></ofd:DocBody></ofd:OFD>"
        ),
        "Doc_0/Document.xml": f'<ofd:Document xmlns:ofd="{OFD_NS}"/>',
    }
    texts = "".join(
        f'<ofd:TextObject ID="{ident}"><ofd:TextCode X="0" Y="0">{escape(text)}</ofd:TextCode>'
        "</ofd:TextObject>"
        for ident, text in (page_texts or {}).items()
    )
    members["Doc_0/Pages/Page_0/Content.xml"] = (
        f'<ofd:Page xmlns:ofd="{OFD_NS}"><ofd:Content><ofd:Layer>{texts}</ofd:Layer>'
        "</ofd:Content></ofd:Page>"
    )
    if tags:
        refs = "".join(
            f'<fp:{tag}><ofd:ObjectRef PageRef="1">{ident}</ofd:ObjectRef></fp:{tag}>'
            for tag, ident in tags.items()
        )
        members["Doc_0/Tags/CustomTag.xml"] = (
            f'<fp:eInvoice xmlns:fp="http://www.edrm.org.cn/schema/e-invoice/2019" '
            f'xmlns:ofd="{OFD_NS}">{refs}</fp:eInvoice>'
        )
    if original_xml is not None:
        members["Doc_0/Attachs/original_invoice.xml"] = original_xml
    return zip_bytes(members)


def legacy_invoice_xml(**overrides) -> bytes:
    values = {
        "FPDM": "011001605111",
        "FPHM": "80100798",
        "KPRQ": "20161018153000",
        "JYM": "85342965681116380258",
        "GMF_MC": BUYER,
        "GMF_NSRSBH": BUYER_ID,
        "XSF_MC": SELLER,
        "XSF_NSRSBH": SELLER_ID,
        "HJJE": "64.90",
        "HJSE": "3.89",
        "JSHJ": "68.79",
        "XMMC": "*印刷品*党建读本",
    }
    values.update(overrides)
    body = "".join(f"<{key}>{escape(value)}</{key}>" for key, value in values.items())
    return f'<?xml version="1.0" encoding="UTF-8"?><FPXX><FPMX>{body}</FPMX></FPXX>'.encode()


def money(text: str) -> Decimal:
    return Decimal(text)
