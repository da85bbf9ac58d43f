"""Documents attached to a project: the upload checks and the upload itself.

A file is accepted by what it is, not by what it is called: its type is sniffed from its
content (magic bytes; an Office file by its inner parts), its size is bounded, and an
Office file (a zip) is bounded by its uncompressed size and compression ratio before any
part of it is read (`check_zip_bounds`), so a 1 MB docx holding a 1 GiB part is refused.
Then it is opened as the archive package's usability and security checks will open it
(`projects.archive.files.acceptance_errors`: an image decoded, a PDF opened and searched for
scripts, an Office file searched for macros): what is accepted here passes verify_archive.
The stored name is random; the shown name is cleaned (`safe_filename`).
"""

from __future__ import annotations

import hashlib
import os
import zipfile

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import File

from projects import permissions as perm
from projects.archive.files import acceptance_errors
from projects.models import Document, Project
from projects.services import events
from projects.services.errors import WorkflowError
from projects.services.locking import locked_project
from projects.services.reports import ensure_allowed
from projects.uploads import check_ooxml_bounds

# type → (content type, accepted name endings)
DOCUMENT_TYPES = {
    "pdf": ("application/pdf", (".pdf",)),
    "png": ("image/png", (".png",)),
    "jpg": ("image/jpeg", (".jpg", ".jpeg")),
    "xlsx": (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        (".xlsx",),
    ),
    "docx": (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        (".docx",),
    ),
}
ALLOWED_TEXT = "PDF、JPG、PNG、XLSX、DOCX"

# A docx with many photos inflates to little more than its size (JPEG does not compress);
# Office XML compresses 5-20 times; a zip bomb a thousand times or more.
MAX_ZIP_TOTAL = 256 * 1024 * 1024
MAX_ZIP_RATIO = 100
MAX_ZIP_MEMBERS = 5000
# [Content_Types].xml is a few KB; more is not an Office file.
CONTENT_TYPES_LIMIT = 1024 * 1024


def max_document_bytes() -> int:
    return getattr(settings, "DOCUMENT_MAX_BYTES", 20 * 1024 * 1024)


def check_zip_bounds(file) -> None:
    """An Office document is stored as it came, never parsed: the central directory's sizes
    are checked (uploads' one bounds check, without inflating anything)."""
    check_ooxml_bounds(
        file,
        max_uncompressed=MAX_ZIP_TOTAL,
        max_ratio=MAX_ZIP_RATIO,
        max_members=MAX_ZIP_MEMBERS,
        inflate=False,
    )


def sniff_document(uploaded) -> str | None:
    """The file's real type from its content (magic bytes; OOXML by its inner parts).
    An Office file must have passed check_zip_bounds first (document_errors does)."""
    uploaded.seek(0)
    head = uploaded.read(8)
    uploaded.seek(0)
    if head.startswith(b"%PDF-"):
        return "pdf"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpg"
    if head.startswith(b"PK\x03\x04"):
        return _sniff_ooxml(uploaded)
    return None


def _sniff_ooxml(uploaded) -> str | None:
    try:
        with zipfile.ZipFile(uploaded) as archive:
            names = set(archive.namelist())
            types = b""
            if "[Content_Types].xml" in names:
                with archive.open("[Content_Types].xml") as part:
                    types = part.read(CONTENT_TYPES_LIMIT)
    except (zipfile.BadZipFile, KeyError, OSError, RuntimeError, ValueError, EOFError):
        return None
    finally:
        uploaded.seek(0)
    if b"wordprocessingml.document.main+xml" in types and "word/document.xml" in names:
        return "docx"
    if b"spreadsheetml.sheet.main+xml" in types and "xl/workbook.xml" in names:
        return "xlsx"
    return None


def safe_filename(name: str) -> str:
    """The bare file name, without path parts or control characters (shown and downloaded)."""
    name = os.path.basename((name or "").replace("\\", "/"))
    name = "".join(ch for ch in name if ch.isprintable() and ch not in '"<>|:*?')
    return name.strip()[:200] or "附件"


def document_errors(uploaded) -> list[str]:
    if uploaded is None:
        return ["请选择要上传的文件。"]
    limit = max_document_bytes()
    if uploaded.size > limit:
        return [f"文件过大:上限为 {limit // (1024 * 1024)} MB。"]
    if uploaded.size == 0:
        return ["文件为空。"]
    uploaded.seek(0)
    is_zip = uploaded.read(4) == b"PK\x03\x04"
    uploaded.seek(0)
    if is_zip:
        try:
            check_zip_bounds(uploaded)
        except ValidationError as exc:
            if exc.code != "unreadable":
                return exc.messages
            # Not a zip after all: refused below as a file of no allowed type.
    kind = sniff_document(uploaded)
    if kind is None:
        return [f"文件内容不是允许的类型({ALLOWED_TEXT}),不能上传。"]
    name = safe_filename(uploaded.name)
    if not name.lower().endswith(DOCUMENT_TYPES[kind][1]):
        return [f"文件名的扩展名与文件内容({kind.upper()})不符,不能上传。"]
    # Opened, decoded and searched as the archive package's check will (one function).
    uploaded.seek(0)
    body = uploaded.read()
    uploaded.seek(0)
    return acceptance_errors(name, body)


def document_upload(
    *, project: Project, actor, uploaded, kind: str = Document.Kind.OTHER, description: str = ""
) -> Document:
    errors = document_errors(uploaded)
    if errors:
        raise WorkflowError(errors)
    if kind not in Document.Kind.values:
        raise WorkflowError("请选择附件类别。")
    digest = hashlib.sha256()
    for chunk in uploaded.chunks():
        digest.update(chunk)
    uploaded.seek(0)
    with locked_project(project) as locked:
        ensure_allowed(perm.may_upload_document, locked, actor, "为该项目上传附件")
        document = Document(
            project=locked,
            kind=kind,
            original_name=safe_filename(uploaded.name),
            content_type=DOCUMENT_TYPES[sniff_document(uploaded)][0],
            size=uploaded.size,
            sha256=digest.hexdigest(),
            description=(description or "").strip()[:200],
            uploaded_by=actor,
        )
        # Stored under a random name through the default storage (document_path).
        document.file.save(uploaded.name, File(uploaded), save=False)
        try:
            document.save(force_insert=True)
            events.record(
                actor=actor,
                action="document_upload",
                project=locked,
                subject=document.original_name,
                data={
                    "document": document.pk,
                    "kind": document.kind,
                    "name": document.original_name,
                    "size": document.size,
                    "sha256": document.sha256,
                },
            )
        except Exception:
            document.file.delete(save=False)
            raise
        return document


__all__ = [
    "ALLOWED_TEXT",
    "DOCUMENT_TYPES",
    "check_zip_bounds",
    "document_errors",
    "document_upload",
    "max_document_bytes",
    "safe_filename",
    "sniff_document",
]
