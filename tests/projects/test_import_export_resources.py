"""Excel import/export (issue 6): round trips, scope, the django-import-export traps,
formula neutralisation, all-or-nothing."""

import io
from decimal import Decimal

import pytest
import tablib
from django.contrib.auth.models import Group
from openpyxl import load_workbook
from openpyxl.utils.escape import unescape

from accounts.models import Organization, User
from accounts.roles import Role
from projects.exchange import export as ie
from projects.exchange import writer
from projects.models import FundingPolicy, Project, ProjectCodeCounter, ProjectHistory, State
from projects.services import events
from tests.factories import ProjectFactory, UserFactory
from tests.projects import fixtures_money

accepted = fixtures_money.accepted


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
def admin_user(db, work_committee, policy_2020):
    return UserFactory(username="root", organization=work_committee, is_superuser=True)


@pytest.fixture
def policy_2020(db):
    return FundingPolicy.objects.create(
        year=2020,
        pool_total=Decimal("10000.00"),
        grade1_cap=Decimal("5000.00"),
        grade2_cap=Decimal("4000.00"),
        grade3_cap=Decimal("3000.00"),
    )


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
        assert writer.neutralise(text) == "'" + text
        assert writer.restore(writer.neutralise(text)) == text
    assert writer.neutralise("普通文字") == "普通文字"
    assert writer.neutralise(Decimal("-5")) == Decimal("-5")
    assert writer.restore("'普通") == "'普通"


def test_group_names_exist(db):
    assert set(Group.objects.values_list("name", flat=True)) >= {r.value for r in Role}


# --- issue 10: the historical import obeys the rules (hole 11) ------------------------------


def test_historical_import_cannot_break_the_cap_or_the_pool(admin_user, org_a, applicant):
    """The reproduced attack: approved and settled 1,001,000 under a grade-3 cap of 100."""
    FundingPolicy.objects.filter(year=2020).update(grade3_cap=Decimal("100.00"))
    huge = {"申请金额": "1001000.00", "核定金额": "1001000.00", "结算金额": "1001000.00"}
    result = do_import("project", admin_user, historical_rows(org_a, applicant, **huge))
    errors = errors_of(result)
    assert any("超过三级拨款项目上限 ¥100.00" in e for e in errors), errors
    assert any("超过2020年度经费剩余额度 ¥10,000.00" in e for e in errors), errors
    assert not Project.objects.exists()
    assert FundingPolicy.objects.get(year=2020).remaining() == Decimal("10000.00")


def test_historical_import_pool_counts_earlier_rows_of_the_same_file(admin_user, org_a, applicant):
    data = historical_rows(org_a, applicant, 结算金额="2800.00", 票据不合格损失="0.00")
    for number in range(2, 5):  # 4 × 2,800 = 11,200 > the pool of 10,000
        row = historical_rows(org_a, applicant, 项目编号=f"2020-000{number}", 结算金额="2800.00")[0]
        data.append(row)
    result = do_import("project", admin_user, data)
    assert [row.number for row in result.invalid_rows] == [4]
    assert any("剩余额度 ¥1,600.00" in e for e in errors_of(result)), errors_of(result)
    assert not Project.objects.exists()
    data = historical_rows(org_a, applicant)
    assert not errors_of(do_import("project", admin_user, data))
    assert FundingPolicy.objects.get(year=2020).remaining() == Decimal("7499.50")


def test_historical_import_needs_the_years_policy(admin_user, org_a, applicant):
    FundingPolicy.objects.filter(year=2020).delete()
    result = do_import("project", admin_user, historical_rows(org_a, applicant))
    assert any("2020年度尚未设定经费政策" in e for e in errors_of(result)), errors_of(result)
    assert not Project.objects.exists()
    # A record with no approval (rejected) needs no policy.
    rejected = {"状态": "未通过", "核定等级": "", "核定金额": "", "结算金额": ""}
    rejected["票据不合格损失"] = ""
    result = do_import("project", admin_user, historical_rows(org_a, applicant, **rejected))
    assert not errors_of(result), errors_of(result)
    assert Project.objects.get(code="2020-0001").committed_amount == 0


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"核定金额": "3500.00", "申请金额": "4000.00"}, "超过三级拨款项目上限 ¥3,000.00"),
        ({"核定金额": "2800.00", "申请金额": "2000.00"}, "核定金额不能超过申请金额 ¥2,000.00"),
        ({"申请金额": ""}, "有核定金额的项目须填写申请金额"),
        ({"核定等级": ""}, "已结项归档的项目须有核定等级和核定金额"),
        ({"项目编号": "2021-0001"}, "年度与“年度”列(2020)不一致"),
        ({"项目编号": "20-1"}, "格式不对"),
        ({"项目编号": "2020-00012"}, "应为“2020-0012”"),
        ({"项目编号": "2020-0000"}, "序号不能为 0"),
        ({"项目编号": "(导入时分配)"}, "格式不对"),
        ({"年度": 1999, "项目编号": "1999-0001"}, "年度“1999”无效"),
        ({"核定金额": "12.345"}, "最多保留两位小数"),
        ({"核定金额": "1e3"}, "不是有效的金额"),
        ({"开始日期": "2020-02-30"}, "不是有效的日期"),
    ],
)
def test_historical_import_refuses_row_by_row(admin_user, org_a, applicant, override, message):
    result = do_import("project", admin_user, historical_rows(org_a, applicant, **override))
    assert any(message in e for e in errors_of(result)), errors_of(result)
    assert not Project.objects.exists()
    assert not ProjectHistory.objects.exists()


def test_historical_import_reserves_its_number_and_never_blocks_new_codes(
    admin_user, org_a, applicant
):
    from projects.services import project_create

    data = historical_rows(org_a, applicant, 项目编号="2020-0041")
    data.append(historical_rows(org_a, applicant, 项目编号="")[0])
    result = do_import("project", admin_user, data)
    assert not errors_of(result), errors_of(result)
    codes = list(Project.objects.order_by("year", "number").values_list("code", "number"))
    assert codes == [("2020-0041", 41), ("2020-0042", 42)]
    assert ProjectCodeCounter.objects.get(year=2020).last_number == 42
    minimal = {"title": "新申报", "category": "training", "proposed_grade": 3, "year": 2020}
    created = project_create(actor=applicant, organization=org_a, leader=applicant, **minimal)
    assert created.code == "2020-0043"
    assert events.verify().ok


def test_historical_import_event_records_the_decided_values(admin_user, org_a, applicant):
    do_import("project", admin_user, historical_rows(org_a, applicant, 项目编号=""))
    project = Project.objects.get()
    event = ProjectHistory.objects.get(project=project)
    assert project.code == "2020-0001"
    assert event.transition == "import" and event.actor == admin_user
    assert event.data["code"] == "2020-0001"
    assert event.data["approved_amount"] == "2800.00"
    assert event.data["committed_amount"] == "2500.50"
    assert events.verify().ok


# --- issue 10: formula guard after the blanks (hole 12) --------------------------------------

BLANK_FORMULAS = [" =1+1", "\r=1", "\u3000=1+1", "\xa0@SUM(A1)", "\u200b=1", "\x01+1", "＝1+1"]


@pytest.mark.parametrize("text", BLANK_FORMULAS)
def test_neutraliser_looks_through_leading_blanks(text):
    assert writer.neutralise(text) == "'" + text
    assert writer.restore(writer.neutralise(text)) == text
    # An exported cell comes back as it was; a raw cell is trimmed before it is judged.
    assert writer.clean_imported_text(writer.neutralise(text)) == text
    assert writer.looks_like_formula(writer.clean_imported_text(text))


@pytest.mark.parametrize("text", BLANK_FORMULAS)
def test_import_then_export_never_gives_a_live_formula(admin_user, org_a, applicant, text):
    """Imported text is trimmed before it is judged; every export cell is neutralised."""
    result = do_import("project", admin_user, historical_rows(org_a, applicant, 活动目的=text))
    assert not errors_of(result), errors_of(result)
    stored = Project.objects.get().purpose
    assert stored == text.strip(" \r\u3000\xa0\u200b\x01")  # blanks trimmed, text kept
    rows = sheet_rows(export("project", admin_user))
    cell = rows[1][rows[0].index("活动目的")]
    assert cell == "'" + stored


@pytest.mark.parametrize("text", BLANK_FORMULAS)
def test_export_neutralises_stored_text_with_leading_blanks(admin_user, org_a, text):
    org_a.short_name = text
    org_a.save()
    rows = sheet_rows(export("organization", admin_user))
    # XlsxWriter stores control characters escaped (_x000D_): read them back unescaped.
    cells = [unescape(row[rows[0].index("简称")] or "") for row in rows[1:]]
    assert "'" + text in cells


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_parallel_historical_imports_never_overdraw_the_pool(
    work_committee, org_a, applicant, policy_2020
):
    """Six imports of 2,500.50 each race for a pool of 10,000: at most three fit, taken under
    the pool lock; the pool never goes below zero."""
    from tests.projects.test_money_concurrency import race

    importer = UserFactory(username="root", organization=work_committee, is_superuser=True)

    def run(i):
        result = do_import(
            "project", importer, historical_rows(org_a, applicant, 项目编号=f"2020-{i + 1:04d}")
        )
        return errors_of(result)

    results = race(run, count=6)
    assert not [r for r in results if isinstance(r, Exception)], results
    refused = [r for r in results if r]
    assert len(refused) == 3, results
    assert all(any("剩余额度" in e for e in errors) for errors in refused)
    assert Project.objects.count() == 3
    assert FundingPolicy.objects.get(year=2020).remaining() == Decimal("2498.50")
    assert events.verify().ok


@pytest.mark.parametrize("text", [" =1+1", "\r=1", "\u3000=1+1", "\xa0@SUM(A1)"])
def test_invoice_import_guard_looks_through_leading_blanks(accepted, applicant, text):
    """The invoice import refuses formula cells: judged after the blanks, never stored."""
    from projects.models.money import Invoice
    from projects.services.invoice_imports import invoice_import
    from tests.projects.test_invoice_import import row, xlsx

    rows = [row(accepted, "20000001", 销售方名称=text)]
    result = invoice_import(project=accepted, source=xlsx(rows), actor=applicant, dry_run=False)
    assert not result.ok and not Invoice.objects.exists()
    assert "公式" in "；".join(result.bad_rows[0].errors)


def test_import_reads_dates_and_money_with_the_one_parsers(admin_user, org_a, applicant):
    """2020年3月1日 and ¥2,800.00 are accepted as everywhere else; nothing is rounded."""
    row = historical_rows(
        org_a, applicant, 开始日期="2020年3月1日", 结束日期="2020/5/1", 核定金额="¥2,800.00"
    )
    result = do_import("project", admin_user, row)
    assert not errors_of(result), errors_of(result)
    project = Project.objects.get()
    assert project.start_date.isoformat() == "2020-03-01"
    assert project.end_date.isoformat() == "2020-05-01"
    assert project.approved_amount == Decimal("2800.00")
