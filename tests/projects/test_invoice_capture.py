"""Capture on the invoice page (issue 12): the scanner payload, the 数电 XML, a PDF with its
QR, through the JSON endpoint and the admin's add form; the original kept with its SHA-256
and served only to who may see the project; disagreements refused naming the field; the
one-claim rule; hostile files refused with nothing stored."""

import hashlib
import io
import zipfile
from decimal import Decimal

import pytest
from django.core.files.storage import default_storage
from django.urls import reverse
from django.utils import timezone

from projects.capture.fields import Kind
from projects.documents.pdf import invoice_originals
from projects.models import Document, ProjectHistory
from projects.models.money import Invoice
from projects.services import events
from tests.factories import BudgetLineFactory, ProjectFactory
from tests.projects import fixtures_money
from tests.projects.capture import makers
from tests.projects.conftest import CHECKLIST_YES

pytestmark = pytest.mark.django_db
accepted = fixtures_money.accepted

TODAY = timezone.localdate()
NUMBER = "25924000000001260164"
ADD = "/admin/projects/invoice/add/"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def project(accepted, org_a):
    org_a.uscc = makers.BUYER_ID
    org_a.save()
    return accepted


def xml_of(project, number=NUMBER, **overrides):
    values = {
        "issue_time": TODAY.isoformat(),
        "buyer": project.organization.name,
        "buyer_id": makers.BUYER_ID,
        **overrides,
    }
    return makers.einvoice_xml(number, **values)


def payload(number=NUMBER, total="112.00"):
    return f"01,31,,{number},{total},{TODAY:%Y%m%d},,8924"


def pdf_of(project, number=NUMBER):
    lines = makers.invoice_lines(
        buyer=project.organization.name, number=number, issued=f"{TODAY:%Y年%m月%d日}"
    )
    return makers.invoice_pdf((payload(number),), lines)


def upload(name, content):
    handle = io.BytesIO(content)
    handle.name = name
    return handle


def capture(client, project, **data):
    return client.post(reverse("admin:projects_invoice_capture"), {"project": project.pk, **data})


def form_data(project, fields, **extra):
    """The add form as the page's script leaves it after a capture."""
    data = {"project": project.pk, "budget_line": project.budget_lines.get().pk}
    data.update({k: v for k, v in fields.items() if v != ""})
    data.update(extra)
    return data


def stored_captures(media):
    folder = media / "captures"
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


# --- the endpoint fills the fields ---------------------------------------------------------


def test_scanner_payload_fills_number_date_kind_and_total(client, project, applicant):
    client.force_login(applicant)
    answer = capture(client, project, payload=payload()).json()
    assert answer["ok"] is True
    fields = answer["fields"]
    assert fields["number"] == NUMBER and fields["kind"] == Kind.DIGITAL
    assert fields["total"] == "112.00" and fields["issue_date"] == TODAY.isoformat()
    assert answer["token"] == ""  # a payload is not a file: nothing is kept
    assert not Invoice.objects.exists()


def test_xml_fills_every_field_and_suggests_the_line_without_choosing(
    client, project, applicant, media
):
    client.force_login(applicant)
    answer = capture(client, project, file=upload("发票.xml", xml_of(project))).json()
    fields = answer["fields"]
    assert fields["seller_tax_id"] == makers.SELLER_ID
    assert fields["buyer_name"] == project.organization.name
    assert (fields["amount"], fields["tax"], fields["total"]) == ("105.66", "6.34", "112.00")
    assert "budget_line" not in fields  # a suggestion, never a choice
    line = project.budget_lines.get()
    assert answer["suggestion"]["line"] == line.pk
    assert (
        "资料" in answer["suggestion"]["text"]
        or line.get_item_display() in (answer["suggestion"]["text"])
    )
    assert len(stored_captures(media)) == 1
    assert not Invoice.objects.exists() and not Document.objects.exists()


# --- saving: the original beside the invoice ---------------------------------------------------


def test_xml_capture_saved_keeps_the_original_with_its_sha256(client, project, applicant, media):
    client.force_login(applicant)
    content = xml_of(project)
    answer = capture(client, project, file=upload("dzfp.xml", content)).json()
    response = client.post(ADD, form_data(project, answer["fields"], capture_token=answer["token"]))
    assert response.status_code == 302, response.content.decode()[:3000]
    invoice = Invoice.objects.get()
    assert invoice.capture_source == "xml"
    assert invoice.total == makers.money("112.00")
    assert invoice.buyer_tax_id == makers.BUYER_ID
    assert "*纸制品*复印纸" in invoice.item_names
    document = invoice.scan
    sha = hashlib.sha256(content).hexdigest()
    assert document.sha256 == sha and document.kind == Document.Kind.INVOICE_ORIGINAL
    with document.file.open("rb") as handle:
        assert handle.read() == content  # unchanged, byte for byte
    event = ProjectHistory.objects.filter(transition="invoice_add").get()
    assert event.data["original_sha256"] == sha and event.data["capture_source"] == "xml"
    assert events.verify().ok  # the capture is in the signed chain like a typed entry
    assert stored_captures(media) == []  # the waiting copy is gone once stored
    # The 结算单's PDF/A attaches the project's invoice originals: this one is among them.
    assert document in invoice_originals(project)
    page = client.get(reverse("admin:projects_invoice_change", args=[invoice.pk])).content
    assert sha.encode() in page
    assert reverse("projects:document_download", args=[document.pk]).encode() in page


def test_the_original_is_served_only_to_who_may_see_the_project(
    client, project, applicant, outsider, finance
):
    client.force_login(applicant)
    content = xml_of(project)
    answer = capture(client, project, file=upload("dzfp.xml", content)).json()
    client.post(ADD, form_data(project, answer["fields"], capture_token=answer["token"]))
    url = reverse("projects:document_download", args=[Invoice.objects.get().scan_id])
    response = client.get(url)
    assert response.status_code == 200 and b"".join(response.streaming_content) == content
    assert response["Content-Disposition"].startswith("attachment")
    client.force_login(outsider)
    assert client.get(url).status_code == 404
    client.force_login(finance)
    assert client.get(url).status_code == 200


def test_pdf_with_its_qr_captured_without_the_script(client, project, applicant, outsider):
    """No script at all: the file goes with the form, the user takes the file's values."""
    client.force_login(applicant)
    content = pdf_of(project)
    data = form_data(project, {}, capture_file=upload("发票.pdf", content), _take_captured="1")
    response = client.post(ADD, data)
    assert response.status_code == 302, response.content.decode()[:3000]
    invoice = Invoice.objects.get()
    assert invoice.number == NUMBER and invoice.total == makers.money("112.00")
    assert invoice.capture_source.startswith("pdf")
    assert invoice.scan.sha256 == hashlib.sha256(content).hexdigest()
    # The change page previews the PDF's first page, for who may see the project only.
    preview = reverse("admin:projects_invoice_original_preview", args=[invoice.pk])
    page = client.get(reverse("admin:projects_invoice_change", args=[invoice.pk])).content
    assert preview.encode() in page
    response = client.get(preview)
    assert response.status_code == 200 and response.content.startswith(b"\x89PNG")
    client.force_login(outsider)
    assert client.get(preview).status_code == 404


def test_payload_saved_records_the_source_and_keeps_no_file(client, project, applicant):
    client.force_login(applicant)
    answer = capture(client, project, payload=payload()).json()
    typed = {
        **answer["fields"],
        "amount": "105.66",
        "tax": "6.34",
        "seller_name": makers.SELLER,
        "seller_tax_id": makers.SELLER_ID,
        "buyer_name": project.organization.name,
    }
    response = client.post(ADD, form_data(project, typed, capture_payload=payload()))
    assert response.status_code == 302, response.content.decode()[:3000]
    invoice = Invoice.objects.get()
    assert invoice.capture_source == "qr" and invoice.scan is None
    event = ProjectHistory.objects.filter(transition="invoice_add").get()
    assert event.data["capture_source"] == "qr" and "original_sha256" not in event.data


# --- disagreements and the one-claim rule ----------------------------------------------------


def test_typed_total_differing_from_the_file_is_refused_naming_the_field(
    client, project, applicant
):
    client.force_login(applicant)
    answer = capture(client, project, file=upload("dzfp.xml", xml_of(project))).json()
    typed = {**answer["fields"], "total": "113.00", "amount": "106.66"}
    response = client.post(ADD, form_data(project, typed, capture_token=answer["token"]))
    page = response.content.decode()
    assert response.status_code == 200
    assert "价税合计不一致" in page and "金额不一致" in page
    assert "采用文件中的数值" in page
    assert not Invoice.objects.exists() and not Document.objects.exists()
    # One click: the file's values replace what was typed.
    response = client.post(
        ADD, form_data(project, typed, capture_token=answer["token"], _take_captured="1")
    )
    assert response.status_code == 302
    assert Invoice.objects.get().total == makers.money("112.00")


def test_typed_buyer_differing_from_the_payload_date_is_refused(client, project, applicant):
    client.force_login(applicant)
    answer = capture(client, project, payload=payload()).json()
    typed = {
        **answer["fields"],
        "issue_date": (TODAY - timezone.timedelta(days=1)).isoformat(),
        "amount": "105.66",
        "tax": "6.34",
        "seller_name": makers.SELLER,
        "seller_tax_id": makers.SELLER_ID,
        "buyer_name": project.organization.name,
    }
    page = client.post(ADD, form_data(project, typed, capture_payload=payload())).content.decode()
    assert "开票日期不一致" in page
    assert not Invoice.objects.exists()


def test_a_captured_invoice_claimed_twice_is_refused(client, project, applicant, media):
    client.force_login(applicant)
    for attempt in range(2):
        answer = capture(client, project, file=upload("dzfp.xml", xml_of(project))).json()
        response = client.post(
            ADD, form_data(project, answer["fields"], capture_token=answer["token"])
        )
        if attempt == 1:
            assert "已在项目" in answer["notes"][0]  # said at once, when read
            assert "同一张发票只能报销一次" in response.content.decode()
    assert Invoice.objects.count() == 1 and Document.objects.count() == 1
    assert len(list((media / "documents").rglob("*"))) == 2  # one folder, one file


def accepted_project_of(org, applicant, reviewer, leader, advance):
    other = ProjectFactory(organization=org, leader=applicant)
    BudgetLineFactory(project=other, quantity=Decimal("3"), unit_price=Decimal("1000.00"))
    other = advance(
        other,
        ("submit", applicant, {}),
        ("org_approve", reviewer, {"opinion": "同意上报", **CHECKLIST_YES}),
        ("approve", leader, {"opinion": "同意立项", "grade": 3, "approved_amount": "3000.00"}),
    )
    return fixtures_money.reach_accepted(
        other, applicant=applicant, reviewer=reviewer, leader=leader, advance=advance
    )


def test_a_second_claim_does_not_name_a_project_the_user_cannot_see(
    client, project, applicant, outsider_applicant, outsider, org_b, leader, advance
):
    client.force_login(applicant)
    answer = capture(client, project, file=upload("dzfp.xml", xml_of(project))).json()
    client.post(ADD, form_data(project, answer["fields"], capture_token=answer["token"]))
    other = accepted_project_of(org_b, outsider_applicant, outsider, leader, advance)
    client.force_login(outsider_applicant)
    answer = capture(client, other, file=upload("dzfp.xml", xml_of(other))).json()
    assert answer["notes"] == ["该发票已在其他项目中报销过,同一张发票只能报销一次。"]
    assert project.code not in str(answer)


# --- refusals: hostile files (red invoices: test_red_invoices.py) -------------------------------


def _zip(members, compression=zipfile.ZIP_DEFLATED):
    return makers.zip_bytes(members, compression=compression)


HOSTILE = {
    "entity.xml": (
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
        b"<EInvoice>&e;</EInvoice>"
    ),
    "traversal.zip": None,  # built below
    "bomb.zip": None,
    "noqr.pdf": None,
    "payload.txt": b"01,32,,2344200000001420962,112,20230215,,74AE",  # 19 digits
    "other-qr.png": None,
}


def hostile_files(project):
    files = dict(HOSTILE)
    files["traversal.zip"] = _zip({"../../etc/dzfp.xml": xml_of(project)})
    files["bomb.zip"] = _zip({"dzfp.xml": b"<a>" + b" " * (60 * 1024 * 1024) + b"</a>"})
    files["noqr.pdf"] = makers.invoice_pdf((None,), ["没有二维码的页面"])
    files["other-qr.png"] = makers.image_bytes(makers.qr_image("https://example.org/not-invoice"))
    return files


@pytest.mark.parametrize("name", list(HOSTILE))
def test_hostile_files_are_refused_with_a_message_and_nothing_stored(
    client, project, applicant, media, name
):
    client.force_login(applicant)
    content = hostile_files(project)[name]
    if name.endswith(".txt"):
        response = capture(client, project, payload=content.decode())
    else:
        response = capture(client, project, file=upload(name, content))
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert errors and all(any("\u4e00" <= ch <= "\u9fff" for ch in e) for e in errors)
    # The same file sent with the form (no script) is refused too, and nothing is kept.
    extra = {"capture_payload": content.decode()} if name.endswith(".txt") else {}
    if not extra:
        extra = {"capture_file": upload(name, content), "_take_captured": "1"}
    response = client.post(ADD, form_data(project, {}, **extra))
    assert response.status_code == 200
    assert not Invoice.objects.exists() and not Document.objects.exists()
    assert stored_captures(media) == []
    assert not default_storage.exists("documents")


def test_capture_endpoint_refuses_a_project_of_another_organisation(
    client, project, outsider_applicant
):
    client.force_login(outsider_applicant)
    response = capture(client, project, payload=payload())
    assert response.status_code == 400 and response.json()["errors"] == ["请先选择项目。"]


def test_a_pdf_with_a_script_is_refused_at_capture_not_only_on_save(
    client, project, applicant, media
):
    """It reads (its QR is there), but the archive package's check would fail it: refused
    when the file is read, with the reason, and nothing is kept aside."""
    import pikepdf

    with pikepdf.open(io.BytesIO(pdf_of(project))) as pdf:
        pdf.Root.OpenAction = pikepdf.Dictionary(
            S=pikepdf.Name.JavaScript, JS=pikepdf.String("app.alert('x')")
        )
        out = io.BytesIO()
        pdf.save(out)
    client.force_login(applicant)
    response = capture(client, project, file=upload("发票.pdf", out.getvalue()))
    assert response.status_code == 400
    (error,) = response.json()["errors"]
    assert error == "文件“发票.pdf”含 JavaScript 动作(/JavaScript、/JS),不能上传。"
    assert stored_captures(media) == []
