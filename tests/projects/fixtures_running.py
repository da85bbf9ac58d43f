"""Fixtures of the running area: projects in each state from `approved` onward.

Import explicitly: `from tests.projects.fixtures_running import *  # noqa: F403`.
"""

import datetime
import io
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from projects.demo.running import DEMO_PDF
from projects.services import apply_transition
from projects.services.summaries import summary_report_save
from tests.factories import ProjectFactory
from tests.projects.conftest import CHECKLIST_YES

SUMMARY = {
    "goals": "提高党员理论水平。",
    "conduct": "共组织专题学习三次。",
    "self_assessment": "基本达到预期。",
    "lessons": "宣传发动还可提前。",
    "participant_feedback": "收获很大。",
    "effect": "参与率 95%。",
}


@pytest.fixture
def in_progress(approved, applicant):
    return apply_transition(approved, "start", actor=applicant)


@pytest.fixture
def in_acceptance(in_progress, applicant, reviewer):
    summary_report_save(project=in_progress, actor=applicant, **SUMMARY)
    return apply_transition(in_progress, "finish", actor=reviewer, opinion="同意报请验收")


@pytest.fixture
def accepted(in_acceptance, leader):
    return apply_transition(
        in_acceptance, "accept", actor=leader, opinion="验收合格", conclusion="pass"
    )


@pytest.fixture
def grade4_accepted(org_a, applicant, reviewer, leader, policy):
    """A grade-4 project (approved amount 0) that has passed acceptance."""
    project = ProjectFactory(organization=org_a, leader=applicant, proposed_grade=4)
    steps = [
        ("submit", applicant, {}),
        ("org_approve", reviewer, {"opinion": "同意上报", **CHECKLIST_YES}),
        ("approve", leader, {"opinion": "四级立项", "grade": 4, "approved_amount": "0"}),
        ("start", applicant, {}),
    ]
    for name, actor, decision in steps:
        project = apply_transition(project, name, actor=actor, **decision)
    summary_report_save(project=project, actor=applicant, **SUMMARY)
    for name, actor, decision in [
        ("finish", reviewer, {"opinion": "同意"}),
        ("accept", leader, {"opinion": "合格", "conclusion": "pass"}),
    ]:
        project = apply_transition(project, name, actor=actor, **decision)
    return project


@pytest.fixture
def closed(grade4_accepted, leader):
    return apply_transition(
        grade4_accepted, "close", actor=leader, opinion="归档", is_commended=True
    )


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return tmp_path / "media"


def month(year: int, number: int) -> datetime.date:
    return datetime.date(year, number, 1)


# --- sample files: real ones (an upload is opened and decoded), OOXML parts ---------------


def image_bytes(kind: str, size=(40, 30)) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buffer, kind)
    return buffer.getvalue()


PDF_BYTES = DEMO_PDF
PNG_BYTES = image_bytes("PNG")
JPG_BYTES = image_bytes("JPEG")
EXE_BYTES = b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 64


def ooxml_bytes(kind: str) -> bytes:
    main = {
        "docx": ("word/document.xml", "wordprocessingml.document.main+xml"),
        "xlsx": ("xl/workbook.xml", "spreadsheetml.sheet.main+xml"),
    }[kind]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(
            "[Content_Types].xml",
            f'<Types><Override PartName="/{main[0]}" '
            f'ContentType="application/vnd.openxmlformats-officedocument.{main[1]}"/></Types>',
        )
        archive.writestr(main[0], "<x/>")
    return buffer.getvalue()


def upload(name: str, content: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content)


# --- files that claim a type but would fail the archive package's check ----------------------


def pdf_with_javascript() -> bytes:
    import pikepdf

    with pikepdf.open(io.BytesIO(DEMO_PDF)) as pdf:
        pdf.Root.OpenAction = pikepdf.Dictionary(
            S=pikepdf.Name.JavaScript, JS=pikepdf.String("app.alert('x')")
        )
        out = io.BytesIO()
        pdf.save(out)
    return out.getvalue()


def xlsx_with_macro() -> bytes:
    buffer = io.BytesIO(ooxml_bytes("xlsx"))
    with zipfile.ZipFile(buffer, "a") as archive:
        archive.writestr("xl/vbaProject.bin", b"\xd0\xcf\x11\xe0macro")
    return buffer.getvalue()


def image_bomb() -> bytes:
    """8000 × 8000 one-bit pixels (64 Mpx, past the 60 Mpx bound) in a few kilobytes."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("1", (8000, 8000)).save(buffer, "PNG")
    return buffer.getvalue()


# name → (file name, content, what the refusal says)
REFUSED = {
    "truncated-png": ("照片.png", PNG_BYTES[: len(PNG_BYTES) // 2], "不能作为图像打开"),
    "png-header-garbage": ("照片.png", PNG_BYTES[:8] + b"not an image " * 20, "不能作为图像打开"),
    "jpeg-undecodable": ("照片.jpg", JPG_BYTES[: len(JPG_BYTES) // 2], "不能作为图像打开"),
    "pdf-unopenable": ("方案.pdf", b"%PDF-1.4\n" + b"garbage " * 40, "不能作为 PDF 打开"),
    "pdf-javascript": ("方案.pdf", pdf_with_javascript(), "含 JavaScript 动作"),
    "xlsx-macro": ("决算.xlsx", xlsx_with_macro(), "含宏(vbaProject.bin)"),
    "image-bomb": ("照片.png", image_bomb(), "8000×8000 像素,超过 6000 万像素"),
}
