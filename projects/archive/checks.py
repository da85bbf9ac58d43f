"""verify_archive: the four checks of DA/T 70 on an archive package (a zip from
package.py), with a Chinese report.

真实性 authenticity  every file's size, SHA-256 and SM3 match manifest.xml; the package's own
                     digest matches the history's "archive_package" event, and the history
                     file's events match the system's, when this database holds the project
完整性 integrity     every listed file present, none extra, the manifest's and the history's
                     sequence numbers complete (1..n, no gaps, counts as declared)
可用性 usability     each PDF opens (pikepdf) with a page and a generated one is marked PDF/A
                     (XMP pdfaid); each XML parses (defusedxml), each OFD's XML parts too;
                     each PNG/JPEG decodes fully; each JSON and text file reads
安全性 security      no /JavaScript, /JS or /Launch in any PDF (every object walked, the direct
                     dictionaries inside them too), no executable embedded in a PDF or put
                     in the package, no macros (vbaProject.bin) in office files, no path
                     traversal in the zip's names, no zip bomb

One file's usability and security are judged in files.py, which every kept upload runs
before it is stored: what an upload accepts, this check passes.

Hostile input never raises: a garbage file, a zip bomb or a broken PDF is a failure in the
report. Nothing is extracted to disk; entries are read into memory under size limits.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from dataclasses import dataclass, field

from projects.archive.digests import sha256_hex, sm3_hex
from projects.archive.files import security_problems, usability_problem
from projects.archive.history import HISTORY_FORMAT
from projects.archive.manifest import GENERATED, MANIFEST_NAME, ManifestError, parse_manifest

SECTIONS = [
    ("authenticity", "真实性"),
    ("integrity", "完整性"),
    ("usability", "可用性"),
    ("security", "安全性"),
]
MAX_ENTRIES = 20000
MAX_ENTRY_BYTES = 512 * 1024 * 1024
MAX_TOTAL_BYTES = 2 * 1024 * 1024 * 1024
MAX_RATIO = 200  # uncompressed / compressed, for entries past BOMB_FLOOR
BOMB_FLOOR = 8 * 1024 * 1024
HISTORY_JSON = "历史/项目历史.json"
UNSAFE_NAME = re.compile(r"(^[/\\])|(^[A-Za-z]:)|(\\)|(\x00)|((^|/)\.\.(/|$))")


@dataclass
class Finding:
    ok: bool | None  # None: a note (neither pass nor failure)
    text: str


@dataclass
class Report:
    name: str = ""
    size: int = 0
    sha256: str = ""
    sm3: str = ""
    metadata: dict = field(default_factory=dict)
    findings: dict = field(default_factory=lambda: {key: [] for key, _ in SECTIONS})

    def add(self, section: str, ok: bool | None, text: str) -> None:
        self.findings[section].append(Finding(ok, text))

    def failed(self, section: str) -> bool:
        # A section that could not be checked at all (the package did not open) fails too.
        findings = self.findings[section]
        return not findings or any(f.ok is False for f in findings)

    @property
    def ok(self) -> bool:
        return not any(self.failed(key) for key, _ in SECTIONS)

    def text(self) -> str:
        lines = ["档案包四性检测报告(DA/T 70:真实性、完整性、可用性、安全性)"]
        lines.append(f"档案包:{self.name}({self.size} 字节)")
        if self.sha256:
            lines.append(f"SHA-256:{self.sha256}")
            lines.append(f"SM3:{self.sm3}")
        for key, label in (("archival_code", "档号"), ("title", "题名"), ("retention", "保管期限")):
            if self.metadata.get(key):
                lines.append(f"{label}:{self.metadata[key]}")
        marks = {True: "[通过]", False: "[不符]", None: "[提示]"}
        for key, label in SECTIONS:
            lines.append("")
            lines.append(f"【{label}】{'未通过' if self.failed(key) else '通过'}")
            for finding in self.findings[key] or [Finding(False, "未能检测(档案包无法读取)。")]:
                lines.append(f"  {marks[finding.ok]} {finding.text}")
        lines.append("")
        failed = [label for key, label in SECTIONS if self.failed(key)]
        lines.append(
            f"结论:未通过({'、'.join(failed)}检测有不符项)。" if failed else "结论:通过四性检测。"
        )
        return "\n".join(lines) + "\n"


class _Bomb(Exception):
    pass


def _read(archive: zipfile.ZipFile, info: zipfile.ZipInfo, budget: list) -> bytes:
    """An entry's bytes, never more than its declared size (a lying header is a bomb)."""
    limit = min(info.file_size, MAX_ENTRY_BYTES)
    chunks, total = [], 0
    with archive.open(info) as handle:
        while True:
            chunk = handle.read(1024 * 1024)
            if not chunk:
                break
            total += len(chunk)
            budget[0] -= len(chunk)
            if total > limit or budget[0] < 0:
                raise _Bomb(info.filename)
            chunks.append(chunk)
    return b"".join(chunks)


def verify_package(data: bytes, *, name: str = "", use_database: bool = True) -> Report:
    report = Report(name=name, size=len(data), sha256=sha256_hex(data), sm3=sm3_hex(data))
    try:
        _verify(report, data, use_database)
    except Exception as exc:  # noqa: BLE001 - hostile input: a failure in the report, never a crash
        report.add(
            "usability", False, f"检测中断:档案包内容异常,无法继续检测({type(exc).__name__})。"
        )
    return report


def _open_zip(report: Report, data: bytes):
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError):
        report.add("integrity", False, "文件不是有效的 ZIP 档案包,无法读取。")
        report.add("usability", False, "文件不是有效的 ZIP 档案包,无法读取。")
        return None, []
    return archive, infos


def _verify(report: Report, data: bytes, use_database: bool) -> None:
    archive, infos = _open_zip(report, data)
    if archive is None:
        return
    contents = _read_entries(report, archive, infos)
    if contents is None:
        return
    manifest = _manifest(report, contents)
    if manifest is None:
        return
    report.metadata = manifest.metadata
    _authenticity(report, manifest, contents, use_database)
    _integrity(report, manifest, contents)
    _usability(report, manifest, contents)
    _security(report, contents)


def _read_entries(report: Report, archive, infos) -> dict | None:
    if len(infos) > MAX_ENTRIES:
        report.add(
            "security", False, f"档案包含 {len(infos)} 个条目,超过上限 {MAX_ENTRIES},疑似压缩炸弹。"
        )
        return None
    declared = sum(i.file_size for i in infos)
    if declared > MAX_TOTAL_BYTES:
        report.add("security", False, "档案包解压后的总大小超过上限,疑似压缩炸弹,未解压。")
        return None
    contents: dict[str, bytes] = {}
    budget = [MAX_TOTAL_BYTES]
    seen = set()
    unsafe = []
    for info in infos:
        entry = info.filename
        if entry in seen:
            report.add("integrity", False, f"档案包中有重名的条目“{entry}”。")
            continue
        seen.add(entry)
        if UNSAFE_NAME.search(entry) or any(not ch.isprintable() for ch in entry):
            unsafe.append(entry)
            continue
        if info.is_dir():
            continue
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > BOMB_FLOOR and ratio > MAX_RATIO:
            report.add(
                "security", False, f"条目“{entry}”的压缩比为 {ratio:.0f}:1,疑似压缩炸弹,未解压。"
            )
            return None
        try:
            contents[entry] = _read(archive, info, budget)
        except _Bomb:
            report.add("security", False, f"条目“{entry}”解压后超过其声明的大小,疑似压缩炸弹。")
            return None
        except (
            zipfile.BadZipFile,
            OSError,
            EOFError,
            ValueError,
            NotImplementedError,
            RuntimeError,
        ):  # RuntimeError: an encrypted entry
            report.add("integrity", False, f"条目“{entry}”已损坏或已加密,不能读取。")
    if unsafe:
        for entry in unsafe:
            report.add(
                "security", False, f"条目名“{entry}”含路径穿越或绝对路径,可能写到档案包之外。"
            )
    else:
        report.add("security", True, "档案包条目名均为包内相对路径,无路径穿越。")
    return contents


def _manifest(report: Report, contents: dict):
    if MANIFEST_NAME not in contents:
        report.add("integrity", False, "档案包中缺少清单 manifest.xml。")
        report.add("authenticity", False, "没有清单,无法核对文件摘要。")
        return None
    try:
        return parse_manifest(contents[MANIFEST_NAME])
    except ManifestError as exc:
        report.add("usability", False, str(exc))
        report.add("authenticity", False, "清单不能读取,无法核对文件摘要。")
        return None


# --- 真实性 --------------------------------------------------------------------------------


def _authenticity(report: Report, manifest, contents: dict, use_database: bool) -> None:
    good = 0
    for entry in manifest.files:
        path = entry["path"]
        if path not in contents:
            continue  # reported by the integrity check
        body = contents[path]
        problems = []
        if len(body) != entry["size"]:
            problems.append(f"大小 {len(body)} 字节(清单 {entry['size']} 字节)")
        if sha256_hex(body) != entry["sha256"].lower():
            problems.append("SHA-256 摘要")
        if sm3_hex(body) != entry["sm3"].lower():
            problems.append("SM3 摘要")
        if problems:
            report.add(
                "authenticity",
                False,
                f"文件“{path}”的{'、'.join(problems)}与清单不符,内容已被改动。",
            )
        else:
            good += 1
    report.add("authenticity", True, f"{good} 个文件的大小、SHA-256 与 SM3 摘要与清单相符。")
    if use_database:
        _against_history(report, manifest, contents)


def _against_history(report: Report, manifest, contents: dict) -> None:
    from django.db import DatabaseError

    from projects.models import Project, ProjectHistory

    code = manifest.metadata.get("project_code", "")
    try:
        project = Project.objects.filter(code=code).first() if code else None
        if project is None:
            report.add(
                "authenticity",
                None,
                f"未在本系统历史中找到该档案包的摘要(本系统没有项目“{code}”),只核对了清单中的摘要。",
            )
            return
        events = list(
            ProjectHistory.objects.filter(project=project, transition="archive_package").order_by(
                "seq"
            )
        )
        rows = {r.seq: r for r in ProjectHistory.objects.filter(project=project)}
    except DatabaseError:
        report.add("authenticity", None, "未能读取本系统的历史,档案包摘要未与历史核对。")
        return
    match = next(
        (
            e
            for e in events
            if (e.data or {}).get("sha256") == report.sha256
            and (e.data or {}).get("sm3") == report.sm3
        ),
        None,
    )
    if match is not None and not _event_signed(match):
        report.add(
            "authenticity",
            False,
            f"本系统历史第 {match.seq} 条“生成档案包”记录的校验值不符:历史记录本身可能被改动。",
        )
    elif match is not None:
        from projects.dates import format_datetime

        report.add(
            "authenticity",
            True,
            f"档案包摘要与本系统历史第 {match.seq} 条“生成档案包”记录"
            f"({format_datetime(match.created_at)})相符。",
        )
    elif events:
        report.add(
            "authenticity",
            False,
            f"档案包摘要与本系统历史中项目 {code} 的档案包记录不符:不是本系统生成的那个档案包。",
        )
    else:
        report.add("authenticity", False, f"本系统历史中没有项目 {code} 生成档案包的记录。")
    history = _history(contents)
    if history is None:
        return
    differing = [
        e.get("seq")
        for e in history.get("events", [])
        if not isinstance(e, dict)
        or rows.get(e.get("seq")) is None
        or rows[e.get("seq")].digest != e.get("digest")
    ]
    if differing:
        shown = "、".join(str(s) for s in differing[:10])
        report.add("authenticity", False, f"历史文件中第 {shown} 条记录与本系统的历史不符。")
    else:
        report.add("authenticity", True, "历史文件的每条记录与本系统历史链的校验值一致。")


def _event_signed(row) -> bool:
    """The event row is what the chain signed (HMAC with its key id)."""
    import hmac

    from projects.services import events

    try:
        return hmac.compare_digest(events.compute_digest(row), row.digest)
    except events.UnknownKey:
        return False


def _history(contents: dict):
    try:
        history = json.loads(contents[HISTORY_JSON].decode("utf-8"))
    except (KeyError, ValueError, UnicodeDecodeError):
        return None
    return history if isinstance(history, dict) else None


# --- 完整性 --------------------------------------------------------------------------------


def _integrity(report: Report, manifest, contents: dict) -> None:
    listed = [entry["path"] for entry in manifest.files]
    missing = [path for path in listed if path not in contents]
    extra = sorted(set(contents) - set(listed) - {MANIFEST_NAME})
    for path in missing:
        report.add("integrity", False, f"清单中的文件“{path}”在档案包中不存在。")
    for path in extra:
        report.add("integrity", False, f"文件“{path}”未列入清单。")
    if len(set(listed)) != len(listed):
        report.add("integrity", False, "清单中同一文件出现了不止一次。")
    seqs = [entry["seq"] for entry in manifest.files]
    if seqs != list(range(1, len(seqs) + 1)):
        report.add("integrity", False, "清单中文件的序号不连续。")
    declared = manifest.metadata.get("declared_count", "")
    if declared != str(len(listed)) or manifest.metadata.get("file_count") != str(len(listed)):
        report.add("integrity", False, f"清单声明的文件数与列出的 {len(listed)} 个文件不符。")
    if not (missing or extra):
        report.add("integrity", True, f"清单列出的 {len(listed)} 个文件齐全,没有清单之外的文件。")
    history = _history(contents)
    if history is None:
        report.add("integrity", False, f"缺少可读的历史数据文件“{HISTORY_JSON}”。")
        return
    events = history.get("events")
    events = events if isinstance(events, list) else []
    numbers = [e.get("seq") if isinstance(e, dict) else None for e in events]
    if numbers != list(range(1, len(numbers) + 1)):
        gaps = sorted(
            set(range(1, max([n for n in numbers if isinstance(n, int)] or [0]) + 1)) - set(numbers)
        )
        hint = f"缺第 {'、'.join(map(str, gaps[:10]))} 条" if gaps else "顺序错乱或重复"
        report.add("integrity", False, f"历史记录的序号不连续({hint})。")
    elif history.get("count") != len(events) or manifest.metadata.get("history_events") != str(
        len(events)
    ):
        report.add("integrity", False, "历史记录条数与清单或历史文件声明的条数不符。")
    else:
        report.add("integrity", True, f"历史记录第 1 至第 {len(events)} 条,序号连续。")


# --- 可用性 --------------------------------------------------------------------------------


def _usability(report: Report, manifest, contents: dict) -> None:
    roles = {entry["path"]: entry["role"] for entry in manifest.files}
    good = 0
    for path, body in sorted(contents.items()):
        if path.lower().endswith(".json"):
            problem = _json_usable(body, HISTORY_FORMAT if path == HISTORY_JSON else None)
        elif path.lower().endswith(".txt"):
            problem = None if _is_utf8(body) else "不是 UTF-8 文本"
        else:
            problem = usability_problem(path, body, must_be_pdfa=roles.get(path) == GENERATED)
        if problem:
            report.add("usability", False, f"文件“{path}”{problem}。")
        else:
            good += 1
    report.add("usability", True, f"{good} 个文件可以打开(PDF、XML、JSON、文本、图像按格式检查)。")


def _is_utf8(body: bytes) -> bool:
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _json_usable(body: bytes, expected_format: str | None) -> str | None:
    try:
        value = json.loads(body.decode("utf-8"))
    except (ValueError, UnicodeDecodeError, RecursionError):
        return "不能作为 JSON 解析"
    if expected_format and (not isinstance(value, dict) or value.get("format") != expected_format):
        return "不是本系统的历史数据格式"
    return None


# --- 安全性 --------------------------------------------------------------------------------


def _security(report: Report, contents: dict) -> None:
    problems = 0
    for path, body in sorted(contents.items()):
        found = security_problems(path, body)
        for text in found:
            problems += 1
            report.add("security", False, f"文件“{path}”{text}。")
    if not problems:
        report.add(
            "security",
            True,
            "PDF 中没有 JavaScript、启动外部程序的动作或嵌入的可执行文件;办公文件中没有宏;"
            "档案包中没有可执行文件。",
        )
