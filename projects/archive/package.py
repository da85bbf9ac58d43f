"""Building, storing and serving the archive package of a closed project.

The package is deterministic: the same project gives the same bytes (entries sorted by
name, every entry stamped with the project's closing time, fixed permissions and system,
the PDFs themselves rendered deterministically). It is built once, on `close`, inside the
close's transaction; its SHA-256 and SM3 go into the history chain (event
"archive_package") and its bytes into the default storage (ArchivePackage.file), and every
download afterwards serves those stored bytes.
"""

from __future__ import annotations

import io
import json
import time
import zipfile
from dataclasses import dataclass, field

from django.core.files.base import ContentFile
from django.utils import timezone

from projects.archive.digests import sha256_hex, sm3_hex
from projects.archive.history import history_json, history_rows, history_text
from projects.archive.manifest import (
    GENERATED,
    MANIFEST_NAME,
    ORIGINAL,
    PERMANENT,
    RECORD,
    RETENTION_CODES,
    THIRTY_YEARS,
    manifest_xml,
)
from projects.dates import format_datetime
from projects.downloads import clean_filename
from projects.models import ArchivePackage, Document, Project, State
from projects.services.errors import WorkflowError

GENERATOR = "党费项目化管理系统"
BASIS = "DA/T 70、DA/T 94-2022、DA/T 95-2022;财政部·国家档案局令第79号;国家档案局令第8号"
EPOCH = (1980, 1, 1, 0, 0, 0)
# Already-compressed content is stored as is: deflating a PDF or a JPEG again gains nothing.
STORED_SUFFIXES = (".pdf", ".png", ".jpg", ".jpeg", ".zip", ".xlsx", ".docx", ".ofd")


@dataclass
class Entry:
    path: str
    data: bytes
    label: str
    role: str
    retention: str


@dataclass
class Built:
    data: bytes
    metadata: dict
    files: list
    timings: dict = field(default_factory=dict)

    @property
    def sha256(self) -> str:
        return sha256_hex(self.data)

    @property
    def sm3(self) -> str:
        return sm3_hex(self.data)


def has_money(project: Project) -> bool:
    """结算单 and 决算清单 belong to a project that handled money (a 四级 project has none)."""
    return bool(
        project.settlement_amount is not None
        or project.invoices.exists()
        or project.disbursements.exists()
        or (project.approved_amount or 0) > 0
    )


def retention_of(project: Project) -> str:
    # See manifest.py: a commended project's file is kept permanently, any other 30 years.
    return PERMANENT if project.is_commended else THIRTY_YEARS


def archival_code(project: Project, retention: str) -> str:
    """全宗号-年度-保管期限代码-件号 (DA/T 22-2015)."""
    org = project.organization
    fonds = org.uscc or f"ORG{org.pk:04d}"
    return f"{fonds}-{project.year}-{RETENTION_CODES[retention]}-{project.code}"


def _documents(project: Project, actor, retention: str, timings: dict) -> list[Entry]:
    from projects.documents.kinds import Kind, Subject
    from projects.documents.pdf import render_document

    kinds = [(Kind.APPLICATION, retention), (Kind.ACCEPTANCE, retention)]
    if has_money(project):
        kinds += [(Kind.FINAL_ACCOUNTS, THIRTY_YEARS), (Kind.SETTLEMENT, THIRTY_YEARS)]
    entries = []
    started = time.perf_counter()
    for n, (kind, kept) in enumerate(kinds, start=1):
        name, body = render_document(Subject(kind, project=project), user=actor)
        path = f"文书/{n:02d}-{clean_filename(name, 'document.pdf')}"
        entries.append(Entry(path, body, Kind(kind).label, GENERATED, kept))
    timings["pdf"] = timings.get("pdf", 0.0) + time.perf_counter() - started
    return entries


def _originals(project: Project, retention: str) -> list[Entry]:
    from projects.documents.pdf import invoice_originals

    invoice_ids = {d.pk for d in invoice_originals(project)}
    entries = []
    for document in Document.objects.filter(project=project).order_by("uploaded_at", "pk"):
        try:
            with document.file.open("rb") as handle:
                content = handle.read()
        except (FileNotFoundError, OSError) as exc:
            raise WorkflowError(
                f"附件“{document.original_name}”的文件已不存在,不能生成档案包,未结项。"
            ) from exc
        if sha256_hex(content) != document.sha256:
            raise WorkflowError(
                f"附件“{document.original_name}”的内容与上传时的摘要不符,不能生成档案包,未结项。"
            )
        name = clean_filename(document.original_name, "attachment")
        if document.pk in invoice_ids:
            path, label, kept = f"发票原件/{document.pk:06d}-{name}", "发票原件", THIRTY_YEARS
        else:
            path, label, kept = (
                f"附件/{document.pk:06d}-{name}",
                document.get_kind_display(),
                retention,
            )
        entries.append(Entry(path, content, label, ORIGINAL, kept))
    return entries


def _ledger(project: Project) -> bytes:
    """The disbursements and invoices as data (vouchers: 30 years)."""
    from projects.documents.kinds import money, when

    rows = {
        "project": {"code": project.code, "title": project.title},
        "disbursements": [
            {
                "voucher_number": d.voucher_number,
                "voucher_date": when(d.voucher_date),
                "amount": money(d.amount),
                "method": d.get_method_display(),
                "payee_name": d.payee_name,
                "payee_account": d.payee_account,
                "bank_serial": d.bank_serial,
                "purpose": d.purpose,
                "reverses": d.reverses.voucher_number if d.reverses_id else "",
            }
            for d in project.disbursements.select_related("reverses").order_by("pk")
        ],
        "invoices": [
            {
                "identity": i.identity,
                "kind": i.get_kind_display(),
                "code": i.code,
                "number": i.number,
                "issue_date": when(i.issue_date),
                "seller_name": i.seller_name,
                "seller_tax_id": i.seller_tax_id,
                "buyer_name": i.buyer_name,
                "amount": money(i.amount),
                "tax": money(i.tax),
                "total": money(i.total),
                "check_status": i.get_check_status_display(),
                "original_sha256": i.scan.sha256 if i.scan_id else "",
            }
            for i in project.invoices.select_related("scan").order_by("issue_date", "pk")
        ],
    }
    text = json.dumps(rows, ensure_ascii=False, sort_keys=True, indent=1)
    return (text + "\n").encode("utf-8")


def archive_documents_render(project: Project, *, actor=None, timings=None) -> list[Entry]:
    """The package's PDF/A documents. apply_transition renders them before the close's event
    is recorded: the event locks the history head (every writer of the system waits on it
    until the commit), and the rendering is the slow part of the build (see
    bench/bench_archive.py), so it must not run while that lock is held."""
    project = Project.objects.select_related("organization", "leader").get(pk=project.pk)
    return _documents(project, actor, retention_of(project), {} if timings is None else timings)


def package_entries(project: Project, *, actor=None, timings: dict | None = None, documents=None):
    timings = {} if timings is None else timings
    retention = retention_of(project)
    rows = history_rows(project)
    if documents is None:
        documents = _documents(project, actor, retention, timings)
    entries = list(documents)
    entries += _originals(project, retention)
    entries.append(
        Entry(
            "历史/项目历史.txt",
            history_text(project, rows).encode("utf-8"),
            "项目历史(文字)",
            RECORD,
            retention,
        )
    )
    entries.append(
        Entry(
            "历史/项目历史.json", history_json(project, rows), "项目历史(数据)", RECORD, retention
        )
    )
    if has_money(project):
        entries.append(
            Entry(
                "账务/拨付与发票记录.json", _ledger(project), "拨付与发票记录", RECORD, THIRTY_YEARS
            )
        )
    return entries, rows, retention


def _stamp(project: Project, rows) -> tuple:
    moment = project.closed_at or (rows[-1].created_at if rows else None)
    if moment is None:
        return EPOCH
    local = timezone.localtime(moment)
    return max((local.year, local.month, local.day, local.hour, local.minute, local.second), EPOCH)


def _zip(entries: list[tuple[str, bytes]], stamp: tuple) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for path, data in sorted(entries):
            info = zipfile.ZipInfo(path, date_time=stamp)
            info.create_system = 3
            info.external_attr = 0o100644 << 16
            if path.lower().endswith(STORED_SUFFIXES):
                info.compress_type = zipfile.ZIP_STORED
            else:
                info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data, compresslevel=6)
    return out.getvalue()


def package_build_bytes(project: Project, *, actor=None, documents=None) -> Built:
    """The package's bytes (nothing stored, no event): the same project, the same bytes.
    `documents`: the PDFs already rendered by archive_documents_render, if any."""
    project = Project.objects.select_related("organization", "leader").get(pk=project.pk)
    timings: dict = {}
    started = time.perf_counter()
    entries, rows, retention = package_entries(
        project, actor=actor, timings=timings, documents=documents
    )
    files = [
        {
            "seq": n,
            "path": e.path,
            "label": e.label,
            "role": e.role,
            "retention": e.retention,
            "size": len(e.data),
            "sha256": sha256_hex(e.data),
            "sm3": sm3_hex(e.data),
        }
        for n, e in enumerate(sorted(entries, key=lambda e: e.path), start=1)
    ]
    metadata = {
        "archival_code": archival_code(project, retention),
        "title": f"{project.title}项目档案",
        "year": project.year,
        "fonds": project.organization.name,
        "creator": project.organization.name,
        "retention": retention,
        "project_code": project.code,
        "leader": project.leader.display_name,
        "commended": "是" if project.is_commended else "否",
        "closed_at": format_datetime(project.closed_at) if project.closed_at else "",
        "history_events": len(rows),
        "file_count": len(files),
        "basis": BASIS,
        "generator": GENERATOR,
    }
    contents = [(e.path, e.data) for e in entries]
    contents.append((MANIFEST_NAME, manifest_xml(metadata, files)))
    data = _zip(contents, _stamp(project, rows))
    timings["total"] = time.perf_counter() - started
    return Built(data, metadata, files, timings)


def archive_package_build(*, project: Project, actor, documents=None) -> ArchivePackage:
    """Build the closed project's package, store it and record its digest in the history.
    Called by apply_transition right after the close step's event, in its transaction
    (with the documents it rendered before that event): if this raises, the close is
    refused and nothing (document versions, the file row, the events) remains."""
    from projects.services import events
    from projects.services.locking import locked_project

    with locked_project(project, allow_closed=True) as locked:
        if locked.state != State.CLOSED:
            raise WorkflowError("只有已结项归档的项目才能生成档案包。")
        built = package_build_bytes(locked, actor=actor, documents=documents)
        sha256, sm3 = built.sha256, built.sm3
        latest = ArchivePackage.objects.filter(project=locked).order_by("-version").first()
        if latest is not None and latest.sha256 == sha256:
            return latest
        package = ArchivePackage(
            project=locked,
            version=(latest.version + 1) if latest else 1,
            sha256=sha256,
            sm3=sm3,
            size=len(built.data),
        )
        package.file.save("package.zip", ContentFile(built.data), save=False)
        try:
            package.save(force_insert=True)
            events.record(
                actor=actor,
                action="archive_package",
                project=locked,
                subject=f"档案包:{built.metadata['archival_code']}",
                data={
                    "version": package.version,
                    "sha256": sha256,
                    "sm3": sm3,
                    "size": len(built.data),
                    "files": len(built.files),
                    "archival_code": built.metadata["archival_code"],
                    "retention": built.metadata["retention"],
                },
            )
        except Exception:
            package.file.delete(save=False)
            raise
        return package


def package_filename(project: Project) -> str:
    return f"{project.code}-档案包.zip"


def stored_package(project: Project) -> tuple[ArchivePackage, bytes]:
    """The latest stored package of a closed project and its bytes, checked against the
    digest the row (and the history) recorded. WorkflowError in Chinese otherwise."""
    if project.state != State.CLOSED:
        raise WorkflowError(
            f"项目 {project.code} 的状态为“{project.get_state_display()}”,尚未结项归档,没有档案包。"
        )
    package = ArchivePackage.objects.filter(project=project).order_by("-version").first()
    if package is None:
        raise WorkflowError(f"项目 {project.code} 没有已生成的档案包(结项早于档案包功能)。")
    try:
        with package.file.open("rb") as handle:
            data = handle.read()
    except (FileNotFoundError, OSError) as exc:
        raise WorkflowError(f"项目 {project.code} 的档案包文件已不存在。") from exc
    if sha256_hex(data) != package.sha256:
        raise WorkflowError(f"项目 {project.code} 的档案包文件与记录的摘要不符,可能已被篡改。")
    return package, data
