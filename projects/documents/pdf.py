"""PDF/A-3b rendering of the print pages (WeasyPrint), with the document's data as an embedded
XML file (AFRelationship /Data) and, for the 结算单, the invoice originals (/Source).

The HTML is the print page's own template and context: one context, two renderings. The
fonts are Debian's fonts-noto-cjk ("Noto Serif CJK SC"), embedded as subsets. Resources are
read only from this site's static files (and data: URLs): the renderer fetches nothing else.
"""

import io
import mimetypes
import re
from xml.etree import ElementTree as ET

from django.conf import settings
from django.contrib.staticfiles import finders
from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import timezone

from projects.documents.kinds import Kind, Subject
from projects.documents.verification import Issued
from projects.downloads import ascii_fallback, clean_filename

XML_NAMESPACE = "urn:dangfei:issued-document:1"
DATA_NAME = "data.xml"
XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


# --- the structured data as XML ---------------------------------------------------------------


def _add(parent, name: str, value) -> None:
    element = ET.SubElement(parent, name)
    if isinstance(value, dict):
        for key, item in value.items():
            _add(element, key, item)
    elif isinstance(value, list | tuple):
        for item in value:
            _add(element, "item", item)
    elif isinstance(value, bool):
        element.text = "true" if value else "false"
    elif value is not None:
        # XML 1.0 has no place for most control characters: a pasted \x0b would make the
        # attachment unreadable, so they are dropped (the page shows them as nothing too).
        element.text = XML_INVALID.sub("", str(value))


def data_xml(issued: Issued) -> bytes:
    """<document kind= version= issued-at= verify-url=>…the data…</document>, UTF-8."""
    root = ET.Element(
        "document",
        {
            "xmlns": XML_NAMESPACE,
            "kind": issued.row.kind,
            "version": str(issued.row.version),
            "issued-at": timezone.localtime(issued.row.issued_at).isoformat(timespec="seconds"),
            "digest": issued.row.digest,
            "verify-url": issued.url,
        },
    )
    for key, value in issued.data.items():
        if key != "kind":
            _add(root, key, value)
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


# --- resources --------------------------------------------------------------------------------


def _fetcher_class():
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    static_prefix = "/" + settings.STATIC_URL.strip("/") + "/"

    class StaticOnlyFetcher(URLFetcher):
        """This site's static files and data: URLs; everything else is refused."""

        def fetch(self, url, headers=None):
            if url.startswith("data:"):
                return super().fetch(url, headers)
            path = url.split("://", 1)[-1]
            path = "/" + path.split("/", 1)[1] if "/" in path else ""
            path = path.split("?", 1)[0].split("#", 1)[0]
            if not path.startswith(static_prefix):
                raise ValueError(f"PDF 渲染不读取外部资源:{url}")
            relative = path[len(static_prefix) :]
            found = finders.find(relative) if ".." not in relative else None
            if not found:
                raise ValueError(f"静态文件不存在:{relative}")
            with open(found, "rb") as handle:
                body = handle.read()
            content_type = mimetypes.guess_type(found)[0] or "application/octet-stream"
            return URLFetcherResponse(url, body, {"Content-Type": content_type})

    return StaticOnlyFetcher


# --- attachments ------------------------------------------------------------------------------


def invoice_originals(project) -> list:
    """The uploaded originals of the project's invoices (XML/OFD/PDF or a scan), each once."""
    from projects.models import Document
    from projects.models.money import Invoice

    linked = Invoice.objects.filter(project=project, scan__isnull=False).values("scan")
    return list(
        Document.objects.filter(project=project)
        .filter(Q(pk__in=linked) | Q(kind=Document.Kind.INVOICE_SCAN))
        .order_by("uploaded_at", "pk")
    )


def _attachments(subject: Subject, issued: Issued) -> list:
    from weasyprint import Attachment

    created = issued.row.issued_at
    items = [
        Attachment(
            string=data_xml(issued),
            name=DATA_NAME,
            description=f"{issued.data['title']}的结构化数据(第{issued.row.version}版)",
            relationship="Data",
            created=created,
            modified=created,
        )
    ]
    if subject.kind == Kind.SETTLEMENT:
        used = {DATA_NAME}
        for document in invoice_originals(subject.project):
            try:
                with document.file.open("rb") as handle:
                    content = handle.read()
            except (FileNotFoundError, OSError):
                continue  # a missing file is reported by the archive check, not here
            name = _unique(f"发票原件-{clean_filename(document.original_name)}", used)
            items.append(
                Attachment(
                    file_obj=io.BytesIO(content),
                    name=name,
                    description=f"发票原件:{document.original_name}(SHA-256 {document.sha256})",
                    relationship="Source",
                    created=document.uploaded_at,
                    modified=document.uploaded_at,
                )
            )
    return items


def _unique(name: str, used: set) -> str:
    candidate, n = name, 1
    while candidate in used:
        n += 1
        stem, dot, ext = name.rpartition(".")
        candidate = f"{stem}-{n}.{ext}" if dot else f"{name}-{n}"
    used.add(candidate)
    return candidate


# --- rendering --------------------------------------------------------------------------------


def render_pdf(subject: Subject, context: dict, issued: Issued, *, base_url: str) -> bytes:
    import weasyprint

    from projects.documents.kinds import TEMPLATES

    html = render_to_string(TEMPLATES[subject.kind], {**context, "verification": issued})
    document = weasyprint.HTML(
        string=html, base_url=base_url, url_fetcher=_fetcher_class()()
    ).render()
    raw = document.write_pdf(
        pdf_variant="pdf/a-3b",
        attachments=_attachments(subject, issued),
        uncompressed_pdf=False,
    )
    return _finish(raw)


def _finish(raw: bytes) -> bytes:
    """Tidy what WeasyPrint leaves for PDF/A-3: the catalog's /AF lists each file
    specification once, /F (the byte-string name) is an ASCII stand-in for /UF, and the
    EmbeddedFiles name tree is keyed by the Unicode names."""
    import pikepdf

    with pikepdf.open(io.BytesIO(raw)) as pdf:
        seen, unique = set(), pikepdf.Array()
        for spec in pdf.Root.get("/AF", pikepdf.Array()):
            key = spec.objgen if spec.is_indirect else id(spec)
            if key in seen:
                continue
            seen.add(key)
            unique.append(spec)
            if "/UF" in spec:
                spec.F = pikepdf.String(ascii_fallback(str(spec.UF), "attachment"))
        if len(unique):
            pdf.Root.AF = unique
            # The name tree keyed by the Unicode names (WeasyPrint keys it by the byte name).
            tree = pikepdf.NameTree.new(pdf)
            for spec in unique:
                tree[str(spec.UF)] = spec
            pdf.Root.Names.EmbeddedFiles = tree.obj
        out = io.BytesIO()
        pdf.save(out, deterministic_id=True)
        return out.getvalue()


def render_document(subject: Subject, *, request=None, user=None) -> tuple[str, bytes]:
    """(file name, PDF bytes) of the document as it stands, issuing its version: for the
    download view and for callers without a request (e.g. an archive package builder)."""
    from projects.documents.kinds import build_context
    from projects.documents.verification import issue

    context = build_context(subject, user if subject.kind == Kind.DISCLOSURE else None)
    issued = issue(subject, context, request=request, user=user)
    base_url = request.build_absolute_uri("/") if request is not None else "http://localhost/"
    return subject.filename(), render_pdf(subject, context, issued, base_url=base_url)
