"""Issue 13, the archive package: built on close, stored, its digest in the history chain;
archive_package writes the stored bytes; verify_archive's four checks (DA/T 70) pass on a
genuine package and fail, naming what is wrong, on each kind of tampering or hostility."""

import hashlib
import io
import re
import zipfile
from decimal import Decimal

import pikepdf
import pytest
from django.core.files.base import ContentFile
from django.core.management import CommandError, call_command
from django.urls import reverse

from projects.archive.checks import verify_package
from projects.archive.digests import sm3_hex, sm3_reference
from projects.archive.manifest import MANIFEST_NAME, manifest_xml, parse_manifest
from projects.archive.package import package_build_bytes
from projects.dates import format_datetime
from projects.demo.running import DEMO_PDF
from projects.models import ArchivePackage, Document, ProjectHistory, State
from projects.services import WorkflowError, apply_transition, events
from projects.services.invoices import invoice_add
from tests.projects import fixtures_money, fixtures_running
from tests.projects.fixtures_money import (
    check_all,
    invoice_data,
    request_and_approve,
    settle_decision,
)

pytestmark = pytest.mark.django_db
accepted = fixtures_money.accepted
grade4_accepted = fixtures_running.grade4_accepted
media = fixtures_running.media

SCAN = DEMO_PDF  # a real one-page PDF, as an uploaded invoice original


def _scan(project, applicant) -> Document:
    document = Document(
        project=project,
        kind=Document.Kind.INVOICE_SCAN,
        original_name="电子发票-001.pdf",
        content_type="application/pdf",
        size=len(SCAN),
        sha256=hashlib.sha256(SCAN).hexdigest(),
        uploaded_by=applicant,
    )
    document.file.save("scan.pdf", ContentFile(SCAN), save=False)
    document.save()
    return document


@pytest.fixture
def settled(media, accepted, applicant, reviewer, leader, finance, advance):
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


@pytest.fixture
def closed(media, grade4_accepted, leader):
    """A commended grade-4 project, closed: its package has the two documents of a project
    without money (申请书, 验收意见)."""
    return apply_transition(
        grade4_accepted, "close", actor=leader, opinion="归档", is_commended=True
    )


def stored(project) -> bytes:
    package = ArchivePackage.objects.get(project=project)
    with package.file.open("rb") as handle:
        return handle.read()


def entries(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def rezip(files: dict[str, bytes], *, update_manifest=(), order=None) -> bytes:
    """A package from `files`; the manifest's size and digests of the names in
    `update_manifest` recomputed (what a forger who knows the format would do)."""
    files = dict(files)
    if update_manifest:
        manifest = parse_manifest(files[MANIFEST_NAME])
        for entry in manifest.files:
            if entry["path"] in update_manifest:
                body = files[entry["path"]]
                entry["size"] = len(body)
                entry["sha256"] = hashlib.sha256(body).hexdigest()
                entry["sm3"] = sm3_hex(body)
        files[MANIFEST_NAME] = manifest_xml(manifest.metadata, manifest.files)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in order or sorted(files):
            archive.writestr(name, files[name])
    return out.getvalue()


def failures(report, section: str) -> list[str]:
    return [f.text for f in report.findings[section] if f.ok is False]


def verify_command(tmp_path, data: bytes) -> tuple[int, str]:
    path = tmp_path / "package.zip"
    path.write_bytes(data)
    out = io.StringIO()
    try:
        call_command("verify_archive", str(path), stdout=out)
    except CommandError as exc:
        return exc.returncode, out.getvalue()
    return 0, out.getvalue()


# --- built on close ---------------------------------------------------------------------------


def test_closing_builds_a_package_that_passes_the_four_checks(tmp_path, settled, leader):
    project = apply_transition(settled, "close", actor=leader, opinion="归档")
    data = stored(project)
    names = set(entries(data))
    code = project.code
    assert {
        MANIFEST_NAME,
        f"文书/01-项目申请书-{code}.pdf",
        f"文书/02-验收意见-{code}.pdf",
        f"文书/03-决算清单-{code}.pdf",
        f"文书/04-项目资金结算单-{code}.pdf",
        "历史/项目历史.txt",
        "历史/项目历史.json",
        "账务/拨付与发票记录.json",
    } <= names
    scan = Document.objects.get(project=project)
    original = f"发票原件/{scan.pk:06d}-电子发票-001.pdf"
    assert entries(data)[original] == SCAN  # the original, unchanged
    code_exit, report = verify_command(tmp_path, data)
    assert code_exit == 0, report
    assert "结论:通过四性检测" in report
    assert "档案包摘要与本系统历史第" in report
    # Vouchers and ledgers 30 years; this project is not commended, so 30 years throughout.
    manifest = parse_manifest(entries(data)[MANIFEST_NAME])
    retention = {e["path"]: e["retention"] for e in manifest.files}
    assert retention[f"文书/04-项目资金结算单-{code}.pdf"] == "30年"
    assert retention[original] == "30年"
    assert manifest.metadata["retention"] == "30年"
    assert manifest.metadata["archival_code"].endswith(f"-{project.year}-D30-{code}")


def test_the_package_digest_is_an_event_of_the_history_chain(closed):
    package = ArchivePackage.objects.get(project=closed)
    data = stored(closed)
    assert hashlib.sha256(data).hexdigest() == package.sha256
    assert sm3_hex(data) == package.sm3
    last = ProjectHistory.objects.filter(project=closed).order_by("-seq").first()
    assert last.transition == "archive_package"
    assert last.data["sha256"] == package.sha256 and last.data["sm3"] == package.sm3
    assert events.verify().ok


def test_a_commended_project_is_kept_permanently(closed):
    manifest = parse_manifest(entries(stored(closed))[MANIFEST_NAME])
    assert manifest.metadata["retention"] == "永久"
    assert "-Y-" in manifest.metadata["archival_code"]
    assert manifest.metadata["year"] == str(closed.year)
    assert manifest.metadata["fonds"] == closed.organization.name


def test_same_project_same_bytes(closed):
    assert package_build_bytes(closed).data == stored(closed)


def test_history_file_is_readable_chinese(closed):
    text = entries(stored(closed))["历史/项目历史.txt"].decode("utf-8")
    assert "复审通过,定级立项" in text and "结项归档" in text
    assert "待领导小组复审 → 已立项" in text
    assert format_datetime(closed.closed_at) in text  # Beijing time, the display format
    assert re.search(r"\d{4}年\d{1,2}月\d{1,2}日 \d{2}:\d{2}", text)
    assert "填写活动总结报告" in text and "活动预定目标:" in text  # a summary event, labelled
    assert "其他内容" not in text and "其他记录" not in text  # every event and value named
    for raw in ("approve", "org_review", "snapshot", "{'", "cond_goals", "None", "True"):
        assert raw not in text, raw
    data = entries(stored(closed))["历史/项目历史.json"].decode("utf-8")
    assert '"digest"' in data and '"action": "approve"' in data


def test_a_failed_build_refuses_the_close(media, grade4_accepted, applicant, leader):
    document = Document(
        project=grade4_accepted,
        kind=Document.Kind.PHOTO,
        original_name="照片.png",
        content_type="image/png",
        size=3,
        sha256=hashlib.sha256(b"png").hexdigest(),
        uploaded_by=applicant,
    )
    document.file.save("p.png", ContentFile(b"png"), save=False)
    document.save()
    document.file.storage.delete(document.file.name)  # the stored file has gone
    before = ProjectHistory.objects.filter(project=grade4_accepted).count()
    with pytest.raises(WorkflowError, match="照片.png"):
        apply_transition(grade4_accepted, "close", actor=leader, opinion="归档")
    grade4_accepted.refresh_from_db()
    assert grade4_accepted.state == State.ACCEPTED
    assert not ArchivePackage.objects.exists()
    assert ProjectHistory.objects.filter(project=grade4_accepted).count() == before


# --- archive_package CODE --out FILE ---------------------------------------------------------


def test_archive_package_writes_exactly_the_stored_bytes(tmp_path, client, closed, leader):
    out = tmp_path / "out.zip"
    call_command("archive_package", closed.code, "--out", str(out), stdout=io.StringIO())
    assert out.read_bytes() == stored(closed)
    client.force_login(leader)
    response = client.get(reverse("projects:project_archive_package", args=[closed.pk]))
    assert response.status_code == 200
    assert response.content == stored(closed)
    assert response["Content-Disposition"].startswith("attachment;")


def test_archive_package_refuses_unknown_and_open_projects(tmp_path, media, grade4_accepted):
    out = tmp_path / "out.zip"
    with pytest.raises(CommandError, match="没有项目编号为“2099-9999”的项目"):
        call_command("archive_package", "2099-9999", "--out", str(out))
    with pytest.raises(CommandError, match="尚未结项归档"):
        call_command("archive_package", grade4_accepted.code, "--out", str(out))
    assert not out.exists()


def test_the_page_of_an_open_project_says_why_in_chinese(client, media, grade4_accepted, leader):
    client.force_login(leader)
    url = reverse("projects:project_archive_package", args=[grade4_accepted.pk])
    response = client.get(url, follow=True)
    assert response.status_code == 200
    assert "尚未结项归档,没有档案包" in response.content.decode()


def test_another_organisations_package_is_not_found(client, closed, outsider):
    client.force_login(outsider)
    url = reverse("projects:project_archive_package", args=[closed.pk])
    assert client.get(url).status_code == 404


# --- the tamper table -------------------------------------------------------------------------


def test_one_byte_changed_fails_authenticity_naming_the_file(tmp_path, closed):
    files = entries(stored(closed))
    name = next(n for n in files if n.startswith("文书/01-"))
    body = bytearray(files[name])
    body[len(body) // 2] ^= 0x01
    files[name] = bytes(body)
    code, report = verify_command(tmp_path, rezip(files))
    assert code == 1
    assert f"文件“{name}”的SHA-256 摘要、SM3 摘要与清单不符" in report
    assert "【真实性】未通过" in report


def test_a_deleted_file_fails_integrity(tmp_path, closed):
    files = entries(stored(closed))
    del files["历史/项目历史.txt"]
    code, report = verify_command(tmp_path, rezip(files))
    assert code == 1
    assert "清单中的文件“历史/项目历史.txt”在档案包中不存在" in report
    assert "【完整性】未通过" in report


def test_an_added_file_fails_integrity(tmp_path, closed):
    files = entries(stored(closed))
    files["附件/补充说明.txt"] = "后来补进去的".encode()
    code, report = verify_command(tmp_path, rezip(files))
    assert code == 1
    assert "文件“附件/补充说明.txt”未列入清单" in report


def test_a_gap_in_the_history_fails_integrity(closed):
    import json

    files = entries(stored(closed))
    history = json.loads(files["历史/项目历史.json"])
    del history["events"][2]
    files["历史/项目历史.json"] = json.dumps(history, ensure_ascii=False).encode()
    report = verify_package(rezip(files, update_manifest={"历史/项目历史.json"}))
    assert any("历史记录的序号不连续(缺第 3 条)" in t for t in failures(report, "integrity"))


def test_injected_javascript_fails_security_even_with_the_manifest_updated(tmp_path, closed):
    files = entries(stored(closed))
    name = next(n for n in files if n.startswith("文书/01-"))
    with pikepdf.open(io.BytesIO(files[name])) as pdf:
        pdf.Root.OpenAction = pikepdf.Dictionary(
            S=pikepdf.Name.JavaScript, JS=pikepdf.String("app.alert('x')")
        )
        out = io.BytesIO()
        pdf.save(out)
    files[name] = out.getvalue()
    code, report = verify_command(tmp_path, rezip(files, update_manifest={name}))
    assert code == 1
    assert f"文件“{name}”含 JavaScript 动作" in report
    assert "【安全性】未通过" in report
    # The hashes were forged consistently, so only the history can tell: it does.
    assert "档案包摘要与本系统历史中项目" in report


def test_a_launch_action_fails_security(closed):
    files = entries(stored(closed))
    name = next(n for n in files if n.startswith("文书/02-"))
    with pikepdf.open(io.BytesIO(files[name])) as pdf:
        pdf.pages[0].obj.AA = pikepdf.Dictionary(
            O=pdf.make_indirect(pikepdf.Dictionary(S=pikepdf.Name.Launch, F="calc.exe"))
        )
        out = io.BytesIO()
        pdf.save(out)
    files[name] = out.getvalue()
    report = verify_package(rezip(files, update_manifest={name}))
    assert any("/Launch" in t for t in failures(report, "security"))


def test_a_package_whose_digest_differs_from_the_history_fails_authenticity(closed):
    files = entries(stored(closed))
    # Every file and every hash genuine, but not the bytes the history recorded.
    report = verify_package(rezip(files, order=sorted(files, reverse=True)))
    assert failures(report, "authenticity") == [
        f"档案包摘要与本系统历史中项目 {closed.code} 的档案包记录不符:不是本系统生成的那个档案包。"
    ]
    for section in ("integrity", "usability", "security"):
        assert not failures(report, section), section


def test_a_package_of_another_system_says_its_digest_is_not_in_this_history(closed):
    files = entries(stored(closed))
    manifest = parse_manifest(files[MANIFEST_NAME])
    manifest.metadata["project_code"] = "2099-9999"
    files[MANIFEST_NAME] = manifest_xml(manifest.metadata, manifest.files)
    report = verify_package(rezip(files))
    notes = [f.text for f in report.findings["authenticity"] if f.ok is None]
    assert any("未在本系统历史中找到该档案包的摘要" in t for t in notes)
    assert report.ok  # the hashes alone hold; the report says what could not be checked


def test_a_macro_in_an_office_file_fails_security(closed):
    files = entries(stored(closed))
    docx = io.BytesIO()
    with zipfile.ZipFile(docx, "w") as inner:
        inner.writestr("[Content_Types].xml", "<Types/>")
        inner.writestr("word/document.xml", "<w:document/>")
        inner.writestr("word/vbaProject.bin", b"\xd0\xcf\x11\xe0macro")
    name = "附件/000099-方案.docx"
    files[name] = docx.getvalue()
    report = verify_package(rezip(files))
    assert f"文件“{name}”含宏(vbaProject.bin)。" in failures(report, "security")


def test_path_traversal_names_fail_security(closed):
    files = entries(stored(closed))
    files["../../etc/cron.d/evil"] = b"* * * * * root sh"
    report = verify_package(rezip(files))
    assert any("路径穿越" in t for t in failures(report, "security"))


def test_garbage_and_a_zip_bomb_get_a_chinese_failure_not_a_crash(tmp_path):
    code, report = verify_command(tmp_path, b"\x00garbage, not a zip\xff" * 10)
    assert code == 1 and "不是有效的 ZIP 档案包" in report
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("manifest.xml", b"\x00" * (64 * 1024 * 1024))
    code, report = verify_command(tmp_path, bomb.getvalue())
    assert code == 1 and "疑似压缩炸弹" in report


def test_a_truncated_package_is_a_failure_not_a_crash(closed):
    data = stored(closed)
    report = verify_package(data[: len(data) // 2])
    assert not report.ok


def test_sm3_agrees_with_the_gmssl_reference():
    # GB/T 32905-2016 example A.1: "abc".
    assert sm3_hex(b"abc") == "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
    for sample in (b"", b"x" * 1000, bytes(range(256)) * 3):
        assert sm3_hex(sample) == sm3_reference(sample)


def test_a_generated_pdf_that_is_not_pdfa_fails_usability(closed):
    files = entries(stored(closed))
    name = next(n for n in files if n.startswith("文书/01-"))
    files[name] = DEMO_PDF  # opens, but is not marked PDF/A
    report = verify_package(rezip(files, update_manifest={name}))
    assert f"文件“{name}”未标记为 PDF/A(XMP 中没有 pdfaid 标识)。" in failures(report, "usability")


def test_an_unparsable_manifest_fails_usability(closed):
    files = entries(stored(closed))
    files[MANIFEST_NAME] = files[MANIFEST_NAME][:-40]
    report = verify_package(rezip(files))
    assert any("manifest.xml 不能解析" in t for t in failures(report, "usability"))
    assert not report.ok


def test_a_history_file_unlike_the_systems_history_fails_authenticity(closed):
    import json

    files = entries(stored(closed))
    history = json.loads(files["历史/项目历史.json"])
    history["events"][1]["digest"] = "0" * 64
    files["历史/项目历史.json"] = json.dumps(history, ensure_ascii=False).encode()
    report = verify_package(rezip(files, update_manifest={"历史/项目历史.json"}))
    assert "历史文件中第 2 条记录与本系统的历史不符。" in failures(report, "authenticity")


def test_a_stored_package_altered_on_disk_is_not_served(tmp_path, closed):
    # Through the storage API, so the test holds on any backend (TEST_STORAGE=memory too).
    package = ArchivePackage.objects.get(project=closed)
    storage, name = package.file.storage, package.file.name
    with storage.open(name, "rb") as handle:
        data = bytearray(handle.read())
    data[100] ^= 0xFF
    storage.delete(name)
    assert storage.save(name, ContentFile(bytes(data))) == name
    with pytest.raises(CommandError, match="与记录的摘要不符"):
        call_command("archive_package", closed.code, "--out", str(tmp_path / "x.zip"))


def test_verify_archive_of_a_missing_file_says_so_in_chinese(tmp_path):
    with pytest.raises(CommandError, match="不存在"):
        call_command("verify_archive", str(tmp_path / "nothing.zip"))


def test_an_archive_event_forged_in_the_database_fails_authenticity(closed):
    """Someone with database access writes the forged package's digest into the event: the
    event no longer matches its HMAC, and the check says so."""
    files = entries(stored(closed))
    forged = rezip(files, order=sorted(files, reverse=True))
    event = ProjectHistory.objects.get(project=closed, transition="archive_package")
    event.data = {
        **event.data,
        "sha256": hashlib.sha256(forged).hexdigest(),
        "sm3": sm3_hex(forged),
    }
    ProjectHistory.objects.filter(pk=event.pk).update(data=event.data)
    report = verify_package(forged)
    assert any("记录的校验值不符" in t for t in failures(report, "authenticity"))


# --- what an upload accepts, the package's check passes (and what it refuses, it fails) -----


@pytest.fixture
def closed_with_every_type(media, accepted, applicant, reviewer, leader, finance, advance):
    """A closed project holding one upload of every type the uploads accept: attachments
    (PNG, JPEG, PDF, XLSX, DOCX, through the service's checks) and invoice originals as
    capture keeps them (XML, OFD, PDF, PNG)."""
    from projects.services.documents import DOCUMENT_TYPES, document_upload
    from projects.services.invoices import Original
    from tests.projects.capture import makers
    from tests.projects.fixtures_running import (
        JPG_BYTES,
        PDF_BYTES,
        PNG_BYTES,
        ooxml_bytes,
        upload,
    )

    attachments = {
        "照片.png": PNG_BYTES,
        "照片.jpg": JPG_BYTES,
        "方案.pdf": PDF_BYTES,
        "决算.xlsx": ooxml_bytes("xlsx"),
        "总结.docx": ooxml_bytes("docx"),
    }
    kinds = {ext for _, exts in DOCUMENT_TYPES.values() for ext in exts} - {".jpeg"}
    assert {name[name.rindex(".") :] for name in attachments} == kinds  # every accepted type
    for name, content in attachments.items():
        document_upload(project=accepted, actor=applicant, uploaded=upload(name, content))
    originals = {
        "发票.xml": makers.einvoice_xml(),
        "发票.ofd": makers.ofd_bytes(),
        "发票.pdf": makers.invoice_pdf(),
        "发票.png": makers.image_bytes(makers.qr_image(makers.PAYLOAD_DIGITAL)),
    }
    invoices = [
        invoice_add(
            project=accepted,
            actor=applicant,
            original=Original(name=name, content=content),
            **invoice_data(accepted, amount=Decimal("100.00"), total=Decimal("100.00")),
        )
        for name, content in originals.items()
    ]
    check_all(invoices, finance)
    project = request_and_approve(
        accepted, reviewer=reviewer, leader=leader, limit="400.00", advance=advance
    )
    project = apply_transition(project, "settle", actor=finance, **settle_decision(project))
    return apply_transition(project, "close", actor=leader, opinion="归档")


def test_every_type_an_upload_accepts_passes_the_packages_usability_check(
    tmp_path, closed_with_every_type
):
    data = stored(closed_with_every_type)
    names = set(entries(data))
    for suffix in (".png", ".jpg", ".pdf", ".xlsx", ".docx"):
        assert any(n.startswith("附件/") and n.endswith(suffix) for n in names), suffix
    for suffix in (".xml", ".ofd", ".pdf", ".png"):
        assert any(n.startswith("发票原件/") and n.endswith(suffix) for n in names), suffix
    code, report = verify_command(tmp_path, data)
    assert code == 0, report
    assert "【可用性】通过" in report and "【安全性】通过" in report


@pytest.mark.parametrize("sample", list(fixtures_running.REFUSED))
def test_what_an_upload_refuses_the_package_check_fails_with_the_same_words(closed, sample):
    from projects.archive.files import acceptance_errors

    name, content, says = fixtures_running.REFUSED[sample]
    refusal = acceptance_errors(name, content)
    assert len(refusal) == 1 and says in refusal[0]
    files = entries(stored(closed))
    path = f"附件/000099-{name}"
    files[path] = content
    report = verify_package(rezip(files))
    found = failures(report, "usability") + failures(report, "security")
    # The same phrase: "文件“名”<phrase>,不能上传。" at upload, "文件“路径”<phrase>。" here.
    phrase = refusal[0].removeprefix(f"文件“{name}”").removesuffix(",不能上传。")
    assert f"文件“{path}”{phrase}。" in found, found


def test_a_gbk_invoice_xml_capture_accepts_is_usable_in_the_package():
    """Expat reads no GBK: the package's XML check decodes it as capture does."""
    from projects.archive.files import usability_problem

    body = '<?xml version="1.0" encoding="GBK"?><EInvoice><Name>办公用品</Name></EInvoice>'
    assert usability_problem("发票原件/000001-发票.xml", body.encode("gbk")) is None
    assert usability_problem("x.xml", b"<EInvoice><Name>") is not None
