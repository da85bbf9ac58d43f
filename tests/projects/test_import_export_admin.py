"""The admin side of Excel import/export: permissions, preview, all-or-nothing confirm,
streaming export of the changelist's filters within the user's scope, import templates."""

import io

import pytest
import tablib
from django.urls import reverse
from openpyxl import load_workbook

from accounts.models import Organization, User
from projects.models import Project
from tests.factories import PASSWORD, OrganizationFactory, ProjectFactory, UserFactory


def rows_of(response):
    data = b"".join(response.streaming_content)
    sheet = load_workbook(io.BytesIO(data), read_only=True).active
    return [tuple(r) for r in sheet.iter_rows(values_only=True)]


def xlsx_upload(data: tablib.Dataset, name="导入.xlsx"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, data.export("xlsx"))


@pytest.fixture
def admin_user(db, work_committee):
    return UserFactory(username="root", organization=work_committee, is_superuser=True)


def login(client, user):
    assert client.login(username=user.username, password=PASSWORD)
    return client


def test_staff_without_import_permission_may_not_import(client, leader, auditor, reviewer):
    # Trap: with IMPORT_EXPORT_IMPORT_PERMISSION_CODE unset, any staff user could import.
    for user in (leader, auditor, reviewer):
        login(client, user)
        assert client.get(reverse("admin:accounts_user_import")).status_code == 403
        assert client.get(reverse("admin:accounts_user_import_template")).status_code == 403
    for user in (auditor, reviewer):
        login(client, user)
        assert client.get(reverse("admin:projects_project_import")).status_code == 403
    # The leadership group brings earlier years' projects in (import_project).
    login(client, leader)
    assert client.get(reverse("admin:projects_project_import")).status_code == 200


def test_auditor_may_export_but_not_import(client, auditor, org_a):
    ProjectFactory(organization=org_a)
    login(client, auditor)
    response = client.get(reverse("admin:projects_project_export"))
    assert response.status_code == 200
    assert len(rows_of(response)) == 2


def test_export_follows_changelist_filters_and_scope(client, leader, org_a, org_b):
    UserFactory(username="a1", organization=org_a)
    UserFactory(username="b1", organization=org_b)
    login(client, leader)
    url = reverse("admin:accounts_user_export") + f"?organization__id__exact={org_a.pk}"
    usernames = {row[0] for row in rows_of(client.get(url))[1:]}
    assert usernames == {"a1"}
    url = reverse("admin:accounts_user_export") + "?q=b1"
    assert {row[0] for row in rows_of(client.get(url))[1:]} == {"b1"}


@pytest.mark.parametrize("count", [3, 60])
def test_export_query_count_is_constant(
    client, leader, org_a, count, django_assert_max_num_queries
):
    for _ in range(count):
        ProjectFactory(organization=org_a)
    login(client, leader)
    with django_assert_max_num_queries(8):
        response = client.get(reverse("admin:projects_project_export"))
        rows = rows_of(response)
    assert len(rows) == count + 1


@pytest.mark.parametrize("count", [3, 40])
def test_user_export_query_count_is_constant(
    client, admin_user, org_a, count, django_assert_max_num_queries
):
    for _ in range(count):
        UserFactory(organization=org_a, roles=["applicant"])
    login(client, admin_user)
    with django_assert_max_num_queries(10):
        rows = rows_of(client.get(reverse("admin:accounts_user_export")))
    assert len(rows) == User.objects.count() + 1
    assert "项目负责人" in {row[7] for row in rows[1:]}


def test_import_template_has_chinese_headers(client, admin_user):
    login(client, admin_user)
    response = client.get(reverse("admin:projects_project_import_template"))
    header = rows_of(response)[0]
    assert header[:3] == ("项目编号", "年度", "项目名称") and "状态" in header


def test_import_preview_then_confirm(client, admin_user, work_committee):
    login(client, admin_user)
    data = tablib.Dataset(headers=["名称", "类型", "上级组织"])
    data.append(["新社区党支部", "基层党组织(二级党组织)", work_committee.name])
    data.append(["坏支部", "不存在的类型", work_committee.name])
    url = reverse("admin:accounts_organization_import")
    response = client.post(url, {"format": "0", "import_file": xlsx_upload(data)})
    assert response.status_code == 200
    page = response.content.decode()
    assert "不在可选值中" in page and "confirm_form" not in response.context
    assert "整个文件都不导入" in page and "Excel 中的第 2 行" in page
    assert not Organization.objects.filter(name="新社区党支部").exists()

    del data[1]
    response = client.post(url, {"format": "0", "import_file": xlsx_upload(data)})
    confirm = response.context["confirm_form"]
    response = client.post(
        reverse("admin:accounts_organization_process_import"),
        {name: confirm.initial.get(name, "") for name in confirm.fields},
    )
    assert response.status_code == 302
    assert Organization.objects.filter(name="新社区党支部").exists()


def test_confirm_is_all_or_nothing_when_data_changed_since_preview(
    client, admin_user, work_committee
):
    other = OrganizationFactory(name="临时上级", parent=work_committee)
    login(client, admin_user)
    data = tablib.Dataset(headers=["名称", "类型", "上级组织"])
    data.append(["丙支部", "基层党组织(二级党组织)", work_committee.name])
    data.append(["丁支部", "基层党组织(二级党组织)", other.name])
    url = reverse("admin:accounts_organization_import")
    response = client.post(url, {"format": "0", "import_file": xlsx_upload(data)})
    confirm = response.context["confirm_form"]
    # Between preview and confirmation row 2's parent is renamed: row 2 now fails.
    Organization.objects.filter(pk=other.pk).update(name="改名后的上级")
    response = client.post(
        reverse("admin:accounts_organization_process_import"),
        {name: confirm.initial.get(name, "") for name in confirm.fields},
        follow=True,
    )
    assert "已全部撤销" in response.content.decode()
    assert not Organization.objects.filter(name__in=["丙支部", "丁支部"]).exists()


def test_scoped_reviewer_export_of_projects(client, reviewer, org_a, org_b):
    ProjectFactory(organization=org_a, title="甲")
    ProjectFactory(organization=org_b, title="乙")
    login(client, reviewer)
    rows = rows_of(client.get(reverse("admin:projects_project_export")))
    assert [row[2] for row in rows[1:]] == ["甲"]
    assert Project.objects.count() == 2


def test_admin_import_by_a_scoped_user_cannot_overwrite_another_organisation(
    client, reviewer, outsider, org_a
):
    # Trap: django-import-export resolves rows without the admin's get_queryset.
    from django.contrib.auth.models import Permission

    reviewer.user_permissions.add(Permission.objects.get(codename="import_user"))
    login(client, reviewer)
    data = tablib.Dataset(headers=["用户名", "姓", "名", "所属组织", "角色"])
    data.append(["charlie", "黑", "客", org_a.name, "项目部(基层党组织)"])
    response = client.post(
        reverse("admin:accounts_user_import"), {"format": "0", "import_file": xlsx_upload(data)}
    )
    assert "不在您的管理范围内" in response.content.decode()
    assert "confirm_form" not in response.context
    outsider.refresh_from_db()
    assert outsider.last_name != "黑" and outsider.organization.name == "乙社区党支部"


def test_disbursement_export_is_typed_and_scoped(reviewer, finance, org_a, org_b):
    from decimal import Decimal

    from django.utils import timezone

    from projects.models import Disbursement

    for org, number in ((org_a, "V-A"), (org_b, "V-B")):
        Disbursement.objects.create(
            project=ProjectFactory(organization=org),
            amount=Decimal("1234.50"),
            purpose="=cmd|' /C calc'!A0",
            voucher_number=number,
            voucher_date=timezone.localdate(),
            method="allocation",
            payee_name="收款人",
            payee_bank="银行",
            payee_account="1",
            prepared_by=finance,
            approved_by=finance,
            paid_by=finance,
        )
    # The disbursement admin arrives with issue 5; its mixin streams through the same call.
    from projects.exchange import export as ie

    resource = ie.DisbursementResource(user=reviewer)
    rows = rows_of(ie.export_response(resource, Disbursement.objects.all(), "x.xlsx"))
    header, *body = rows
    assert [row[header.index("支付凭证号")] for row in body] == ["V-A"]
    assert body[0][header.index("金额")] == 1234.5
    assert body[0][header.index("用途")].startswith("'=")
    assert body[0][header.index("凭证日期")].date() == timezone.localdate()


# --- issue 10: a mistyped export filter is answered like the changelist, never a 500 -------

EXPORTS = [
    "admin:projects_project_export",
    "admin:projects_invoice_export",
    "admin:projects_disbursement_export",
    "admin:accounts_user_export",
    "admin:accounts_organization_export",
]
BAD_FILTERS = [
    "grade__exact=abc",
    "requested_amount=abc",
    "project__id__exact=abc",
    "id__exact=abc",
    "pk__in=1,abc",
    "year=abc",
    "amount__gte=1e999x",
    "created_at__gte=not-a-date",
    "is_active__exact=maybe",
    "organization__id__exact=%00",
]


@pytest.mark.parametrize("url_name", EXPORTS)
@pytest.mark.parametrize("bad", BAD_FILTERS)
def test_export_with_a_mistyped_filter_is_never_a_500(client, admin_user, org_a, url_name, bad):
    ProjectFactory(organization=org_a)
    login(client, admin_user)
    url = reverse(url_name)
    changelist = url.removesuffix("export/")
    response = client.get(f"{url}?{bad}")
    assert response.status_code in (200, 302, 400), response.status_code
    if response.status_code == 302:
        assert response["Location"].startswith(changelist)
        assert "e=1" in response["Location"]
        page = client.get(response["Location"])
        assert page.status_code == 200
        assert "导出的筛选条件无效" in page.content.decode()
    elif response.status_code == 200:
        # A parameter the changelist ignores: the export is the unfiltered list, as there.
        assert response["Content-Disposition"].startswith("attachment")
    # Whatever the export answered, the changelist answers the same way.
    listed = client.get(f"{changelist}?{bad}")
    assert (listed.status_code == 302) == (response.status_code == 302)


# --- issue 10: an xlsx import is bounded before it is parsed (hole 12) ----------------------


def bomb_xlsx(size: int) -> bytes:
    """A valid workbook whose sheet ends with one cell of `size` letters: openpyxl would
    inflate all of it into memory to read the rows."""
    import zipfile

    base = tablib.Dataset(headers=["名称", "类型"])
    base.append(["甲", "乙"])
    sheet = "xl/worksheets/sheet1.xml"
    source = zipfile.ZipFile(io.BytesIO(base.export("xlsx")))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            if info.filename != sheet:
                target.writestr(info, source.read(info.filename))
        head, tail = source.read(sheet).split(b"</sheetData>", 1)
        with target.open(sheet, "w") as stream:
            stream.write(head + b'<row r="3"><c r="A3" t="inlineStr"><is><t>')
            block = b"A" * (1024 * 1024)
            for _ in range(size // len(block)):
                stream.write(block)
            stream.write(b"</t></is></c></row></sheetData>" + tail)
    return out.getvalue()


def test_import_of_a_compression_bomb_is_refused_before_parsing(client, admin_user):
    from django.core.files.uploadedfile import SimpleUploadedFile

    data = bomb_xlsx(80 * 1024 * 1024)  # 80 MiB inflated, about 80 KB on disk
    assert len(data) < 1024 * 1024
    login(client, admin_user)
    url = reverse("admin:accounts_organization_import")
    upload = SimpleUploadedFile("炸弹.xlsx", data)
    response = client.post(url, {"format": "0", "import_file": upload})
    assert response.status_code == 200
    page = response.content.decode()
    assert "压缩比异常" in page or "解压后超过" in page
    assert "confirm_form" not in response.context
    assert not Organization.objects.filter(name="甲").exists()


def test_import_bound_accepts_an_ordinary_workbook_and_refuses_a_bomb():
    from django.core.exceptions import ValidationError

    from projects.admin.importexport import BoundedXLSX

    data = tablib.Dataset(headers=["名称"])
    data.append(["甲"])
    assert BoundedXLSX().create_dataset(data.export("xlsx"))[0] == ("甲",)
    with pytest.raises(ValidationError, match="压缩比异常"):
        BoundedXLSX().create_dataset(bomb_xlsx(4 * 1024 * 1024))
    with pytest.raises(ValidationError, match="无法读取"):
        BoundedXLSX().create_dataset(b"not a zip")


def test_a_file_that_is_not_xlsx_gets_a_chinese_message(client, admin_user):
    from django.core.files.uploadedfile import SimpleUploadedFile

    login(client, admin_user)
    url = reverse("admin:accounts_organization_import")
    upload = SimpleUploadedFile("假的.xlsx", b"PK\x03\x04 not really")
    response = client.post(url, {"format": "0", "import_file": upload})
    assert response.status_code == 200
    assert "无法读取" in response.content.decode()
