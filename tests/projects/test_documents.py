"""Documents: types checked by content (not by name), a size limit, served only through the
scoped download view as an attachment (another organisation's file is a 404)."""

import io
import random
import zipfile

import pytest
from django.urls import reverse

from projects.models import Document
from projects.services import WorkflowError
from projects.services.documents import document_upload
from tests.factories import PASSWORD
from tests.projects.fixtures_running import *  # noqa: F403
from tests.projects.fixtures_running import (
    EXE_BYTES,
    JPG_BYTES,
    PDF_BYTES,
    PNG_BYTES,
    ooxml_bytes,
    upload,
)

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "name,content,content_type",
    [
        ("申请书.pdf", PDF_BYTES, "application/pdf"),
        ("照片.PNG", PNG_BYTES, "image/png"),
        ("照片.jpeg", JPG_BYTES, "image/jpeg"),
        (
            "决算.xlsx",
            ooxml_bytes("xlsx"),
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        ),
        (
            "总结.docx",
            ooxml_bytes("docx"),
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        ),
    ],
)
def test_allowed_types_are_stored_under_a_random_name(
    media, in_progress, applicant, name, content, content_type
):
    doc = document_upload(project=in_progress, actor=applicant, uploaded=upload(name, content))
    assert doc.original_name == name and doc.content_type == content_type
    assert doc.size == len(content) and len(doc.sha256) == 64
    assert name not in doc.file.name and doc.file.name.startswith(f"documents/{in_progress.pk}/")
    with doc.file.open("rb") as handle:
        assert handle.read() == content


@pytest.mark.parametrize(
    "name,content,message",
    [
        ("病毒.pdf", EXE_BYTES, "不是允许的类型"),
        ("伪装.docx", ooxml_bytes("xlsx"), "不符"),
        ("图片.pdf", PNG_BYTES, "不符"),
        ("page.html", b"<html><script>alert(1)</script>", "不是允许的类型"),
        ("压缩包.docx", b"PK\x03\x04not really a zip", "不是允许的类型"),
        ("空.pdf", b"", "为空"),
    ],
)
def test_disguised_or_bad_files_are_refused(media, in_progress, applicant, name, content, message):
    with pytest.raises(WorkflowError) as err:
        document_upload(project=in_progress, actor=applicant, uploaded=upload(name, content))
    assert message in str(err.value)
    assert not Document.objects.exists()
    assert not (media / "documents").exists()


def test_oversized_file_is_refused(media, settings, in_progress, applicant):
    settings.DOCUMENT_MAX_BYTES = 1024 * 1024
    big = PDF_BYTES + b"0" * (1024 * 1024)
    with pytest.raises(WorkflowError) as err:
        document_upload(project=in_progress, actor=applicant, uploaded=upload("大.pdf", big))
    assert "上限为 1 MB" in str(err.value)
    assert not Document.objects.exists()


def test_path_parts_are_stripped_from_the_name(media, in_progress, applicant):
    doc = document_upload(
        project=in_progress, actor=applicant, uploaded=upload("../../etc/x.pdf", PDF_BYTES)
    )
    assert doc.original_name == "x.pdf"


@pytest.mark.parametrize("who", ["outsider", "outsider_applicant", "auditor", "finance"])
def test_upload_refused_for_other_roles(request, media, in_progress, who):
    with pytest.raises(WorkflowError):
        document_upload(
            project=in_progress,
            actor=request.getfixturevalue(who),
            uploaded=upload("a.pdf", PDF_BYTES),
        )


def test_upload_refused_on_closed_project(media, closed, applicant, leader):
    for actor in (applicant, leader):
        with pytest.raises(WorkflowError) as err:
            document_upload(project=closed, actor=actor, uploaded=upload("a.pdf", PDF_BYTES))
        assert "归档" in str(err.value)


def _download(client, user, doc):
    client.login(username=user.username, password=PASSWORD)
    return client.get(reverse("projects:document_download", args=[doc.pk]))


@pytest.mark.parametrize("who", ["applicant", "reviewer", "leader", "finance", "auditor"])
def test_download_for_those_who_see_the_project(request, client, media, in_progress, who):
    doc = document_upload(
        project=in_progress,
        actor=request.getfixturevalue("applicant"),
        uploaded=upload("活动 照片.png", PNG_BYTES),
    )
    response = _download(client, request.getfixturevalue(who), doc)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PNG_BYTES
    assert response["Content-Type"] == "image/png"
    assert response["Content-Disposition"].startswith("attachment;")
    assert (
        "filename*=UTF-8''%E6%B4%BB%E5%8A%A8%20%E7%85%A7%E7%89%87.png"
        in (response["Content-Disposition"])
    )
    assert response["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize("who", ["outsider", "outsider_applicant"])
def test_download_across_organisations_is_404(request, client, media, in_progress, applicant, who):
    doc = document_upload(project=in_progress, actor=applicant, uploaded=upload("a.pdf", PDF_BYTES))
    assert _download(client, request.getfixturevalue(who), doc).status_code == 404


def test_download_needs_login_and_unknown_is_404(client, media, in_progress, applicant):
    doc = document_upload(project=in_progress, actor=applicant, uploaded=upload("a.pdf", PDF_BYTES))
    response = client.get(reverse("projects:document_download", args=[doc.pk]))
    assert response.status_code == 302 and "/login/" in response["Location"]
    client.login(username=applicant.username, password=PASSWORD)
    assert client.get(reverse("projects:document_download", args=[9999])).status_code == 404


def test_no_public_media_url(client, media, in_progress, applicant):
    doc = document_upload(project=in_progress, actor=applicant, uploaded=upload("a.pdf", PDF_BYTES))
    client.login(username=applicant.username, password=PASSWORD)
    assert client.get(f"/media/{doc.file.name}").status_code == 404


# --- hole 12: a zip bomb disguised as a docx is refused before anything reads its parts ---


def docx_with_part(size: int, *, data: bytes | None = None) -> bytes:
    """A valid docx plus one extra part of `size` zero bytes (or `data`), compressed hard."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        with zipfile.ZipFile(io.BytesIO(ooxml_bytes("docx"))) as base:
            for name in base.namelist():
                archive.writestr(name, base.read(name))
        with archive.open("word/media/image1.bin", "w", force_zip64=True) as part:
            if data is not None:
                part.write(data)
            else:
                chunk = b"\0" * (16 * 1024 * 1024)
                for _ in range(size // len(chunk)):
                    part.write(chunk)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def gigabyte_docx():
    content = docx_with_part(1024 * 1024 * 1024)
    assert len(content) < 1_200_000  # about 1 MB on disk
    return content


def test_a_1_mb_docx_holding_a_1_gib_part_is_refused(media, in_progress, applicant, gigabyte_docx):
    before = Document.objects.count()
    with pytest.raises(WorkflowError) as err:
        document_upload(
            project=in_progress, actor=applicant, uploaded=upload("总结.docx", gigabyte_docx)
        )
    assert "解压后超过 256 MB" in str(err.value)
    assert Document.objects.count() == before
    assert not (media / "documents").exists()  # nothing was stored


def test_a_highly_compressed_part_is_refused_by_its_ratio(media, in_progress, applicant):
    bomb = docx_with_part(32 * 1024 * 1024)  # 32 MB of zeros in about 32 KB
    with pytest.raises(WorkflowError) as err:
        document_upload(project=in_progress, actor=applicant, uploaded=upload("总结.docx", bomb))
    assert "压缩比异常" in str(err.value)


def test_a_normal_docx_with_a_photo_is_accepted(media, in_progress, applicant):
    photo = random.Random(7).randbytes(3 * 1024 * 1024)  # incompressible, like a JPEG
    content = docx_with_part(0, data=photo)
    doc = document_upload(
        project=in_progress, actor=applicant, uploaded=upload("活动总结.docx", content)
    )
    assert doc.content_type.endswith("wordprocessingml.document") and doc.size == len(content)


def test_the_admin_upload_shows_the_refusal_in_chinese(client, media, in_progress, applicant):
    client.login(username=applicant.username, password=PASSWORD)
    bomb = docx_with_part(32 * 1024 * 1024)
    response = client.post(
        reverse("admin:projects_document_add"),
        {
            "project": in_progress.pk,
            "kind": Document.Kind.OTHER,
            "file": upload("总结.docx", bomb),
            "description": "",
        },
    )
    assert response.status_code == 200
    assert "压缩比异常" in response.content.decode()
    assert not Document.objects.filter(project=in_progress).exists()
