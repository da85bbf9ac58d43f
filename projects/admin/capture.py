"""Capture on the invoice page (issue 12): the scanner's QR payload or an e-file (XML, OFD,
PDF, image, the tax platform's zip) read by `projects.capture`, the fields filled for the
user to confirm, the file kept aside until the normal save stores it beside the invoice.

The reading happens twice on purpose: once for the JSON endpoint the page's script calls
(so the fields fill themselves), and again when the form is saved (the server never trusts
what the browser sends back: the typed fields are compared with the file's own values).
Between the two the file waits in Django's storage under a random name, keyed in the
user's session; it is stored as the invoice's original only by the service, on save.
"""

from __future__ import annotations

import mimetypes
import uuid
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.http import JsonResponse

from projects import permissions as perm
from projects.archive.files import acceptance_errors
from projects.capture import compare_sources, read_invoices_with_items, suggest_budget_item
from projects.capture.fields import EXTRA_FIELDS, FIELDS, source_label
from projects.capture.safety import MAX_INPUT_BYTES
from projects.models import BudgetLine, Project
from projects.models.choices import BudgetItem
from projects.money import format_cny
from projects.services.invoices import Original, invoice_duplicates, invoice_identity

SESSION_KEY = "invoice_captures"
MAX_STASHED = 20  # captures waiting in one session
# The fields a capture fills on the form (the reader's dict minus what the form has not).
FORM_FIELDS = [name for name in (*FIELDS, *EXTRA_FIELDS) if name not in ("source", "check_code")]
RED_INVOICE = (
    "这是一张红字发票(价税合计 {total}):它冲销一张已开具的蓝字发票,"
    "保存后冲减结算金额,并作为风险提示请财政科核对所冲销的发票。"
)


@dataclass
class Captured:
    """One invoice read from what the user gave, and the original to keep (None for a
    scanned payload: a QR payload is not a file)."""

    invoice: dict
    items: list[str]
    original: Original | None
    token: str = ""
    suggestion: dict | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def source(self) -> str:
        return self.invoice["source"]

    @property
    def label(self) -> str:
        return source_label(self.source)

    def form_values(self) -> dict:
        """The captured values as the form's fields take them (blank where not said)."""
        values = {name: self.invoice[name] for name in FORM_FIELDS}
        values["item_names"] = "\n".join(self.items)
        return values

    def json_values(self) -> dict:
        shown = {}
        for name, value in self.form_values().items():
            if value is None:
                shown[name] = ""
            elif name == "issue_date":
                shown[name] = value.isoformat()
            else:
                shown[name] = str(value)
        return shown


def _content_type(name: str) -> str:
    return mimetypes.guess_type(name)[0] or "application/octet-stream"


def read_capture(content: bytes, filename: str) -> tuple[dict, list[str]]:
    """Exactly one invoice; ValidationError (Chinese) otherwise. A red one is read like any
    other (the page says so, and the risk rules flag it)."""
    found = read_invoices_with_items(content, filename)
    if len(found) > 1:
        raise ValidationError(
            f"文件中有 {len(found)} 张发票。此处一次录入一张;多张请在项目的“导入发票”页面批量导入。"
        )
    return found[0]


def red_note(invoice: dict) -> list[str]:
    """The page's note for a 红字发票 (negative amounts), [] for a blue one."""
    amounts = [invoice[n] for n in ("total", "amount", "tax") if invoice[n] is not None]
    if not any(value < 0 for value in amounts):
        return []
    return [RED_INVOICE.format(total=format_cny(min(amounts)))]


def capture_payload(text: str) -> Captured:
    invoice, items = read_capture(text.encode("utf-8"), "扫码内容.txt")
    return Captured(invoice=invoice, items=items, original=None)


def capture_file(content: bytes, name: str) -> Captured:
    invoice, items = read_capture(content, name)
    # Said now, not only on save: the original must pass the archive package's check.
    errors = acceptance_errors(name, content)
    if errors:
        raise ValidationError(errors)
    original = Original(name=name, content=content, content_type=_content_type(name))
    return Captured(invoice=invoice, items=items, original=original)


def pdf_first_page_png(content: bytes, *, dpi: int = 110) -> bytes:
    """A preview of a PDF original's first page (pypdfium2, as the reader renders it)."""
    import io

    import pypdfium2 as pdfium

    try:
        document = pdfium.PdfDocument(content)
    except pdfium.PdfiumError as exc:
        raise ValueError("unreadable PDF") from exc
    try:
        if len(document) == 0:
            raise ValueError("empty PDF")
        image = document[0].render(scale=dpi / 72).to_pil()
    finally:
        document.close()
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


# --- the file between reading and saving ----------------------------------------------------


def stash(request, original: Original) -> str:
    token = uuid.uuid4().hex
    stored = default_storage.save(f"captures/{token}", ContentFile(original.content))
    entries = request.session.get(SESSION_KEY, {})
    while len(entries) >= MAX_STASHED:
        _drop(entries, next(iter(entries)))
    entries[token] = {"stored": stored, "name": original.name}
    request.session[SESSION_KEY] = entries
    return token


def unstash(request, token: str) -> Original | None:
    entry = request.session.get(SESSION_KEY, {}).get(token or "")
    if not entry or not default_storage.exists(entry["stored"]):
        return None
    with default_storage.open(entry["stored"], "rb") as handle:
        content = handle.read()
    return Original(name=entry["name"], content=content, content_type=_content_type(entry["name"]))


def forget(request, token: str) -> None:
    entries = request.session.get(SESSION_KEY, {})
    if token in entries:
        _drop(entries, token)
        request.session[SESSION_KEY] = entries


def _drop(entries: dict, token: str) -> None:
    entry = entries.pop(token)
    if default_storage.exists(entry["stored"]):
        default_storage.delete(entry["stored"])


# --- what the page shows beside the filled fields ---------------------------------------------


def suggestion_for(project: Project | None, items: list[str]) -> dict | None:
    """The budget line the item names point to, as a suggestion the user may take."""
    item = suggest_budget_item(items) if items else None
    if item is None or project is None:
        return None
    lines = list(BudgetLine.objects.filter(project=project, item=item).order_by("pk"))
    label = BudgetItem(item).label
    if not lines:
        return {"line": None, "text": f"货物名称提示为“{label}”,但本项目没有该预算科目。"}
    line = lines[0]
    return {
        "line": line.pk,
        "text": f"货物名称提示应计入“{label}”:{line.description}(请确认后再保存)",
    }


def differences(captured: Captured, typed: dict) -> list[str]:
    """Each field the user typed that differs from the captured invoice, named."""
    typed = {**{name: typed.get(name) for name in FORM_FIELDS}, "source": "typed"}
    return compare_sources(captured.invoice, typed, a_label=captured.label, b_label="手工录入")


# --- the JSON endpoint the page's script calls --------------------------------------------------


def capture_view(request):
    """POST payload= or file=, and project=: the fields read, or the Chinese refusals."""
    if request.method != "POST":
        return JsonResponse(
            {"ok": False, "errors": ["请使用页面上的扫码框或文件选择。"]}, status=405
        )
    project = None
    project_id = request.POST.get("project", "")
    if project_id.isdigit():
        project = Project.objects.visible_to(request.user).filter(pk=project_id).first()
    if project is None:
        return JsonResponse({"ok": False, "errors": ["请先选择项目。"]}, status=400)
    if not perm.may_enter_invoices(project, request.user):
        message = f"项目当前状态为“{project.get_state_display()}”或您无权录入发票。"
        return JsonResponse({"ok": False, "errors": [message]}, status=403)
    upload = request.FILES.get("file")
    try:
        if upload is not None:
            if upload.size > MAX_INPUT_BYTES:
                raise ValidationError(f"文件过大(超过 {MAX_INPUT_BYTES // 1024 // 1024} MB)。")
            captured = capture_file(upload.read(), upload.name)
        else:
            captured = capture_payload(request.POST.get("payload", ""))
    except ValidationError as exc:
        return JsonResponse({"ok": False, "errors": exc.messages}, status=400)
    token = stash(request, captured.original) if captured.original else ""
    identity = invoice_identity(captured.invoice["code"], captured.invoice["number"])
    notes = list(invoice_duplicates(identities=[identity], actor=request.user).values())
    notes += red_note(captured.invoice)
    return JsonResponse(
        {
            "ok": True,
            "source": captured.label,
            "fields": captured.json_values(),
            "token": token,
            "sha256": captured.original.sha256 if captured.original else "",
            "suggestion": suggestion_for(project, captured.items),
            "notes": notes,
        }
    )
