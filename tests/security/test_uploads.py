"""Issue 7: uploaded files are never executed or served inline as HTML; download names are
safe. Uploads go through the admin form (the way users reach it); downloads are checked
header by header, including names that try path traversal or header injection."""

import re
import zipfile
from decimal import Decimal
from io import BytesIO
from urllib.parse import unquote

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from projects.downloads import ascii_fallback, attachment_disposition
from projects.models import Document, ProjectHistory
from projects.models.money import Invoice
from projects.services import WorkflowError, apply_transition
from projects.services.documents import DOCUMENT_TYPES, document_upload
from projects.services.invoices import Original, invoice_add
from tests.factories import BudgetLineFactory, FundingPolicyFactory, ProjectFactory
from tests.projects.conftest import CHECKLIST_YES
from tests.projects.fixtures_running import (
    JPG_BYTES,
    PDF_BYTES,
    PNG_BYTES,
    REFUSED,
    ooxml_bytes,
    pdf_with_javascript,
)

pytestmark = pytest.mark.django_db

ALLOWED_TYPES = {content_type for content_type, _ in DOCUMENT_TYPES.values()}
PDF = PDF_BYTES  # real files: an upload is opened and decoded before it is kept
PNG = PNG_BYTES

HOSTILE = {
    "html": b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>",
    "html-bom": b"\xef\xbb\xbf<html><script>alert(1)</script></html>",
    "html-space": b"   \n<HTML><img src=x onerror=alert(1)></HTML>",
    "svg": b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>',
    "svg-bare": b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
    "script": b"alert(document.domain);//",
    "gif-polyglot": b"GIF89a/*<script>alert(1)</script>*/",
    "xhtml": b'<html xmlns="http://www.w3.org/1999/xhtml"><script>alert(1)</script></html>',
}


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return tmp_path / "media"


@pytest.fixture
def running(org_a, applicant, reviewer, leader):
    FundingPolicyFactory()
    project = ProjectFactory(organization=org_a, leader=applicant)
    BudgetLineFactory(project=project, quantity=Decimal("1"), unit_price=Decimal("1000.00"))
    for name, actor, decision in [
        ("submit", applicant, {}),
        ("org_approve", reviewer, {"opinion": "同意", **CHECKLIST_YES}),
        ("approve", leader, {"opinion": "同意", "grade": 3, "approved_amount": "1000.00"}),
        ("start", applicant, {}),
    ]:
        project = apply_transition(project, name, actor=actor, **decision)
    return project


def _post_upload(client, project, name: str, content: bytes):
    return client.post(
        reverse("admin:projects_document_add"),
        {
            "project": project.pk,
            "kind": Document.Kind.OTHER,
            "description": "",
            "file": SimpleUploadedFile(name, content, content_type="application/pdf"),
            "_save": "保存",
        },
    )


@pytest.mark.parametrize("name", ["申请书.pdf", "照片.png", "照片.jpg", "决算.xlsx", "总结.docx"])
@pytest.mark.parametrize("content", list(HOSTILE.values()), ids=list(HOSTILE))
def test_html_svg_or_script_is_refused_whatever_its_name(
    client, media, running, applicant, name, content
):
    client.force_login(applicant)
    response = _post_upload(client, running, name, content)
    assert response.status_code == 200  # the form again, with the reason
    assert "不是允许的类型" in response.content.decode()
    assert not Document.objects.exists()
    assert not (media / "documents").exists()


@pytest.mark.parametrize("name", ["page.html", "image.svg", "run.js", "a.pdf.html"])
def test_a_real_pdf_under_a_web_name_is_refused(client, media, running, applicant, name):
    client.force_login(applicant)
    response = _post_upload(client, running, name, PDF)
    assert "不符" in response.content.decode()
    assert not Document.objects.exists()


def test_an_allowed_upload_through_the_form_is_kept_under_a_random_name(
    client, media, running, applicant
):
    client.force_login(applicant)
    response = _post_upload(client, running, "活动签到表.pdf", PDF)
    assert response.status_code == 302
    document = Document.objects.get()
    assert document.content_type == "application/pdf"
    assert re.fullmatch(rf"documents/{running.pk}/[0-9a-f]{{32}}", document.file.name)


def stored_files(storage=None) -> list[str]:
    """Every file under documents/ in the default storage (whatever its backend)."""
    from django.core.files.storage import default_storage

    storage = storage or default_storage
    found, folders = [], ["documents"]
    while folders:
        folder = folders.pop()
        try:
            subfolders, files = storage.listdir(folder)
        except (FileNotFoundError, OSError):
            continue
        found += [f"{folder}/{name}" for name in files]
        folders += [f"{folder}/{name}" for name in subfolders]
    return found


# --- opened and decoded on acceptance, as the archive package's check opens them (issue 13) ---


@pytest.mark.parametrize("sample", list(REFUSED), ids=list(REFUSED))
def test_a_file_that_would_fail_the_archive_check_is_refused_at_upload(
    client, media, running, applicant, sample
):
    name, content, says = REFUSED[sample]
    events_before = ProjectHistory.objects.count()
    client.force_login(applicant)
    response = _post_upload(client, running, name, content)
    assert response.status_code == 200  # the form again, with the reason
    # A refusal of no field is the page's one notice (issue 11: each error once).
    errors = " ".join(
        re.findall(
            r'<ul class="(?:errorlist|errornote)[^"]*">(.*?)</ul>', response.content.decode(), re.S
        )
    )
    assert says in errors and "不能上传" in errors, errors
    assert not Document.objects.exists()
    assert ProjectHistory.objects.count() == events_before
    assert stored_files() == []


@pytest.mark.parametrize(
    "name,content,content_type",
    [
        ("活动照片.png", PNG_BYTES, "image/png"),
        ("活动照片.jpg", JPG_BYTES, "image/jpeg"),
        ("签到表.pdf", PDF_BYTES, "application/pdf"),
        ("决算.xlsx", ooxml_bytes("xlsx"), DOCUMENT_TYPES["xlsx"][0]),
    ],
)
def test_a_real_file_is_accepted(client, media, running, applicant, name, content, content_type):
    client.force_login(applicant)
    response = _post_upload(client, running, name, content)
    assert response.status_code == 302
    document = Document.objects.get()
    assert document.content_type == content_type
    with document.file.open("rb") as handle:
        assert handle.read() == content
    assert stored_files() == [document.file.name]


def test_an_invoice_original_with_a_script_is_refused_and_nothing_stored(media, running, applicant):
    """The capture's original goes through the same check before it is stored."""
    from tests.projects.fixtures_money import invoice_data

    events_before = ProjectHistory.objects.count()
    original = Original(name="电子发票.pdf", content=pdf_with_javascript())
    with pytest.raises(WorkflowError, match="含 JavaScript 动作.*不能上传"):
        invoice_add(project=running, actor=applicant, original=original, **invoice_data(running))
    assert not Invoice.objects.exists() and not Document.objects.exists()
    assert ProjectHistory.objects.count() == events_before
    assert stored_files() == []


def _disposition(response) -> tuple[str, str]:
    header = response["Content-Disposition"]
    assert header.startswith("attachment;"), header
    fallback = re.search(r'filename="([^"]*)"', header)
    utf8 = re.search(r"filename\*=UTF-8''(\S+)", header)
    assert fallback and utf8, header
    return fallback.group(1), unquote(utf8.group(1))


def _assert_safe_download(response, expected_name: str | None = None) -> None:
    assert response.status_code == 200
    fallback, name = _disposition(response)
    assert re.fullmatch(r"[A-Za-z0-9._()\- ]+", fallback), fallback
    for bad in ("/", "\\", "\r", "\n", '"', "\x00"):
        assert bad not in name and bad not in fallback
    assert not name.startswith(".")
    if expected_name is not None:
        assert name == expected_name
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response["Content-Security-Policy"]
    for header, value in response.items():
        assert "\r" not in value and "\n" not in value, header


@pytest.mark.parametrize(
    "original,expected",
    [
        ("活动 照片.png", "活动 照片.png"),
        ("../../etc/passwd.png", "passwd.png"),
        ("..\\..\\windows\\win.ini.png", "win.ini.png"),
        ("报告\r\nSet-Cookie: sessionid=stolen.png", "报告Set-Cookie sessionid=stolen.png"),
        ('x"; filename="evil.html.png', "x; filename=evil.html.png"),
        ("%2e%2e%2fsecret.png", "%2e%2e%2fsecret.png"),
        (".htaccess.png", "htaccess.png"),
    ],
)
def test_download_headers_are_safe_whatever_the_stored_name(
    client, media, running, applicant, original, expected
):
    document = document_upload(
        project=running, actor=applicant, uploaded=SimpleUploadedFile("a.png", PNG)
    )
    # The name as another interface (an import, an old row) might have stored it verbatim:
    # the download must still be safe, so the header is built defensively on the way out.
    Document.objects.filter(pk=document.pk).update(original_name=original)
    client.force_login(applicant)
    response = client.get(reverse("projects:document_download", args=[document.pk]))
    _assert_safe_download(response, expected)
    assert response["Content-Type"] in ALLOWED_TYPES
    assert b"".join(response.streaming_content) == PNG


def test_every_stored_type_downloads_with_its_allowed_content_type(
    client, media, running, applicant
):
    for name, content in [("a.pdf", PDF), ("b.png", PNG)]:
        document_upload(
            project=running, actor=applicant, uploaded=SimpleUploadedFile(name, content)
        )
    client.force_login(applicant)
    for document in Document.objects.all():
        response = client.get(reverse("projects:document_download", args=[document.pk]))
        _assert_safe_download(response, document.original_name)
        assert response["Content-Type"] == document.content_type
        assert response["Content-Type"] in ALLOWED_TYPES


def test_archive_is_a_safe_download_with_a_chinese_name(client, media, running, applicant):
    document_upload(
        project=running, actor=applicant, uploaded=SimpleUploadedFile("../照片.png", PNG)
    )
    client.force_login(applicant)
    response = client.get(reverse("projects:project_archive", args=[running.pk]))
    _assert_safe_download(response, f"{running.code}-项目档案.zip")
    assert response["Content-Type"] == "application/zip"
    with zipfile.ZipFile(BytesIO(b"".join(response.streaming_content))) as archive:
        for entry in archive.namelist():
            assert not entry.startswith("/") and ".." not in entry.split("/")


def test_xlsx_downloads_carry_the_ascii_fallback_too(client, running, applicant):
    client.force_login(applicant)
    url = reverse("projects:final_accounts", args=[running.pk]) + "?format=xlsx"
    response = client.get(url)
    assert response.status_code == 200
    fallback, name = _disposition(response)
    assert re.fullmatch(r"[A-Za-z0-9._()\- ]+", fallback) and fallback.endswith(".xlsx")
    assert name.endswith(".xlsx")


@pytest.mark.parametrize(
    "name,fallback",
    [
        ("2026-0001-项目档案.zip", "2026-0001.zip"),
        ("项目档案.zip", "download.zip"),
        ("决算清单.xlsx", "download.xlsx"),
        ("report 1.pdf", "report 1.pdf"),
        ('a";b.pdf', "a_b.pdf"),
        ("../../x.pdf", "x.pdf"),
        ("", "download"),
    ],
)
def test_ascii_fallback(name, fallback):
    assert ascii_fallback(name) == fallback
    header = attachment_disposition(name)
    assert header.isascii() and "\n" not in header and "\r" not in header
