"""manifest.xml: the package's metadata (档号, 题名, 年度, 立档单位, 责任者, 保管期限 …) and,
for each file, its path, role, retention, size, SHA-256 and SM3.

保管期限 (retention):
- 30年 for vouchers and ledgers: the 结算单, the 决算清单, the invoices and the disbursement
  records are 原始凭证/记账凭证 and 账簿 in the sense of 《会计档案管理办法》
  (财政部·国家档案局令第79号, 2015, 附表一: 原始凭证、记账凭证、总账、明细账 30年).
- 永久 for the file of a commended project (优秀项目): 《机关文件材料归档范围和文书档案
  保管期限规定》(国家档案局令第8号, 第八条) keeps permanently the records of the body's
  commendations and of its major work that have lasting value for checking and research; a
  commended project is one such record, so its business documents (申请书, 验收意见, history)
  and the package as a whole are 永久. Its vouchers stay 30年 (79号令 governs them).
- otherwise 30年 (定期30年 of the same 8号令 for a body's ordinary business files).
The 档号 follows DA/T 22-2015 (全宗号-年度-保管期限代码-件号): Y for 永久, D30 for 30年.
"""

from dataclasses import dataclass, field
from xml.etree import ElementTree as ET

NAMESPACE = "urn:dangfei:archive-package:1"
MANIFEST_NAME = "manifest.xml"
PERMANENT, THIRTY_YEARS = "永久", "30年"
RETENTION_CODES = {PERMANENT: "Y", THIRTY_YEARS: "D30"}
GENERATED, ORIGINAL, RECORD = "generated", "original", "record"
ROLE_LABELS = {GENERATED: "系统生成的文书", ORIGINAL: "上传原件(原样保存)", RECORD: "系统记录"}

METADATA = [
    ("archival_code", "档号"),
    ("title", "题名"),
    ("year", "年度"),
    ("fonds", "立档单位"),
    ("creator", "责任者"),
    ("retention", "保管期限"),
    ("project_code", "项目编号"),
    ("leader", "项目负责人"),
    ("commended", "优秀项目"),
    ("closed_at", "归档时间"),
    ("history_events", "历史记录条数"),
    ("file_count", "文件数"),
    ("basis", "依据"),
    ("generator", "形成系统"),
]
FILE_ATTRIBUTES = ("seq", "path", "label", "role", "retention", "size", "sha256", "sm3")


class ManifestError(Exception):
    """The manifest cannot be read (Chinese message)."""


@dataclass
class Manifest:
    metadata: dict = field(default_factory=dict)
    files: list = field(default_factory=list)


def manifest_xml(metadata: dict, files: list[dict]) -> bytes:
    root = ET.Element("archive-package", {"xmlns": NAMESPACE, "format-version": "1"})
    meta = ET.SubElement(root, "metadata")
    for name, label in METADATA:
        item = ET.SubElement(meta, "item", {"name": name, "label": label})
        item.text = str(metadata.get(name, ""))
    listing = ET.SubElement(root, "files", {"count": str(len(files))})
    for entry in files:
        ET.SubElement(listing, "file", {key: str(entry[key]) for key in FILE_ATTRIBUTES})
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n"


def parse_manifest(data: bytes) -> Manifest:
    import defusedxml.ElementTree as SafeET
    from defusedxml import DefusedXmlException

    try:
        root = SafeET.fromstring(data)
    except (ET.ParseError, DefusedXmlException, ValueError) as exc:
        where = getattr(exc, "position", None)
        at = f"(第 {where[0]} 行第 {where[1]} 列)" if where else "(含不允许的 XML 结构)"
        raise ManifestError(f"清单 manifest.xml 不能解析{at}。") from exc
    ns = f"{{{NAMESPACE}}}"
    if root.tag != f"{ns}archive-package":
        raise ManifestError("manifest.xml 不是本系统的档案包清单。")
    manifest = Manifest()
    for item in root.iter(f"{ns}item"):
        manifest.metadata[item.get("name", "")] = item.text or ""
    listing = root.find(f"{ns}files")
    if listing is None:
        raise ManifestError("清单中没有文件列表。")
    for element in listing.iter(f"{ns}file"):
        entry = {key: element.get(key, "") for key in FILE_ATTRIBUTES}
        try:
            entry["seq"] = int(entry["seq"])
            entry["size"] = int(entry["size"])
        except ValueError as exc:
            raise ManifestError(f"清单中文件“{entry['path']}”的序号或大小不是数字。") from exc
        manifest.files.append(entry)
    manifest.metadata["declared_count"] = listing.get("count", "")
    return manifest
