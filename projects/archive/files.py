"""One file's 可用性 (usability) and 安全性 (security), as DA/T 70 asks of an archive.

verify_archive (checks.py) runs these on every entry of a package, and every upload that is
kept (an attachment, an invoice original) runs the same functions before anything is
stored (`acceptance_errors`): whatever an upload accepts passes the package's check, and
whatever would fail it is refused at upload, with the same words.

usability  a PDF opens with pikepdf and has a page (a generated one is marked PDF/A-3b);
           an XML parses (defusedxml; declared GBK is decoded first, as capture reads it);
           an OFD is a bounded zip whose XML parts all parse; a PNG/JPEG decodes fully
           (Pillow verify + load), its pixel count checked on the header before decoding
security   no /JavaScript, /JS or /Launch in a PDF, no executable embedded in it; no macros
           (vbaProject.bin, macroEnabled) in an office file; no executable at all

Each problem is a Chinese phrase that reads after “文件“名称””: the package report says
“文件“附件/照片.png”不能作为图像打开(……)。”, the upload “…,不能上传。”.
"""

from __future__ import annotations

import io
import warnings
import zipfile

from django.core.exceptions import ValidationError

from projects.uploads import check_ooxml_bounds

EXECUTABLE_SUFFIXES = (
    ".exe", ".dll", ".com", ".scr", ".bat", ".cmd", ".ps1", ".vbs", ".vbe", ".js", ".jse",
    ".wsf", ".msi", ".jar", ".sh", ".app", ".elf", ".so", ".lnk", ".hta", ".cpl",
)  # fmt: skip
EXECUTABLE_MAGIC = (b"MZ", b"\x7fELF", b"\xcf\xfa\xed\xfe", b"\xca\xfe\xba\xbe", b"#!")
OFFICE_SUFFIXES = (".docx", ".xlsx", ".pptx", ".docm", ".xlsm", ".pptm", ".dotm", ".xltm")
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
IMAGE_FORMATS = ("PNG", "JPEG")
# The same bound as capture's image reader (projects/capture/images.py): a 600 dpi A4 scan
# is 35 Mpx, a 48 Mpx phone photo fits; past it the decoded pixels alone take gigabytes.
MAX_IMAGE_PIXELS = 60_000_000
MAX_EMBEDDED_BYTES = 64 * 1024 * 1024
# An OFD invoice is one page of XML and a few fonts and seals: well under a megabyte; the
# bound is the uploads' zip bound (what is inflated to check it).
MAX_OFD_BYTES = 64 * 1024 * 1024


def is_pdf(lower: str, body: bytes) -> bool:
    return lower.endswith(".pdf") or body.startswith(b"%PDF-")


def usability_problem(path: str, body: bytes, *, must_be_pdfa: bool = False) -> str | None:
    """Why the file cannot be used (opened, parsed, decoded), or None; formats this module
    does not know (JSON, text: the package's own records) are checked by the caller."""
    lower = path.lower()
    if is_pdf(lower, body):
        return _pdf_usable(body, must_be_pdfa=must_be_pdfa)
    if lower.endswith(".xml"):
        return _xml_usable(body)
    if lower.endswith(".ofd"):
        return _ofd_usable(body)
    if lower.endswith(IMAGE_SUFFIXES):
        return _image_usable(body)
    return None


def security_problems(path: str, body: bytes) -> list[str]:
    """What makes the file unsafe to keep (each a phrase, as usability_problem's)."""
    lower = path.lower()
    found = []
    if lower.endswith(EXECUTABLE_SUFFIXES) or body.startswith(EXECUTABLE_MAGIC):
        found.append("是可执行文件或脚本")
    if is_pdf(lower, body):
        found += pdf_threats(body)
    if lower.endswith(OFFICE_SUFFIXES) or (
        body.startswith(b"PK\x03\x04") and not lower.endswith(".zip")
    ):
        found += office_threats(body, lower)
    return found


def acceptance_errors(name: str, body: bytes) -> list[str]:
    """The Chinese refusals of an upload that is to be kept: exactly what the package's
    usability and security checks would report of it (an unusable file: that alone)."""
    problem = usability_problem(name, body)
    found = [problem] if problem else security_problems(name, body)
    return [f"文件“{name}”{text},不能上传。" for text in found]


# --- 可用性 --------------------------------------------------------------------------------


def _pdf_usable(body: bytes, *, must_be_pdfa: bool) -> str | None:
    import pikepdf

    try:
        with pikepdf.open(io.BytesIO(body)) as pdf:
            if len(pdf.pages) == 0:
                return "不能作为 PDF 使用(没有页面)"
            if not must_be_pdfa:
                return None
            meta = pdf.open_metadata(set_pikepdf_as_editor=False)
            part, level = meta.get("pdfaid:part"), meta.get("pdfaid:conformance")
    except pikepdf.PasswordError:
        return "不能作为 PDF 打开(已加密,需要密码)"
    except Exception:  # noqa: BLE001 - any parser failure means "does not open"
        return "不能作为 PDF 打开(文件已损坏或不完整)"
    if not part:
        return "未标记为 PDF/A(XMP 中没有 pdfaid 标识)"
    if str(part) != "3" or str(level).upper() != "B":
        return f"标记为 PDF/A-{part}{level},不是 PDF/A-3b"
    return None


def _xml_usable(body: bytes) -> str | None:
    reason = _xml_reason(body)
    return f"不能作为 XML 解析({reason})" if reason else None


def _xml_reason(body: bytes) -> str | None:
    import defusedxml.ElementTree as SafeET
    from defusedxml import DefusedXmlException

    # Expat reads no multi-byte legacy encoding: the one rule capture reads GBK XML by.
    from projects.capture.safety import _decoded_if_gbk

    try:
        SafeET.fromstring(_decoded_if_gbk(body))
    except DefusedXmlException:
        return "含实体声明,出于安全原因不予解析"
    except Exception:  # noqa: BLE001 - a parse error, a bad encoding, a bad GBK text
        return "格式有误"
    return None


def _ofd_usable(body: bytes) -> str | None:
    """An OFD is a zip of XML parts (GB/T 33190): bounded, and every XML part parses."""
    try:
        check_ooxml_bounds(io.BytesIO(body), max_uncompressed=MAX_OFD_BYTES)
        with zipfile.ZipFile(io.BytesIO(body)) as archive:
            if "ofd.xml" not in {n.rsplit("/", 1)[-1].lower() for n in archive.namelist()}:
                return "不能作为 OFD 打开(没有 OFD.xml)"
            for info in archive.infolist():
                if info.filename.lower().endswith(".xml") and _xml_reason(archive.read(info)):
                    return f"不能作为 OFD 打开(其中的“{info.filename}”不能解析)"
    except ValidationError:
        return "不能作为 OFD 打开(不是有效的压缩格式,或解压后过大)"
    except Exception:  # noqa: BLE001 - a damaged member
        return "不能作为 OFD 打开(文件已损坏)"
    return None


def _image_usable(body: bytes) -> str | None:
    """Decoded fully: the header alone says little (a PNG signature before garbage, a JPEG
    whose data stops half-way). The pixel count is judged on the header, before decoding."""
    from PIL import Image, UnidentifiedImageError

    try:
        with warnings.catch_warnings():
            # Our bound is below Pillow's (which only warns up to twice its own) and is
            # judged right after the header is read, naming the size.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(body), formats=IMAGE_FORMATS) as image:
                width, height = image.size
                if width * height > MAX_IMAGE_PIXELS:
                    return _bomb(width, height)
                image.verify()
            with Image.open(io.BytesIO(body), formats=IMAGE_FORMATS) as image:
                image.load()
    except Image.DecompressionBombError:
        return _bomb(0, 0)
    except UnidentifiedImageError:
        return "不能作为图像打开(不是可识别的 PNG 或 JPEG 图像)"
    except Exception:  # noqa: BLE001 - truncated, corrupt data, a bad checksum
        return "不能作为图像打开(图像数据已损坏或不完整)"
    return None


def _bomb(width: int, height: int) -> str:
    size = f"{width}×{height} 像素," if width else ""
    return f"的图像尺寸过大({size}超过 {MAX_IMAGE_PIXELS // 10000} 万像素),疑似“解压炸弹”"


# --- 安全性 --------------------------------------------------------------------------------


def pdf_threats(body: bytes, depth: int = 0) -> list[str]:
    """What makes a PDF unsafe to keep: scripts, launch actions, embedded executables."""
    import pikepdf

    found: set[str] = set()
    try:
        with pikepdf.open(io.BytesIO(body)) as pdf:
            for obj in pdf.objects:
                _walk(obj, found, depth, 0)
    except Exception as exc:  # noqa: BLE001 - an unreadable PDF cannot be cleared as safe
        return [f"无法检查其中的动作(不能作为 PDF 解析:{type(exc).__name__})"]
    return sorted(found)


def _walk(obj, found: set, depth: int, level: int) -> None:
    import pikepdf

    if level > 64:
        return
    if isinstance(obj, pikepdf.Array):
        for item in obj:
            if isinstance(item, pikepdf.Object) and not item.is_indirect:
                _walk(item, found, depth, level + 1)
        return
    if not isinstance(obj, pikepdf.Dictionary | pikepdf.Stream):
        return
    keys = set(obj.keys())
    if "/JS" in keys or "/JavaScript" in keys or obj.get("/S") == pikepdf.Name.JavaScript:
        found.add("含 JavaScript 动作(/JavaScript、/JS)")
    if obj.get("/S") == pikepdf.Name.Launch or "/Launch" in keys:
        found.add("含启动外部程序的动作(/Launch)")
    if obj.get("/Type") == pikepdf.Name.Filespec:
        names = [str(obj.get(k, "")) for k in ("/UF", "/F")]
        if any(n.lower().endswith(EXECUTABLE_SUFFIXES) for n in names):
            found.add("嵌入了可执行文件")
    if isinstance(obj, pikepdf.Stream) and obj.get("/Type") == pikepdf.Name.EmbeddedFile:
        _embedded(obj, found, depth)
    for key in keys:
        item = obj.get(key)
        if isinstance(item, pikepdf.Object) and not item.is_indirect:
            _walk(item, found, depth, level + 1)


def _embedded(stream, found: set, depth: int) -> None:
    try:
        length = int(stream.get("/Length", 0))
        if length > MAX_EMBEDDED_BYTES:
            found.add("嵌入的文件过大,无法检查")
            return
        data = stream.read_bytes()
    except Exception:  # noqa: BLE001
        found.add("嵌入的文件不能读取,无法检查")
        return
    if len(data) > MAX_EMBEDDED_BYTES:
        found.add("嵌入的文件过大,无法检查")
    elif data.startswith(EXECUTABLE_MAGIC):
        found.add("嵌入了可执行文件")
    elif data.startswith(b"%PDF-") and depth < 2:
        found.update(f"嵌入的 PDF {text}" for text in pdf_threats(data, depth + 1))


def office_threats(body: bytes, lower: str) -> list[str]:
    if lower.endswith((".docm", ".xlsm", ".pptm", ".dotm", ".xltm")):
        return ["是启用宏的办公文件"]
    try:
        with zipfile.ZipFile(io.BytesIO(body)) as inner:
            names = [n.lower() for n in inner.namelist()]
            types = b""
            if "[content_types].xml" in names:
                info = inner.getinfo(inner.namelist()[names.index("[content_types].xml")])
                if info.file_size < 1024 * 1024:
                    types = inner.read(info)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError):
        return [] if not lower.endswith(OFFICE_SUFFIXES) else ["不能作为办公文件打开,无法检查宏"]
    if any(n.endswith("vbaproject.bin") for n in names) or b"macroEnabled" in types:
        return ["含宏(vbaProject.bin)"]
    return []
