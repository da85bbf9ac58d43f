"""Backup and restore (docs/operations.md): scripts/backup.sh, then scripts/restore.sh into an
empty database and an empty media folder, give back every row of every table of the
application identical, the uploaded files byte for byte, and a clean verify_history.

PostgreSQL only (pg_dump/pg_restore); the data must be committed, hence transaction=True.
"""

import datetime
import json
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest
from django.core.files.base import ContentFile
from django.db import connection
from django.utils import timezone

from projects.models import Disbursement, Document, Invoice
from tests.projects.conftest import CHECKLIST_YES

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]
APPS = ["accounts", "projects", "auth.group"]


def database_url(name: str) -> str:
    params = connection.settings_dict
    user = params["USER"] or "postgres"
    password = f":{params['PASSWORD']}" if params["PASSWORD"] else ""
    host = params["HOST"] or "127.0.0.1"
    port = params["PORT"] or 5432
    return f"postgres://{user}{password}@{host}:{port}/{name}"


def admin_connection():
    params = connection.get_connection_params()
    keep = {k: params[k] for k in ("host", "port", "user", "password") if params.get(k)}
    return psycopg.connect(**keep, dbname="postgres", autocommit=True)


@pytest.fixture
def empty_database():
    name = f"{connection.settings_dict['NAME']}_restored"
    with admin_connection() as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.execute(f'CREATE DATABASE "{name}"')
    yield name
    with admin_connection() as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def run(args, env_extra):
    env = {**os.environ, **env_extra, "PYTHON": sys.executable}
    result = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def dump_rows(url: str) -> list[dict]:
    """Every row of the application's tables, as dumpdata sees them, in a stable order."""
    out = run(
        [sys.executable, "manage.py", "dumpdata", *APPS, "--indent", "0"],
        {"DATABASE_URL": url},
    )
    rows = json.loads(out)
    return sorted(rows, key=lambda row: (row["model"], str(row["pk"])))


def build_data(approved, finance, leader, applicant):
    """A project through several transitions, with a document, an invoice, a disbursement."""
    project = approved
    document = Document.objects.create(
        project=project,
        kind=Document.Kind.choices[0][0],
        file=ContentFile(b"%PDF-1.4 invoice scan \x00\x01\x02", name="scan.pdf"),
        original_name="发票.pdf",
        content_type="application/pdf",
        size=27,
        sha256="0" * 64,
        uploaded_by=applicant,
    )
    line = project.budget_lines.first()
    Invoice.objects.create(
        project=project,
        budget_line=line,
        kind=Invoice.Kind.VAT_ORDINARY,
        code="011001900111",
        number="12345678",
        identity="011001900111-12345678",
        issue_date=timezone.localdate(),
        seller_name="北京某某文化用品有限公司",
        seller_tax_id="91110108551385082Q",
        buyer_name=project.organization.name,
        amount=Decimal("2800.00"),
        tax=Decimal("28.00"),
        total=Decimal("2828.00"),
        scan=document,
        created_by=applicant,
    )
    Disbursement.objects.create(
        project=project,
        amount=Decimal("2828.00"),
        purpose="项目结算拨付",
        voucher_number="ZF-2026-0001",
        voucher_date=datetime.date.today(),
        method=Disbursement.Method.ALLOCATION,
        payee_name=project.organization.name,
        payee_bank="测试银行",
        payee_account="6222000000000001",
        prepared_by=finance,
        approved_by=leader,
        paid_by=finance,
    )
    return project, document


def test_backup_then_restore_into_an_empty_database_gives_everything_back(
    approved, applicant, reviewer, leader, finance, advance, empty_database, tmp_path, settings
):
    media = tmp_path / "media"
    settings.MEDIA_ROOT = media
    project, document = build_data(approved, finance, leader, applicant)
    advance(project, ("start", applicant, {}))
    # A second project that was sent back, to have more than one history chain.
    from tests.factories import BudgetLineFactory, ProjectFactory

    other = ProjectFactory(organization=project.organization, leader=applicant)
    BudgetLineFactory(project=other)
    advance(
        other,
        ("submit", applicant, {}),
        ("org_return", reviewer, {"opinion": "预算需细化", **CHECKLIST_YES}),
    )

    source = database_url(connection.settings_dict["NAME"])
    target = database_url(empty_database)
    backup = tmp_path / "backup"
    run(
        ["bash", "scripts/backup.sh", str(backup)],
        {"DATABASE_URL": source, "DJANGO_MEDIA_ROOT": str(media)},
    )
    assert (backup / "db.dump").stat().st_size > 0

    restored_media = tmp_path / "restored-media"
    out = run(
        ["bash", "scripts/restore.sh", str(backup)],
        {
            "DATABASE_URL": target,
            "DJANGO_MEDIA_ROOT": str(restored_media),
            "HISTORY_HMAC_KEY": settings.HISTORY_HMAC_KEY,
        },
    )
    assert "审批历史完整" in out and "恢复完成" in out

    before, after = dump_rows(source), dump_rows(target)
    assert after == before
    models = {row["model"] for row in after}
    for label in [
        "projects.project",
        "projects.review",
        "projects.projecthistory",
        "projects.invoice",
        "projects.disbursement",
        "projects.document",
    ]:
        assert label in models, label
    restored_file = restored_media / document.file.name
    assert restored_file.read_bytes() == (media / document.file.name).read_bytes()


def test_restore_refuses_a_database_that_is_not_empty(empty_database, tmp_path, approved):
    backup = tmp_path / "backup"
    source = database_url(connection.settings_dict["NAME"])
    run(
        ["bash", "scripts/backup.sh", str(backup)],
        {"DATABASE_URL": source, "DJANGO_MEDIA_ROOT": str(tmp_path / "m")},
    )
    env = {**os.environ, "DATABASE_URL": source, "DJANGO_MEDIA_ROOT": str(tmp_path / "m2")}
    result = subprocess.run(
        ["bash", "scripts/restore.sh", str(backup)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode != 0
    assert "不是空的" in result.stderr
