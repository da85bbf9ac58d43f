"""The batch capture (issue 12): the tax platform's zip (or many XML files in one zip) on the
invoice import page: each invoice captured once, previewed with per-invoice errors, all or
nothing, the zip kept unchanged as the original with its SHA-256."""

import hashlib
import io

import pytest
from django.urls import reverse
from django.utils import timezone

from projects.models import Document, ImportPreview, ProjectHistory
from projects.models.money import Invoice
from projects.services import events
from projects.services.invoice_imports import invoice_import, rows_unpack
from tests.projects import fixtures_money
from tests.projects.capture import makers

pytestmark = pytest.mark.django_db
accepted = fixtures_money.accepted
TODAY = timezone.localdate()
BASE = 25924000000001260000


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def xml(project, n, **overrides):
    values = {"issue_time": TODAY.isoformat(), "buyer": project.organization.name, **overrides}
    return makers.einvoice_xml(str(BASE + n), **values)


def zip_of(project, count, **bad):
    members = {f"dzfp_{BASE + n}.xml": xml(project, n) for n in range(count)}
    for n, overrides in bad.items():
        members[f"dzfp_{BASE + int(n[1:])}.xml"] = xml(project, int(n[1:]), **overrides)
    return makers.zip_bytes(members)


def test_zip_preview_then_commit_all_with_the_original(accepted, applicant):
    line = accepted.budget_lines.get()
    content = zip_of(accepted, 5)
    preview = invoice_import(
        project=accepted,
        source=content,
        actor=applicant,
        dry_run=True,
        filename="发票.zip",
        budget_line=line,
    )
    assert preview.ok and len(preview.rows) == 5 and not Invoice.objects.exists()
    assert preview.rows[0].suggestion  # *纸制品*: shown, not applied
    done = invoice_import(
        project=accepted,
        source=content,
        actor=applicant,
        dry_run=False,
        filename="发票.zip",
        budget_line=line,
    )
    assert done.created == 5
    document = Document.objects.get()
    assert document.sha256 == hashlib.sha256(content).hexdigest()
    assert set(Invoice.objects.values_list("scan", flat=True)) == {document.pk}
    assert set(Invoice.objects.values_list("capture_source", flat=True)) == {"zip:xml"}
    event = ProjectHistory.objects.get(transition="invoice_import")
    assert event.data["original_sha256"] == document.sha256
    assert events.verify().ok


def test_one_bad_invoice_in_the_zip_stores_nothing_and_is_named(accepted, applicant):
    line = accepted.budget_lines.get()
    fixtures_money.invoice_add(
        project=accepted,
        actor=applicant,
        **fixtures_money.invoice_data(
            accepted, kind=Invoice.Kind.DIGITAL, code="", number=str(BASE + 3)
        ),
    )
    content = zip_of(accepted, 4, n1={"seller_id": "91350100M000100Y44"})
    result = invoice_import(
        project=accepted,
        source=content,
        actor=applicant,
        dry_run=False,
        filename="发票.zip",
        budget_line=line,
    )
    assert not result.ok and result.created == 0
    messages = "\n".join(result.messages())
    assert "第2张" in messages and "销售方纳税人识别号" in messages
    assert "第4张" in messages and "同一张发票只能报销一次" in messages
    assert Invoice.objects.count() == 1 and not Document.objects.exists()


def test_zip_without_a_chosen_budget_line_is_refused(accepted, applicant):
    result = invoice_import(
        project=accepted,
        source=zip_of(accepted, 2),
        actor=applicant,
        dry_run=True,
        filename="发票.zip",
    )
    assert result.file_errors == ["请选择本批发票计入的预算明细。"]


def test_hostile_zip_is_refused_on_the_page(client, accepted, applicant):
    client.force_login(applicant)
    bomb = makers.zip_bytes({"a.xml": b"<a>" + b" " * (60 * 1024 * 1024) + b"</a>"})
    handle = io.BytesIO(bomb)
    handle.name = "发票.zip"
    url = reverse("projects:invoice_import", args=[accepted.pk])
    page = client.post(url, {"file": handle, "budget_line": accepted.budget_lines.get().pk})
    assert page.status_code == 200 and "压缩" in page.content.decode()
    assert not Invoice.objects.exists() and not Document.objects.exists()


def test_zip_through_the_page_preview_and_confirm(client, accepted, applicant):
    client.force_login(applicant)
    handle = io.BytesIO(zip_of(accepted, 3))
    handle.name = "dzfp_批量.zip"
    url = reverse("projects:invoice_import", args=[accepted.pk])
    page = client.post(url, {"file": handle, "budget_line": accepted.budget_lines.get().pk})
    text = page.content.decode()
    assert "共 3 张发票,全部通过校验" in text and not Invoice.objects.exists()
    token = page.context["token"]
    frozen, original = rows_unpack(bytes(ImportPreview.objects.get(token=token).data))
    assert len(frozen["rows"]) == 3 and original == handle.getvalue()  # kept as the original
    response = client.post(url, {"token": token, "sha256": page.context["result"].sha256})
    assert response.status_code == 302
    assert Invoice.objects.count() == 3 and Document.objects.count() == 1
    # Confirmed from the preview's rows: the capture source and the original come along.
    assert set(Invoice.objects.values_list("capture_source", flat=True)) == {"zip:xml"}
    assert set(Invoice.objects.values_list("scan", flat=True)) == {Document.objects.get().pk}
    assert Document.objects.get().sha256 == hashlib.sha256(handle.getvalue()).hexdigest()


def test_a_red_invoice_in_the_zip_is_imported_with_the_invoice_it_cancels(accepted, applicant):
    # Issue 12: a 红字发票 is flagged, not refused; the zip import refused it while the xlsx
    # import and the invoice page took it.
    from projects.selectors.invoices import invoice_risks

    line = accepted.budget_lines.get()
    blue = str(BASE + 1)
    cancels = f"<RedInvoiceInformation><OriginalInvoiceNumber>{blue}</OriginalInvoiceNumber>"
    cancels += "</RedInvoiceInformation>"
    red = {"amount": "-105.66", "tax": "-6.34", "total": "-112.00", "extra": cancels}
    content = zip_of(accepted, 2, n0=red)
    kwargs = dict(project=accepted, source=content, actor=applicant, filename="发票.zip")
    preview = invoice_import(**kwargs, dry_run=True, budget_line=line)
    assert preview.ok, preview.messages()
    done = invoice_import(**kwargs, dry_run=False, budget_line=line)
    assert done.created == 2
    red_invoice = Invoice.objects.get(number=str(BASE))
    assert red_invoice.total < 0 and red_invoice.cancels == blue
    assert "red" in [r.key for r in invoice_risks(red_invoice)]
    assert "red" in [r.key for r in invoice_risks(Invoice.objects.get(number=blue))]
