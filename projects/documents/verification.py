"""Issued versions of a document and their verification codes.

- digest: SHA-256 over the canonical JSON of the snapshot (what the document shows).
- token: HMAC-SHA256 keyed by DOCUMENT_VERIFY_KEY over a domain tag, the document's kind,
  subject, version and digest; 160 bits in base32 (32 characters). It cannot be guessed from
  an id and it binds the content: a row edited in the database no longer matches its token.
- only SHA-256(token) is stored, to find the row.

A version is issued when a document is printed (page or PDF) and its digest differs from
that of its latest version. It is current while it is the latest version and the document
would still show the same today; otherwise superseded (e.g. a 红字冲销 after a 结算单).
"""

import base64
import hashlib
import hmac
import json
import re
from dataclasses import dataclass

import segno
from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils.safestring import mark_safe

from projects.documents.kinds import Subject, build_context, build_data
from projects.models.documents import IssuedDocument

# Domain separation: this key and tag sign verification codes only, never history rows.
DOMAIN = b"dangfei/issued-document-verification/v1"
TOKEN_RE = re.compile(r"^[a-z2-7]{32}$")


def canonical(value) -> bytes:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


def snapshot_of(summary, data) -> dict:
    # Through JSON once, so that tuples become lists as they will be read back from the field.
    return json.loads(canonical({"summary": [list(row) for row in summary], "data": data}))


def digest_of(snapshot: dict) -> str:
    return hashlib.sha256(canonical(snapshot)).hexdigest()


def token_for(kind: str, subject: str, version: int, digest: str) -> str:
    message = b"\x00".join([DOMAIN, kind.encode(), subject.encode(), str(version).encode()])
    message += b"\x00" + digest.encode()
    mac = hmac.new(settings.DOCUMENT_VERIFY_KEY.encode(), message, hashlib.sha256).digest()
    return base64.b32encode(mac[:20]).decode().lower()


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def row_token(row: IssuedDocument) -> str:
    return token_for(row.kind, row.subject, row.version, row.digest)


@dataclass
class Issued:
    """The issued version a printed copy carries, ready for the page and the PDF."""

    row: IssuedDocument
    token: str
    url: str
    summary: list
    data: dict

    @property
    def qr_svg(self) -> str:
        qr = segno.make(self.url, error="m")
        # No inline style (CSP): only attributes and a class for the stylesheet.
        return mark_safe(
            qr.svg_inline(border=2, omitsize=True, svgclass="verify-qr", lineclass=None)
        )


def verify_url(token: str, request=None) -> str:
    """The absolute address the QR encodes: DOCUMENT_VERIFY_BASE_URL, else the request's
    host, else (a document rendered in the background) the first allowed host."""
    path = reverse("verify_document", args=[token])
    base = settings.DOCUMENT_VERIFY_BASE_URL.rstrip("/")
    if base:
        return base + path
    if request is not None:
        return request.build_absolute_uri(path)
    scheme = "https" if settings.SECURE_SSL_REDIRECT else "http"
    hosts = [h for h in settings.ALLOWED_HOSTS if h and not h.startswith((".", "*"))]
    return f"{scheme}://{hosts[0] if hosts else 'localhost'}{path}"


def issue(subject: Subject, context: dict, *, request=None, user=None) -> Issued:
    """The version of the document as `context` shows it: the latest version when its content
    is unchanged, else a new version (numbers are consecutive per document)."""
    summary, data = build_data(subject, context)
    snapshot = snapshot_of(summary, data)
    digest = digest_of(snapshot)
    user = user or (getattr(request, "user", None) if request is not None else None)
    if user is not None and not getattr(user, "pk", None):
        user = None
    for _attempt in range(3):
        latest = (
            IssuedDocument.objects.filter(kind=subject.kind, subject=subject.key)
            .order_by("-version")
            .first()
        )
        if latest is not None and latest.digest == digest:
            row = latest
            break
        version = latest.version + 1 if latest else 1
        token = token_for(subject.kind, subject.key, version, digest)
        try:
            with transaction.atomic():
                row = IssuedDocument.objects.create(
                    kind=subject.kind,
                    subject=subject.key,
                    project=subject.project,
                    organization=subject.owner,
                    year=subject.year if subject.year else getattr(subject.project, "year", None),
                    version=version,
                    issued_by=user,
                    snapshot=snapshot,
                    digest=digest,
                    token_digest=token_digest(token),
                )
            break
        except IntegrityError:
            continue  # printed at the same moment elsewhere: read the version it issued
    else:  # pragma: no cover - three concurrent issues of three different contents
        raise RuntimeError("文书版本冲突,请重试。")
    token = row_token(row)
    return Issued(row, token, verify_url(token, request), summary, data)


# --- checking a token ---------------------------------------------------------------------

GENUINE, SUPERSEDED, INVALID = "genuine", "superseded", "invalid"


@dataclass
class Verdict:
    status: str
    row: IssuedDocument | None = None

    @property
    def summary(self) -> list:
        return self.row.snapshot.get("summary", []) if self.row else []


def _subject_of(row: IssuedDocument) -> Subject:
    if row.kind == IssuedDocument.Kind.DISCLOSURE:
        return Subject(row.kind, organization=row.organization, year=row.year)
    return Subject(row.kind, project=row.project)


def current_digest(row: IssuedDocument) -> str:
    """The digest of what the document would show now (computed as the system)."""
    subject = _subject_of(row)
    summary, data = build_data(subject, build_context(subject))
    return digest_of(snapshot_of(summary, data))


def verify(token: str) -> Verdict:
    """Never raises on a bad token: anything that is not a genuine issued code is INVALID."""
    if not isinstance(token, str) or not TOKEN_RE.fullmatch(token):
        return Verdict(INVALID)
    row = (
        IssuedDocument.objects.select_related("project__organization", "project__leader")
        .select_related("organization")
        .filter(token_digest=token_digest(token))
        .first()
    )
    if row is None:
        return Verdict(INVALID)
    # The row must still be what was signed: its content, version and digest.
    if not hmac.compare_digest(row_token(row), token) or digest_of(row.snapshot) != row.digest:
        return Verdict(INVALID)
    newer = IssuedDocument.objects.filter(
        kind=row.kind, subject=row.subject, version__gt=row.version
    ).exists()
    if newer or current_digest(row) != row.digest:
        return Verdict(SUPERSEDED, row)
    return Verdict(GENUINE, row)
