"""Opening what an uploader hands us without trusting it: XML without entities or DTDs,
zips (the tax platform's bundle, and OFD, which is a zip) without traversal or bombs.

Limits are module constants so that a test or a deployment can read them; every zip limit is
checked on the central directory BEFORE any member is decompressed, and the bytes actually
read are capped again while reading (a header may lie).
"""

from __future__ import annotations

import io
import re
import stat
import zipfile
import zlib
from xml.etree.ElementTree import Element, ParseError, TreeBuilder
from xml.parsers.expat import ExpatError

import defusedxml.ElementTree as DefusedET
from defusedxml import DefusedXmlException
from django.core.exceptions import ValidationError

MAX_INPUT_BYTES = 50 * 1024 * 1024  # one uploaded file
MAX_XML_BYTES = 5 * 1024 * 1024  # one invoice XML (a real one is a few KB)
MAX_ZIP_MEMBERS = 3100  # 1,000 invoices as PDF + OFD + XML, and a little more
MAX_MEMBER_BYTES = 20 * 1024 * 1024  # uncompressed, one member
MAX_TOTAL_BYTES = 120 * 1024 * 1024  # uncompressed, all members together
MAX_RATIO = 100  # uncompressed / compressed, for members large enough to matter
RATIO_FLOOR_BYTES = 1024 * 1024  # below this a high ratio cannot hurt (the total is capped)
READ_CHUNK = 256 * 1024
# An OFD invoice is one page of XML and a few fonts and seals: well under a megabyte.
MAX_OFD_MEMBERS = 500
MAX_OFD_TOTAL_BYTES = 20 * 1024 * 1024


_GB_DECLARATION = re.compile(
    rb"""^\s*<\?xml[^>]*encoding\s*=\s*["'](gbk|gb2312|gb18030)["']""", re.I
)


def _decoded_if_gbk(content: bytes) -> bytes | str:
    """Expat cannot read multi-byte legacy encodings; XML declared GBK is decoded here
    (GB18030 is its superset) and handed over as text."""
    if not _GB_DECLARATION.match(content[:200]):
        return content
    try:
        return content.decode("gb18030")
    except UnicodeDecodeError:
        raise ValidationError("XML 文件声明为 GBK 编码,但内容不是有效的 GBK 文本。") from None


def _defused_parse(content: bytes | str) -> Element:
    """defusedxml's parser, with its protections as defusedxml sets them, building the tree
    with the C TreeBuilder.

    DefusedXMLParser(forbid_dtd=True) installs its refusals on its expat parser (a DOCTYPE,
    any ENTITY declaration, an external reference: each raises before anything is
    expanded). Its element callbacks are pure Python (defusedxml subclasses the pure-Python
    XMLParser), which was most of the time of a 1,000-invoice zip; here expat's element and
    text callbacks go straight to the C TreeBuilder instead, and defusedxml's refusal
    handlers stay exactly as defusedxml installed them (tests/security and the hostile-file
    tests hold them)."""
    defused = DefusedET.DefusedXMLParser(forbid_dtd=True)
    expat = defused.parser
    builder = TreeBuilder()
    expat.ordered_attributes = False  # attributes as a dict, as TreeBuilder.start takes them
    expat.StartElementHandler = builder.start
    expat.EndElementHandler = builder.end
    expat.CharacterDataHandler = builder.data
    expat.Parse(content, True)
    return builder.close()


def parse_xml(content: bytes, what: str = "XML 文件") -> Element:
    """The root element, with namespaces dropped from every tag (the readers match local names).

    No DTD, no entity (internal or external), no network: a billion-laughs bomb or an
    external entity is refused before anything is expanded.
    """
    if len(content) > MAX_XML_BYTES:
        raise ValidationError(f"{what}过大(超过 {MAX_XML_BYTES // 1024 // 1024} MB),不像是发票。")
    try:
        root = _defused_parse(_decoded_if_gbk(content))
    except DefusedXmlException:
        raise ValidationError(
            f"{what}含有文档类型声明或实体(DTD/ENTITY),出于安全原因拒绝读取。", code="hostile"
        ) from None
    except (ParseError, ExpatError, ValueError, LookupError):  # LookupError: unknown encoding
        raise ValidationError(f"{what}格式有误,无法读取。") from None
    if b"xmlns" in content or b"\x00" in content:  # namespaced (or UTF-16): drop the URIs
        for element in root.iter():
            if isinstance(element.tag, str) and "}" in element.tag:
                element.tag = element.tag.rsplit("}", 1)[1]
    return root


def display_name(info: zipfile.ZipInfo) -> str:
    """Member names without the UTF-8 flag are GBK on Chinese Windows, not cp437."""
    if info.flag_bits & 0x800:
        return info.filename
    try:
        return info.filename.encode("cp437").decode("gbk")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return info.filename


def _unsafe_name(name: str) -> bool:
    normalised = name.replace("\\", "/")
    if normalised.startswith("/") or (len(normalised) > 1 and normalised[1] == ":"):
        return True
    return any(part == ".." for part in normalised.split("/"))


def _check_member(info: zipfile.ZipInfo, what: str) -> None:
    name = display_name(info)
    if _unsafe_name(info.filename):
        raise ValidationError(
            f"{what}中的文件名“{name}”指向压缩包以外的位置,出于安全原因拒绝读取。",
            code="hostile",
        )
    if info.flag_bits & 0x1:
        raise ValidationError(f"{what}中的“{name}”已加密,无法读取。")
    if stat.S_ISLNK(info.external_attr >> 16):
        raise ValidationError(f"{what}中的“{name}”是符号链接,出于安全原因拒绝读取。")
    if info.file_size > MAX_MEMBER_BYTES:
        raise ValidationError(
            f"{what}中的“{name}”解压后过大(超过 {MAX_MEMBER_BYTES // 1024 // 1024} MB),拒绝读取。",
            code="hostile",
        )
    if info.file_size > RATIO_FLOOR_BYTES and info.file_size > MAX_RATIO * max(
        info.compress_size, 1
    ):
        raise ValidationError(
            f"{what}中的“{name}”压缩比异常(疑似压缩炸弹),拒绝读取。", code="hostile"
        )


_BROKEN = (
    zipfile.BadZipFile,
    zlib.error,
    EOFError,
    OSError,
    ValueError,
    NotImplementedError,
    RuntimeError,
)


class SafeZip:
    """A zip whose directory passed the checks; members are read with a byte cap."""

    def __init__(
        self,
        content: bytes,
        what: str,
        *,
        max_members: int | None = None,
        max_total: int | None = None,
    ):
        self.what = what
        max_members = MAX_ZIP_MEMBERS if max_members is None else max_members
        self.max_total = MAX_TOTAL_BYTES if max_total is None else max_total
        try:
            self.zip = zipfile.ZipFile(io.BytesIO(content))
            infos = self.zip.infolist()
        except (*_BROKEN, zipfile.LargeZipFile):
            raise ValidationError(f"{what}已损坏或不是 zip 格式,无法打开。") from None
        if len(infos) > max_members:
            raise ValidationError(
                f"{what}中的文件过多({len(infos)} 个,最多 {max_members} 个),拒绝读取。",
                code="hostile",
            )
        for info in infos:
            _check_member(info, what)
        if sum(info.file_size for info in infos) > self.max_total:
            raise ValidationError(
                f"{what}解压后总大小超过 {self.max_total // 1024 // 1024} MB,拒绝读取。",
                code="hostile",
            )
        self.members = [info for info in infos if not info.is_dir()]
        self._read_total = 0

    def names(self) -> list[str]:
        return [info.filename for info in self.members]

    def find(self, name: str) -> zipfile.ZipInfo | None:
        wanted = name.lower()
        for info in self.members:
            if info.filename.lower() == wanted:
                return info
        return None

    def read(self, info: zipfile.ZipInfo) -> bytes:
        """At most the declared size (and the limits) is decompressed, whatever the data says."""
        cap = min(info.file_size, MAX_MEMBER_BYTES, self.max_total - self._read_total)
        out = bytearray()
        try:
            with self.zip.open(info) as stream:
                while chunk := stream.read(min(READ_CHUNK, cap + 1 - len(out))):
                    out += chunk
                    if len(out) > cap:
                        raise ValidationError(
                            f"{self.what}中的“{display_name(info)}”解压后超过声明的大小,拒绝读取。",
                            code="hostile",
                        )
        except _BROKEN:
            raise ValidationError(
                f"{self.what}中的“{display_name(info)}”已损坏,无法解压。"
            ) from None
        self._read_total += len(out)
        return bytes(out)
