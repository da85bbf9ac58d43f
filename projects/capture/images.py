"""QR codes found in an image (a photo or scan) or in the pages of a PDF.

zxing-cpp decodes (no system library); pypdfium2 renders PDF pages (permissive licence;
PyMuPDF is AGPL and is not used); Pillow opens images.
"""

from __future__ import annotations

import io
import re
import threading

import pypdfium2 as pdfium
import zxingcpp
from django.core.exceptions import ValidationError
from PIL import Image, ImageFilter, UnidentifiedImageError

from projects.capture.compare import merge_readings
from projects.capture.payload import looks_like_payload, parse_payload
from projects.capture.tagged import invoice_from_labelled
from projects.capture.values import clean_name, clean_tax_id, clean_text, is_digits

MAX_IMAGE_PIXELS = 60_000_000  # a 600 dpi A4 scan is 35 Mpx
MAX_PDF_PAGES = 20  # an invoice with its 销货清单; a page without a QR costs ~0.3 s
RENDER_DPI = 200
RETRY_DPI = 400  # a small or blurred QR that 200 dpi missed
MAX_RENDER_PIXELS = 40_000_000  # A3 at 400 dpi is 31 Mpx
IMAGE_FORMATS = ("PNG", "JPEG")

# PDFium is not thread-safe, not even across documents (pypdfium2's documentation): every use
# in this process goes through one lock; a threaded server serialises PDF reads.
PDFIUM_LOCK = threading.Lock()


def _decode(image) -> list[str]:
    results = zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)
    texts: list[str] = []
    for result in results:
        if result.text and result.text not in texts:
            texts.append(result.text)
    return texts


def decode_qr_texts(image, *, despeckle: bool = True) -> list[str]:
    """Every QR code's text in the image (PIL image, mode L), duplicates removed.

    A scan's speckles (even 1 % of flipped pixels) defeat the binariser; when nothing that
    looks like an invoice payload is found, a 3×3 median filter removes them and we look again.
    """
    texts = _decode(image)
    if despeckle and not any(looks_like_payload(text) for text in texts):
        texts += [t for t in _decode(image.filter(ImageFilter.MedianFilter(3))) if t not in texts]
    return texts


def invoices_from_qr_texts(texts: list[str], *, source: str, where: str) -> list[dict]:
    payloads = [text for text in texts if looks_like_payload(text)]
    pad = " " if where.isascii() else ""  # "PDF 中", "图片中"
    if not texts:
        raise ValidationError(
            f"{where}{pad}中没有找到二维码,请上传清晰的发票{pad}{where}{pad}或手工录入。",
            code="no_qr",
        )
    if not payloads:
        shown = clean_text(texts[0])[:40]
        raise ValidationError(
            f"{where}{pad}中的二维码不是发票二维码(内容为“{shown}”)。", code="not_invoice"
        )
    return [parse_payload(text, source=source) for text in payloads]


def open_image(content: bytes) -> Image.Image:
    # Our pixel limit is below Pillow's own (which only warns up to twice its limit); it is
    # checked on the header, before any pixel is decoded.
    try:
        image = Image.open(io.BytesIO(content), formats=IMAGE_FORMATS)
        if image.width * image.height > MAX_IMAGE_PIXELS:
            raise ValidationError("图片尺寸过大,请缩小后再上传。", code="hostile")
        image.load()
    except Image.DecompressionBombError:
        raise ValidationError("图片尺寸过大,请缩小后再上传。", code="hostile") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise ValidationError("图片已损坏或不是 PNG/JPG 格式,无法读取。") from None
    return image.convert("L")


def read_image(content: bytes, *, source: str = "image") -> list[dict]:
    return invoices_from_qr_texts(decode_qr_texts(open_image(content)), source=source, where="图片")


# --- PDF ---------------------------------------------------------------------------------------


def open_pdf(content: bytes) -> pdfium.PdfDocument:
    if b"%PDF-" not in content[:1024]:
        raise ValidationError("文件不是 PDF 格式(可能是改了扩展名的其他文件),无法读取。")
    try:
        document = pdfium.PdfDocument(content)
    except pdfium.PdfiumError as error:
        if "password" in str(error).lower():
            raise ValidationError("PDF 文件已加密,无法读取。") from None
        raise ValidationError("PDF 文件已损坏,无法读取。") from None
    pages = len(document)
    if pages == 0 or pages > MAX_PDF_PAGES:
        document.close()  # explicitly, under the lock: a finaliser would run outside it
        if pages == 0:
            raise ValidationError("PDF 文件没有页面。")
        raise ValidationError(f"PDF 页数过多(超过 {MAX_PDF_PAGES} 页),请拆分后上传。")
    return document


def _qr_texts_at(page, dpi: int, *, despeckle: bool) -> list[str]:
    width, height = page.get_size()
    scale = dpi / 72
    if width * height * scale * scale > MAX_RENDER_PIXELS:
        scale = (MAX_RENDER_PIXELS / (width * height)) ** 0.5
    bitmap = page.render(scale=scale, grayscale=True)
    try:
        image = bitmap.to_pil()  # shares the bitmap's buffer: decoded before the bitmap closes
        texts = decode_qr_texts(image, despeckle=despeckle)
        del image
        return texts
    finally:
        bitmap.close()


def page_text(page) -> str:
    textpage = page.get_textpage()
    try:
        return textpage.get_text_range()
    finally:
        textpage.close()


def _page_qr_texts(page) -> list[str]:
    texts = _qr_texts_at(page, RENDER_DPI, despeckle=True)
    if not any(looks_like_payload(text) for text in texts):
        retry = _qr_texts_at(page, RETRY_DPI, despeckle=False)
        texts += [text for text in retry if text not in texts]
    return texts


def read_pdf(content: bytes, *, source: str = "pdf") -> list[dict]:
    """One invoice per invoice QR; the page's text completes it (seller, buyer, amounts) and
    must agree with it."""
    with PDFIUM_LOCK:
        document = open_pdf(content)
        try:
            return _read_pages(document, source)
        except pdfium.PdfiumError:
            raise ValidationError("PDF 文件已损坏(页面无法读取)。") from None
        finally:
            document.close()


def _read_pages(document, source: str) -> list[dict]:
    found: list[dict] = []
    all_texts: list[str] = []
    for index in range(len(document)):
        page = document[index]
        try:
            texts = _page_qr_texts(page)
            payloads = [text for text in texts if looks_like_payload(text)]
            page_invoices = [parse_payload(text, source=source) for text in payloads]
            if len(page_invoices) == 1:  # the text of a page with several invoices is ambiguous
                printed = invoice_from_pdf_text(page_text(page), source=source)
                page_invoices[0] = merge_readings(
                    page_invoices[0], printed, a_label="PDF 的二维码", b_label="PDF 的文字"
                )
        finally:
            page.close()
        all_texts += texts
        found += page_invoices
    if not found:
        invoices_from_qr_texts(all_texts, source=source, where="PDF")  # raises, in Chinese
    return found


# Labelled lines of a PDF invoice. The first two unlabelled 名称/纳税人识别号 pairs of the
# standard layout are the buyer (left or upper block) then the seller.
_LABELLED = {
    "buyer_name": r"购买方名称",
    "buyer_tax_id": r"购买方(?:统一社会信用代码/)?纳税人识别号",
    "seller_name": r"销售方名称",
    "seller_tax_id": r"销售方(?:统一社会信用代码/)?纳税人识别号",
}
_NAME = r"[::][ \t]*(\S.*?)[ \t]*(?=[ \t]{2,}|$|[ \t]\S*?[::])"
_TAX_ID = r"[::]\s*([0-9A-Z]{15,20})"
_MONEY = r"[¥]?\s*(-?[0-9][0-9,]*(?:\.[0-9]{1,2})?)"


def _search(pattern: str, text: str) -> str:
    match = re.search(pattern, text, re.MULTILINE)
    return match.group(1) if match else ""


def _printed_identity(text: str) -> dict:
    """发票代码/号码/开票日期 as printed, to be checked against the QR; a reading that does not
    make a valid combination is dropped (the text is a heuristic, the QR is not)."""
    code = _search(r"发票代码[::]\s*([0-9]{10,12})\b", text)
    number = _search(r"发票号码[::]\s*([0-9]{8,20})\b", text)
    valid = (not code and is_digits(number, 20)) or (len(code) in (10, 12) and is_digits(number, 8))
    found = {"code": code, "number": number} if valid else {}
    printed_date = _search(
        r"开票日期[::]\s*([0-9]{4}\s*年\s*[0-9]{1,2}\s*月\s*[0-9]{1,2}\s*日)", text
    )
    printed_date = printed_date or _search(r"开票日期[::]\s*([0-9]{4}-[0-9]{2}-[0-9]{2})", text)
    if printed_date:
        found["issue_date"] = re.sub(r"\s+", "", printed_date)
    return found


def invoice_from_pdf_text(raw: str, *, source: str) -> dict:
    text = clean_text(raw).replace("\r\n", "\n").replace("\r", "\n")
    found = {}
    for field, label in _LABELLED.items():
        found[field] = _search(label + (_TAX_ID if field.endswith("tax_id") else _NAME), text)
    names = re.findall(r"(?<![方])名称" + _NAME, text, re.MULTILINE)
    tax_ids = re.findall(
        r"(?<![方])(?:统一社会信用代码/)?纳税人识别号" + _TAX_ID, text, re.MULTILINE
    )
    for index, side in enumerate(("buyer", "seller")):
        if not found[f"{side}_name"] and len(names) > index:
            found[f"{side}_name"] = names[index]
        if not found[f"{side}_tax_id"] and len(tax_ids) > index:
            found[f"{side}_tax_id"] = tax_ids[index]
    found["total"] = _search(r"价税合计[^\n¥0-9-]*?\(小写\)\s*" + _MONEY, text) or _search(
        r"价税合计[^\n¥0-9-]*" + _MONEY, text
    )
    combined = re.search(r"(?m)^\s*合\s*计\s*" + _MONEY + r"\s+" + _MONEY, text)
    if combined:
        found["amount"], found["tax"] = combined.group(1), combined.group(2)
    found["amount"] = found.get("amount") or _search(r"(?m)^\s*金额[::]\s*" + _MONEY, text)
    found["tax"] = found.get("tax") or _search(r"(?m)^\s*税额[::]\s*" + _MONEY, text)
    found.update(_printed_identity(text))
    found = {key: clean_name(value) for key, value in found.items()}
    found["buyer_tax_id"] = clean_tax_id(found["buyer_tax_id"], "PDF 中的购买方纳税人识别号")
    found["seller_tax_id"] = clean_tax_id(found["seller_tax_id"], "PDF 中的销售方纳税人识别号")
    return invoice_from_labelled(found, source=source, where="PDF 的文字")
