"""Import previews are database rows (no file on an app server's disk), bound to the user
who previewed and, for invoices, to the project; a token is used once and expires."""

import datetime
from io import BytesIO

import pytest
import tablib
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from openpyxl import Workbook

from accounts.models import Organization
from projects.models import ImportPreview
from projects.models.money import Invoice
from projects.services.invoice_imports import COLUMNS, rows_unpack
from tests.factories import UserFactory
from tests.projects import fixtures_money

pytestmark = pytest.mark.django_db
accepted = fixtures_money.accepted


def invoice_file(project, numbers=("00000001", "00000002")) -> BytesIO:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(list(COLUMNS))
    for number in numbers:
        sheet.append(
            [
                "3100231130",
                number,
                timezone.localdate(),
                "示例公司",
                "91350100M000100Y43",
                project.organization.name,
                100,
                0,
                100,
                "增值税普通发票",
                1,
            ]
        )
    buffer = BytesIO()
    workbook.save(buffer)
    buffer.seek(0)
    buffer.name = "发票.xlsx"
    return buffer


def invoice_url(project):
    return reverse("projects:invoice_import", args=[project.pk])


def test_invoice_preview_is_a_row_bound_to_user_and_project(client, accepted, applicant):
    client.force_login(applicant)
    preview = client.post(invoice_url(accepted), {"file": invoice_file(accepted)})
    token = preview.context["token"]
    row = ImportPreview.objects.get(token=token)
    assert row.kind == ImportPreview.Kind.INVOICES
    assert row.user == applicant and row.project == accepted
    assert rows_unpack(bytes(row.data))[0]["rows"] and row.expires_at > timezone.now()
    assert "invoice_imports" not in client.session  # nothing kept in the session any more

    sha256 = preview.context["result"].sha256
    done = client.post(invoice_url(accepted), {"token": token, "sha256": sha256})
    assert done.status_code == 302 and Invoice.objects.count() == 2
    assert not ImportPreview.objects.filter(token=token).exists()


def test_another_users_invoice_token_is_refused(client, accepted, applicant, reviewer):
    # The organisation's reviewer may import into this project too, but not confirm the
    # leader's preview.
    client.force_login(applicant)
    page = client.post(invoice_url(accepted), {"file": invoice_file(accepted)})
    token, sha256 = page.context["token"], page.context["result"].sha256
    client.force_login(reviewer)
    page = client.post(invoice_url(accepted), {"token": token, "sha256": sha256})
    assert "已过期" in page.content.decode() and not Invoice.objects.exists()
    assert ImportPreview.objects.filter(token=token).exists()


def test_an_expired_invoice_preview_is_refused(client, accepted, applicant):
    client.force_login(applicant)
    page = client.post(invoice_url(accepted), {"file": invoice_file(accepted)})
    token, sha256 = page.context["token"], page.context["result"].sha256
    ImportPreview.objects.filter(token=token).update(
        expires_at=timezone.now() - datetime.timedelta(seconds=1)
    )
    page = client.post(invoice_url(accepted), {"token": token, "sha256": sha256})
    assert "已过期" in page.content.decode() and not Invoice.objects.exists()


@pytest.fixture
def admin_user(db, work_committee):
    return UserFactory(username="root", organization=work_committee, is_superuser=True)


def organisation_preview(client, work_committee):
    data = tablib.Dataset(headers=["名称", "类型", "上级组织"])
    data.append(["新社区党支部", "基层党组织(二级党组织)", work_committee.name])
    upload = SimpleUploadedFile("导入.xlsx", data.export("xlsx"))
    response = client.post(
        reverse("admin:accounts_organization_import"), {"format": "0", "import_file": upload}
    )
    confirm = response.context["confirm_form"]
    return {name: confirm.initial.get(name, "") for name in confirm.fields}


def test_table_preview_is_a_row_of_the_user_and_confirms_once(client, admin_user, work_committee):
    client.force_login(admin_user)
    form = organisation_preview(client, work_committee)
    row = ImportPreview.objects.get(token=form["import_file_name"])
    assert row.kind == ImportPreview.Kind.TABLE and row.user == admin_user
    confirm = reverse("admin:accounts_organization_process_import")
    assert client.post(confirm, form).status_code == 302
    assert Organization.objects.filter(name="新社区党支部").count() == 1
    assert not ImportPreview.objects.exists()
    again = client.post(confirm, form, follow=True)
    assert "导入预览已完成或已过期" in again.content.decode()
    assert Organization.objects.filter(name="新社区党支部").count() == 1


def test_another_users_table_token_is_refused(client, admin_user, work_committee):
    client.force_login(admin_user)
    form = organisation_preview(client, work_committee)
    other = UserFactory(username="root2", organization=work_committee, is_superuser=True)
    client.force_login(other)
    page = client.post(reverse("admin:accounts_organization_process_import"), form, follow=True)
    assert "导入预览已完成或已过期" in page.content.decode()
    assert not Organization.objects.filter(name="新社区党支部").exists()


def test_an_expired_table_preview_is_refused_and_purged(client, admin_user, work_committee):
    client.force_login(admin_user)
    form = organisation_preview(client, work_committee)
    ImportPreview.objects.update(expires_at=timezone.now() - datetime.timedelta(seconds=1))
    page = client.post(reverse("admin:accounts_organization_process_import"), form, follow=True)
    assert "导入预览已完成或已过期" in page.content.decode()
    assert not Organization.objects.filter(name="新社区党支部").exists()
    organisation_preview(client, work_committee)  # the next save purges the expired row
    assert ImportPreview.objects.count() == 1
