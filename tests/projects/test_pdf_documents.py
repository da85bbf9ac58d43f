"""Issue 13, documents: the five documents as PDF/A-3b (identification, output intent, every
font embedded, the XML data and the invoice originals attached with their relationship), the
downloads' scoping, and the verification code on every printed copy."""

import hashlib
import io
from decimal import Decimal
from xml.etree import ElementTree as ET

import pikepdf
import pytest
from django.core.files.base import ContentFile
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from projects.documents.pdf import XML_NAMESPACE
from projects.documents.verification import token_for, verify
from projects.models import Document, IssuedDocument
from projects.models.money import Disbursement
from projects.services import apply_transition
from projects.services.disbursements import disbursement_reverse
from projects.services.invoices import invoice_add
from tests.projects import fixtures_money
from tests.projects.fixtures_money import (
    check_all,
    invoice_data,
    request_and_approve,
    settle_decision,
)

pytestmark = pytest.mark.django_db
accepted = fixtures_money.accepted

NS = {"d": XML_NAMESPACE}
SCAN_BYTES = b"%PDF-1.4\n% an invoice original as uploaded\n%%EOF\n"


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return tmp_path / "media"


def _scan(project, applicant, name="电子发票-001.pdf", content=SCAN_BYTES) -> Document:
    document = Document(
        project=project,
        kind=Document.Kind.INVOICE_SCAN,
        original_name=name,
        content_type="application/pdf",
        size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
        uploaded_by=applicant,
    )
    document.file.save(name, ContentFile(content), save=False)
    document.save()
    return document


@pytest.fixture
def settled(media, accepted, applicant, reviewer, leader, finance, advance):
    """Settled at ¥1,345.67: a ¥1,000.00 invoice unqualified, a ¥1,345.67 one with its scan."""
    scan = _scan(accepted, applicant)
    invoices = [
        invoice_add(
            project=accepted, actor=applicant, **invoice_data(accepted, amount=t, total=t, **extra)
        )
        for t, extra in ((Decimal("1000.00"), {}), (Decimal("1345.67"), {"scan": scan}))
    ]
    check_all(invoices, finance, unqualified=invoices[:1])
    project = request_and_approve(
        accepted, reviewer=reviewer, leader=leader, limit="2345.67", advance=advance
    )
    return apply_transition(project, "settle", actor=finance, **settle_decision(project))


def sheet_url(project):
    return reverse("projects:settlement_sheet", args=[project.pk])


def pdf_url(project, slug):
    return reverse(f"projects:{slug.replace('-', '_')}_pdf", args=[project.pk])


def open_pdf(response) -> pikepdf.Pdf:
    assert response.status_code == 200, response.content[:500]
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["X-Content-Type-Options"] == "nosniff"
    return pikepdf.open(io.BytesIO(response.content))


def assert_pdfa_3b(pdf: pikepdf.Pdf) -> None:
    with pdf.open_metadata() as meta:
        assert meta.get("pdfaid:part") == "3"
        assert meta.get("pdfaid:conformance") == "B"
    intents = pdf.Root.OutputIntents
    assert len(intents) >= 1 and intents[0].S == "/GTS_PDFA1"
    assert "/DestOutputProfile" in intents[0]
    fonts = 0
    for page in pdf.pages:
        for _name, font in page.Resources.get("/Font", {}).items():
            fonts += 1
            for descendant in font.get("/DescendantFonts", [font]):
                descriptor = descendant.FontDescriptor
                assert {"/FontFile", "/FontFile2", "/FontFile3"} & set(descriptor.keys()), (
                    f"font {descendant.BaseFont} is not embedded"
                )
    assert fonts >= 1
    # Each attachment is listed once in the catalog's /AF, with a relationship.
    af = list(pdf.Root.AF)
    assert len({spec.objgen for spec in af}) == len(af) == len(pdf.attachments)
    for spec in af:
        assert spec.AFRelationship in ("/Data", "/Source")
        assert str(spec.UF) and str(spec.F).isascii()


def attachment(pdf, name):
    spec = pdf.attachments[name]
    return spec.obj.AFRelationship, spec.get_file().read_bytes()


def data_of(pdf) -> ET.Element:
    relationship, raw = attachment(pdf, "data.xml")
    assert relationship == "/Data"
    return ET.fromstring(raw)


def text(root, path) -> str:
    return root.find(path, NS).text or ""


def test_settlement_pdf_is_pdfa_with_its_data_and_the_invoice_original(client, settled, reviewer):
    client.force_login(reviewer)
    pdf = open_pdf(client.get(pdf_url(settled, "settlement")))
    assert_pdfa_3b(pdf)
    root = data_of(pdf)
    assert root.get("kind") == "settlement" and root.get("version") == "1"
    assert root.get("issued-at").endswith("+08:00")  # Beijing time
    assert text(root, "d:settlement_amount") == "1345.67"
    assert text(root, "d:settlement_amount_capital") == "人民币壹仟叁佰肆拾伍元陆角柒分"
    assert text(root, "d:project/d:code") == settled.code
    assert [e.text for e in root.findall("d:invoices/d:item/d:total", NS)] == [
        "1000.00",
        "1345.67",
    ]
    voucher = Disbursement.objects.get(project=settled).voucher_number
    assert text(root, "d:disbursements/d:item/d:voucher_number") == voucher
    # The original as uploaded, byte for byte, related as its source.
    relationship, content = attachment(pdf, "发票原件-电子发票-001.pdf")
    assert relationship == "/Source" and content == SCAN_BYTES
    # The page shows the verification address the XML names.
    assert "/verify/" in root.get("verify-url")


def test_each_document_is_a_pdfa_with_its_data(client, settled, reviewer):
    client.force_login(reviewer)
    expected = {
        "application": ("d:approved_amount", "3000.00"),
        "acceptance": ("d:reviews/d:item/d:conclusion", "合格"),
        "final-accounts": ("d:total/d:qualified", "1345.67"),
    }
    for slug, (path, value) in expected.items():
        pdf = open_pdf(client.get(pdf_url(settled, slug)))
        assert_pdfa_3b(pdf)
        root = data_of(pdf)
        assert text(root, path) == value, slug
        assert len(pdf.attachments) == 1  # only the 结算单 carries originals
    # The application carries each review's six-condition answers.
    root = data_of(open_pdf(client.get(pdf_url(settled, "application"))))
    answers = root.findall("d:reviews/d:item/d:conditions/d:item", NS)
    assert len(answers) == 6 and {text(a, "d:answer") for a in answers} == {"是"}
    assert text(answers[0], "d:label") == "层次鲜明的活动目标"


def test_disclosure_pdf(client, settled, reviewer, org_a):
    client.force_login(reviewer)
    url = reverse("projects:disclosure_pdf", args=[settled.year, org_a.pk])
    pdf = open_pdf(client.get(url))
    assert_pdfa_3b(pdf)
    root = data_of(pdf)
    assert text(root, "d:organization") == "甲社区党支部"
    assert [e.text for e in root.findall("d:projects/d:item/d:code", NS)] == [settled.code]
    assert text(root, "d:total/d:settlement_amount") == "1345.67"


def test_another_organisations_documents_are_404(client, settled, outsider, org_a):
    client.force_login(outsider)
    for slug in ("application", "acceptance", "final-accounts", "settlement"):
        assert client.get(pdf_url(settled, slug)).status_code == 404
    assert client.get(reverse("projects:acceptance_print", args=[settled.pk])).status_code == 404
    url = reverse("projects:disclosure_pdf", args=[settled.year, org_a.pk])
    assert client.get(url).status_code == 404
    assert not IssuedDocument.objects.exists()


# --- verification --------------------------------------------------------------------------


def _token_of_print(client, user, url) -> str:
    client.force_login(user)
    page = client.get(url)
    assert page.status_code == 200
    issued = page.context["verification"]
    assert issued.url in page.content.decode()
    assert "<svg" in page.content.decode() and "style=" not in page.content.decode()
    client.logout()
    return issued.token


def test_settlement_qr_is_genuine_then_superseded_after_a_reversal(client, settled, finance):
    token = _token_of_print(
        client, finance, reverse("projects:settlement_sheet", args=[settled.pk])
    )
    page = client.get(reverse("verify_document", args=[token]))  # anonymous
    body = page.content.decode()
    assert page.status_code == 200 and "真实有效" in body
    assert settled.code in body and "¥1,345.67" in body and "人民币壹仟叁佰肆拾伍元陆角柒分" in body
    # A printed copy's token names the same version the PDF would carry (no new version).
    client.force_login(finance)
    root = data_of(open_pdf(client.get(pdf_url(settled, "settlement"))))
    assert root.get("verify-url").endswith(f"/verify/{token}/")
    client.logout()

    disbursement_reverse(
        disbursement=Disbursement.objects.get(project=settled),
        actor=finance,
        voucher_number="PZ-R-1",
        voucher_date=timezone.localdate(),
        reason="收款账号有误",
    )
    body = client.get(reverse("verify_document", args=[token])).content.decode()
    assert "已被新版本取代" in body and "真实有效" not in body
    assert "/admin/" not in body  # points nowhere private
    # Printing again issues version 2, which is current; version 1 stays superseded.
    token2 = _token_of_print(
        client, finance, reverse("projects:settlement_sheet", args=[settled.pk])
    )
    assert token2 != token
    assert verify(token2).status == "genuine" and verify(token2).row.version == 2
    assert verify(token).status == "superseded"


def test_a_changed_final_account_supersedes_the_printed_one(client, settled, reviewer):
    token = _token_of_print(client, reviewer, reverse("projects:final_accounts", args=[settled.pk]))
    assert verify(token).status == "genuine"
    line = settled.budget_lines.get()
    line.actual_amount = Decimal("2999.00")
    line.save(update_fields=["actual_amount"])
    assert verify(token).status == "superseded"


def test_reprinting_unchanged_content_keeps_the_version(client, settled, reviewer):
    url = reverse("projects:final_accounts", args=[settled.pk])
    assert _token_of_print(client, reviewer, url) == _token_of_print(client, reviewer, url)
    assert IssuedDocument.objects.filter(kind="final_accounts").count() == 1


def test_forged_and_tampered_tokens_are_invalid_and_never_500(client, settled, finance):
    token = _token_of_print(
        client, finance, reverse("projects:settlement_sheet", args=[settled.pk])
    )
    flipped = token[:-1] + ("a" if token[-1] != "a" else "b")
    row = IssuedDocument.objects.get()
    with override_settings(DOCUMENT_VERIFY_KEY="not-the-key"):
        wrong_key = token_for(row.kind, row.subject, row.version, row.digest)
    assert wrong_key != token
    for bad in (flipped, wrong_key, "1", "A" * 32, "x" * 500, "%00", "' OR 1=1 --", str(row.pk)):
        page = client.get(f"/verify/{bad}/")
        assert page.status_code == 404, bad
        body = page.content.decode()
        assert "未找到/无效" in body and settled.code not in body
    # A row edited in the database (the amount shown) no longer matches its token.
    row.snapshot["summary"][6][1] = "¥9,999.00"
    row.save(update_fields=["snapshot"])
    body = client.get(f"/verify/{token}/").content.decode()
    assert "未找到/无效" in body and "9,999" not in body


def test_token_depends_on_the_key(settings, settled):
    row_args = ("settlement", f"project:{settled.pk}", 1, "0" * 64)
    first = token_for(*row_args)
    settings.DOCUMENT_VERIFY_KEY = "another-key"
    assert token_for(*row_args) != first
    settings.DOCUMENT_VERIFY_KEY = settings.HISTORY_HMAC_KEY
    assert token_for(*row_args) != first


def test_verification_page_shows_only_the_documents_own_summary(client, settled, finance, org_b):
    from tests.factories import ProjectFactory

    other = ProjectFactory(organization=org_b, title="乙支部的保密项目")
    token = _token_of_print(
        client, finance, reverse("projects:settlement_sheet", args=[settled.pk])
    )
    body = client.get(f"/verify/{token}/").content.decode()
    assert other.title not in body and other.code not in body
    # Nothing beyond the summary: no payee account, no invoice numbers, no leader profile.
    assert "6222000000000001" not in body and settled.leader_profile not in body


def test_every_print_page_carries_a_code(client, settled, reviewer, org_a):
    for url in (
        reverse("projects:application_print", args=[settled.pk]),
        reverse("projects:acceptance_print", args=[settled.pk]),
        reverse("projects:final_accounts", args=[settled.pk]),
        reverse("projects:settlement_sheet", args=[settled.pk]),
        reverse("projects:report_disclosure", args=[settled.year, org_a.pk]),
    ):
        token = _token_of_print(client, reviewer, url)
        assert verify(token).status == "genuine", url
    assert set(IssuedDocument.objects.values_list("kind", flat=True)) == set(
        IssuedDocument.Kind.values
    )


def test_closing_the_project_does_not_supersede_its_settlement_sheet(
    client, settled, finance, leader
):
    token = _token_of_print(client, finance, sheet_url(settled))
    apply_transition(settled, "close", actor=leader, opinion="归档")
    assert verify(token).status == "genuine"


def test_control_characters_in_user_text_keep_the_xml_readable(client, settled, reviewer):
    settled.purpose = "提高党员\x0b理论\x01水平"
    settled.save(update_fields=["purpose"])
    client.force_login(reviewer)
    root = data_of(open_pdf(client.get(pdf_url(settled, "application"))))
    purposes = [
        text(item, "d:value")
        for item in root.findall("d:sections/d:item", NS)
        if text(item, "d:label") == "活动目的"
    ]
    assert purposes == ["提高党员理论水平"]


def test_rendering_without_a_request_gives_an_absolute_verifiable_address(
    settings, settled, finance
):
    """What an archive builder (no request) gets: the PDF, its QR on the configured site."""
    from projects.documents.kinds import Kind, Subject
    from projects.documents.pdf import render_document

    settings.DOCUMENT_VERIFY_BASE_URL = "https://dangfei.example.org/"
    name, body = render_document(Subject(Kind.SETTLEMENT, project=settled), user=finance)
    assert name == f"项目资金结算单-{settled.code}.pdf"
    pdf = pikepdf.open(io.BytesIO(body))
    assert_pdfa_3b(pdf)
    address = data_of(pdf).get("verify-url")
    assert address.startswith("https://dangfei.example.org/verify/")
    assert verify(address.rstrip("/").rsplit("/", 1)[1]).status == "genuine"
