"""Excel import/export (issue 6): round trips, scope, the django-import-export traps,
formula neutralisation, all-or-nothing."""

import io
from decimal import Decimal

import pytest
import tablib
from django.contrib.auth.models import Group
from openpyxl import load_workbook

from accounts.models import Organization, User
from accounts.roles import Role
from projects import importexport as ie
from projects.models import Project, ProjectHistory, State
from projects.services import events
from tests.factories import ProjectFactory, UserFactory


def xlsx_bytes(response) -> bytes:
    return b"".join(response.streaming_content)


def sheet_rows(data: bytes) -> list[tuple]:
    sheet = load_workbook(io.BytesIO(data), read_only=True).active
    return [tuple(row) for row in sheet.iter_rows(values_only=True)]


def export(key, user, queryset=None) -> bytes:
    resource = ie.RESOURCES[key](user=user)
    queryset = queryset if queryset is not None else resource._meta.model.objects.all()
    return xlsx_bytes(ie.export_response(resource, queryset, "x.xlsx"))


def dataset(data: bytes) -> tablib.Dataset:
    return tablib.Dataset().load(io.BytesIO(data).read(), format="xlsx")


def do_import(key, user, data, dry_run=False):
    resource = ie.RESOURCES[key](user=user)
    return resource.import_data(
        data if isinstance(data, tablib.Dataset) else dataset(data),
        dry_run=dry_run,
        rollback_on_validation_errors=True,
        use_transactions=True,
    )


def errors_of(result) -> list[str]:
    out = [str(e.error) for e in result.base_errors]
    for row in result.invalid_rows:
        out += [f"{row.number}: {m}" for msgs in row.error_dict.values() for m in msgs]
    for number, errs in result.row_errors():
        out += [f"{number}: {e.error}" for e in errs]
    return out


@pytest.fixture
def admin_user(db, work_committee):
    return UserFactory(username="root", organization=work_committee, is_superuser=True)


def historical_rows(org, leader, **over):
    row = {
        "项目编号": "2020-0001",
        "年度": 2020,
        "项目名称": '=HYPERLINK("http://x")往年培训',
        "申报组织": org.name,
        "项目负责人(用户名)": leader.username,
        "立项支持类型": "培训党员",
        "党费使用范围": "",
        "项目来源": "自行策划",
        "项目周期": "短期",
        "开始日期": "2020-03-01",
        "结束日期": "2020-05-01",
        "申报等级": "三级拨款项目",
        "核定等级": 3,
        "申请金额": "3000.00",
        "核定金额": "2800.00",
        "结算金额": "2500.50",
        "票据不合格损失": "100.00",
        "状态": "已结项归档",
        "优秀项目": "是",
        "活动目的": "学习",
        "活动内容": "+1 集中学习",
    }
    row.update(over)
    data = tablib.Dataset(headers=list(row))
    data.append(list(row.values()))
    return data


# --- round trips ----------------------------------------------------------------------------


def test_organization_round_trip(admin_user, org_a, org_b):
    org_a.short_name = "-甲"  # a formula trigger: neutralised on export, restored on import
    org_a.save()
    before = list(Organization.objects.values().order_by("pk"))
    data = export("organization", admin_user)
    assert sheet_rows(data)[0][:3] == ("名称", "简称", "类型")
    result = do_import("organization", admin_user, data)
    assert not result.has_errors() and not result.has_validation_errors(), errors_of(result)
    assert list(Organization.objects.values().order_by("pk")) == before


def test_user_round_trip_keeps_roles_and_organisation(admin_user, applicant, reviewer, leader):
    before = {u.username: (u.organization_id, sorted(u.role_names)) for u in User.objects.all()}
    data = export("user", admin_user)
    header = sheet_rows(data)[0]
    assert "角色" in header and "所属组织" in header
    result = do_import("user", admin_user, data)
    assert not errors_of(result), errors_of(result)
    after = {
        u.username: (u.organization_id, sorted(g.name for g in u.groups.all()))
        for u in User.objects.all()
    }
    assert after == before


def test_user_import_creates_user_with_role_labels(admin_user, org_a):
    data = tablib.Dataset(headers=["用户名", "姓", "名", "所属组织", "角色", "启用"])
    data.append(["newbie", "王", "五", org_a.name, "项目负责人、project_reviewer_x", "是"])
    result = do_import("user", admin_user, data)
    assert any("未知角色" in e for e in errors_of(result))
    assert not User.objects.filter(username="newbie").exists()
    data[0] = ["newbie", "王", "五", org_a.name, "项目负责人、org_reviewer", "是"]
    result = do_import("user", admin_user, data)
    assert not errors_of(result), errors_of(result)
    user = User.objects.get(username="newbie")
    assert user.organization == org_a and not user.has_usable_password()
    assert sorted(user.groups.values_list("name", flat=True)) == ["applicant", "org_reviewer"]


def test_historical_project_import_and_round_trip(admin_user, org_a, applicant):
    result = do_import("project", admin_user, historical_rows(org_a, applicant))
    assert not errors_of(result), errors_of(result)
    project = Project.objects.get(code="2020-0001")
    assert project.state == State.CLOSED and project.is_commended
    assert project.settlement_amount == Decimal("2500.50")
    assert project.committed_amount == Decimal("2500.50")
    assert project.title.startswith("=HYPERLINK")
    history = list(ProjectHistory.objects.filter(project=project))
    assert [h.transition for h in history] == ["import"] and history[0].actor == admin_user
    assert events.verify().ok

    before = Project.objects.values().get(pk=project.pk)
    data = export("project", admin_user)
    rows = sheet_rows(data)
    header, row = rows[0], rows[1]
    # Numbers stay numbers, dates stay dates, formulas are neutralised.
    assert isinstance(row[header.index("结算金额")], float | int)
    assert row[header.index("开始日期")].year == 2020
    assert row[header.index("项目名称")].startswith("'=")
    assert row[header.index("活动内容")].startswith("'+")
    result = do_import("project", admin_user, data)
    assert not errors_of(result), errors_of(result)
    assert Project.objects.values().get(pk=project.pk) == before
    assert ProjectHistory.objects.filter(project=project).count() == 1


def test_import_never_changes_an_existing_project(admin_user, org_a, applicant):
    do_import("project", admin_user, historical_rows(org_a, applicant))
    result = do_import("project", admin_user, historical_rows(org_a, applicant, 项目名称="改名"))
    assert any("导入不修改已有项目" in e for e in errors_of(result))
    assert Project.objects.get(code="2020-0001").title.startswith("=HYPERLINK")


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"状态": "实施中"}, "已办结的状态"),
        ({"年度": 2999, "项目编号": "2999-0001"}, "只能导入往年"),
        ({"结算金额": "9999.00"}, "结算金额不能超过核定金额"),
        ({"核定等级": 4}, "四级拨款项目"),
        ({"核定金额": "abc"}, "不是有效的金额"),
        ({"立项支持类型": "旅游"}, "不在可选值中"),
    ],
)
def test_historical_import_rules(admin_user, org_a, applicant, override, message):
    result = do_import("project", admin_user, historical_rows(org_a, applicant, **override))
    assert any(message in e for e in errors_of(result)), errors_of(result)
    assert not Project.objects.exists()


def test_all_or_nothing_with_row_numbers(admin_user, org_a, applicant):
    data = historical_rows(org_a, applicant)
    bad = historical_rows(org_a, applicant, 项目编号="2020-0002", 结算金额="9999.00")
    good = historical_rows(org_a, applicant, 项目编号="2020-0003")
    data.append(bad[0])
    data.append(good[0])
    result = do_import("project", admin_user, data)
    assert [row.number for row in result.invalid_rows] == [2]
    assert not Project.objects.exists()  # rows 1 and 3 were valid, and rolled back too


# --- scope ----------------------------------------------------------------------------------


def test_export_is_scoped(reviewer, outsider, org_a, org_b):
    ProjectFactory(organization=org_a, title="甲项目")
    ProjectFactory(organization=org_b, title="乙项目")
    rows = sheet_rows(export("project", reviewer))
    titles = [row[2] for row in rows[1:]]
    assert titles == ["甲项目"]
    rows = sheet_rows(export("user", reviewer))
    usernames = {row[0] for row in rows[1:]}
    assert "bob" in usernames and "charlie" not in usernames


def test_scoped_import_cannot_overwrite_another_organisations_row(reviewer, outsider, org_a):
    data = tablib.Dataset(headers=["用户名", "姓", "名", "所属组织", "角色"])
    data.append(["charlie", "黑", "客", org_a.name, "项目部(基层党组织)"])
    result = do_import("user", reviewer, data)
    assert any("不在您的管理范围内" in e for e in errors_of(result))
    outsider.refresh_from_db()
    assert outsider.last_name != "黑" and outsider.organization.name == "乙社区党支部"


def test_scoped_import_forces_own_organisation_and_refuses_global_roles(reviewer, org_a, org_b):
    data = tablib.Dataset(headers=["用户名", "姓", "名", "所属组织", "角色"])
    data.append(["dave", "丁", "一", org_b.name, "项目负责人"])
    result = do_import("user", reviewer, data)
    assert not errors_of(result), errors_of(result)
    assert User.objects.get(username="dave").organization == org_a
    data[0] = ["eve", "戊", "二", org_a.name, "财政科"]
    result = do_import("user", reviewer, data)
    assert any("只能授予本组织的角色" in e for e in errors_of(result))
    assert not User.objects.filter(username="eve").exists()


def test_scoped_user_cannot_create_or_touch_other_organisations(reviewer, org_a, org_b):
    data = tablib.Dataset(headers=["名称", "简称", "类型"])
    data.append([org_b.name, "被改", "基层党组织(二级党组织)"])
    data.append(["新组织", "新", "基层党组织(二级党组织)"])
    result = do_import("organization", reviewer, data)
    assert [row.number for row in result.invalid_rows] == [1, 2]
    assert not Organization.objects.filter(name="新组织").exists()
    org_b.refresh_from_db()
    assert org_b.short_name != "被改"


def test_resource_requires_a_user():
    with pytest.raises(TypeError):
        ie.ProjectResource()


def test_neutralise_and_restore():
    for text in ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"]:
        assert ie.neutralise(text) == "'" + text
        assert ie.restore(ie.neutralise(text)) == text
    assert ie.neutralise("普通文字") == "普通文字"
    assert ie.neutralise(Decimal("-5")) == Decimal("-5")
    assert ie.restore("'普通") == "'普通"


def test_group_names_exist(db):
    assert set(Group.objects.values_list("name", flat=True)) >= {r.value for r in Role}
