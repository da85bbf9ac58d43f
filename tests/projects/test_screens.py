"""Issue 11 on the server side: dates as people write them, one display format, the search
box that finds full names and organisations, the status bar and the open questions."""

import datetime
import json
import re

import pytest

from projects.admin.status import open_questions, status_bar
from projects.forms import DateField
from projects.models import Project, State
from projects.services import apply_transition
from projects.templatetags.project_tags import cn_date, cn_datetime, cn_month
from tests.factories import ProjectFactory
from tests.projects.conftest import CHECKLIST_YES
from tests.projects.test_project_admin import ADD_DATA

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "text", ["2026年12月10日", "2026-12-10", "2026/12/10", "2026.12.10", "20261210"]
)
def test_the_date_field_reads_the_usual_chinese_forms(text):
    assert DateField(label="开始日期").clean(text) == datetime.date(2026, 12, 10)


def test_a_bad_date_says_how_to_write_it():
    with pytest.raises(Exception) as err:
        DateField(label="开始日期").clean("12月10日")
    assert "开始日期" in str(err.value) and "2026年12月10日" in str(err.value)


def test_the_add_form_takes_a_chinese_date_and_shows_an_example(client, applicant, policy):
    client.force_login(applicant)
    page = client.get("/admin/projects/project/add/").content.decode()
    assert 'placeholder="例:2026-12-10 或 2026年12月10日"' in page
    data = {**ADD_DATA, "start_date": "2026年3月1日", "end_date": "2026.04.30"}
    response = client.post("/admin/projects/project/add/", data)
    assert response.status_code == 302, response.content.decode()[:2000]
    project = Project.objects.get(title=ADD_DATA["title"])
    assert (project.start_date, project.end_date) == (
        datetime.date(2026, 3, 1),
        datetime.date(2026, 4, 30),
    )
    # After saving a draft the applicant lands on its page, where 提交 waits.
    assert response["Location"] == f"/admin/projects/project/{project.pk}/change/"


def test_the_grade_caps_stand_beside_the_grade(client, applicant, policy):
    client.force_login(applicant)
    page = client.get("/admin/projects/project/add/").content.decode()
    assert "三级拨款项目 ≤ ¥" in page and "data-caps=" in page


def test_one_display_format_for_dates_and_months():
    assert cn_date(datetime.date(2026, 12, 10)) == "2026年12月10日"
    assert cn_month(datetime.date(2026, 9, 1)) == "2026年9月"
    moment = datetime.datetime(2026, 3, 2, 23, 30, tzinfo=datetime.UTC)
    assert cn_datetime(moment) == "2026年3月3日 07:30"  # Beijing time
    assert cn_date(None) == "—"


def test_the_calendar_speaks_chinese(client, applicant):
    client.force_login(applicant)
    catalog = client.get("/admin/jsi18n/").content.decode()
    # The catalog is JavaScript holding JSON with ASCII escapes ("\\u65e5" for 日).
    for letter in "日一二三四五六":
        assert f'": {json.dumps(letter)}' in catalog


@pytest.mark.parametrize("term", ["full_name", "organization", "short_name"])
def test_search_finds_full_names_and_organisations(client, draft, leader, org_b, term):
    draft.leader.last_name, draft.leader.first_name = "赵", "一帆"
    draft.leader.save()
    draft.organization.short_name = "甲支部"
    draft.organization.save()
    other = ProjectFactory(organization=org_b, leader=leader, title="别的组织的项目")
    query = {"full_name": "赵一帆", "organization": "甲社区", "short_name": "甲支部"}[term]
    client.force_login(leader)
    body = client.get("/admin/projects/project/", {"q": query}).content.decode()
    assert draft.title in body and other.title not in body
    assert 'placeholder="项目编号、名称、负责人姓名或申报组织"' in body


def test_status_bar_and_questions_of_a_returned_project(draft, applicant, reviewer):
    project = apply_transition(draft, "submit", actor=applicant)
    bar = status_bar(project)
    assert [s["mark"] for s in bar.steps][:4] == ["done", "done", "current", "todo"]
    assert "项目部" in bar.waits_on and bar.until  # the 7-day first-review deadline
    assert open_questions(project) is None
    project = apply_transition(
        project, "org_return", actor=reviewer, opinion="请补充奖品标准。", **CHECKLIST_YES
    )
    assert project.state == State.RETURNED
    questions = open_questions(project)
    assert questions["opinion"] == "请补充奖品标准。" and reviewer.display_name in questions["by"]
    # Resubmitted: the questions are answered and the banner goes.
    project = apply_transition(project, "submit", actor=applicant)
    assert open_questions(project) is None


def test_project_page_shows_decisions_apart_and_no_logentry_history(client, draft, applicant):
    client.force_login(applicant)
    page = client.get(f"/admin/projects/project/{draft.pk}/change/").content.decode()
    assert 'class="project-status"' in page and "等待 <strong>项目负责人" in page
    assert 'primary-button" data-transition="submit"' in page
    assert 'danger-button" data-transition="withdraw"' in page
    assert f"/admin/projects/project/{draft.pk}/history/" not in page


def test_the_admins_words_are_the_users_words(client, draft, applicant):
    client.force_login(applicant)
    listing = client.get("/admin/projects/project/").content.decode()
    assert "项目一览" in listing and "选择 党费项目 来修改" not in listing
    assert "以 状态" not in listing and re.search(r"<summary>\s*状态\s*</summary>", listing)
    # No doubled breadcrumb 党费项目 › 党费项目 (the app page lists every model).
    assert '/admin/projects/"' not in listing
    page = client.get(f"/admin/projects/project/{draft.pk}/change/").content.decode()
    assert "保存并增加另一个" not in page and "保存后再新建一份" not in page
    assert f"您好,<strong>{applicant.display_name}</strong>" in page


def test_the_login_error_in_plain_words(client, applicant):
    response = client.post("/admin/login/", {"username": applicant.username, "password": "x"})
    body = response.content.decode()
    assert "用户名或密码不正确" in body and "工作人员账户" not in body


@pytest.mark.parametrize(
    "fixture, shown, hidden",
    [
        (
            "applicant",
            ["我的项目申请", "新建项目申请", "月度进展报告"],
            ["用户", "党组织", "经费总账"],
        ),
        ("leader", ["全部项目", "年度经费政策", "年度统计", "经费总账"], ["用户", "新建项目申请"]),
        ("finance", ["发票审核", "拨付记录"], ["用户", "党组织", "新建项目申请"]),
        ("auditor", ["全部项目", "年度统计"], ["用户", "新建项目申请"]),
    ],
)
def test_each_role_sees_its_own_menu(client, request, fixture, shown, hidden):
    client.force_login(request.getfixturevalue(fixture))
    body = client.get("/admin/").content.decode()
    menu = body[body.index('class="module role-menu"') :]
    for label in shown:
        assert label in menu, label
    for label in hidden:
        assert f">{label}<" not in menu, label


def test_the_funding_policy_list_and_page_write_money_one_way(client, leader, policy):
    # Finding 13: not 50000.00 beside ¥200,000.00: every amount shown is ¥ with separators.
    client.force_login(leader)
    text = client.get("/admin/projects/fundingpolicy/").content.decode()
    for amount in ("¥100,000.00", "¥30,000.00", "¥15,000.00", "¥5,000.00"):
        assert amount in text, amount
    assert not re.search(r"(?<![\d,¥])\d{4,}\.\d\d", text)


def test_the_reviewers_queue_writes_the_deadline_as_every_other_date(
    client, draft, applicant, reviewer
):
    # Finding 4: one display format; the first-review queue wrote 2026-12-09.
    project = apply_transition(draft, "submit", actor=applicant)
    client.force_login(reviewer)
    body = client.get("/admin/").content.decode()
    assert f"初审期限 {cn_date(project.first_review_deadline)}" in body
    assert project.first_review_deadline.isoformat() not in body


def test_awaiting_payment_approval_the_approval_is_the_primary_decision(
    client, approved, applicant, reviewer, leader, finance, advance
):
    # Finding 11: 批准拨付 first and primary, 退回决算 after it as a danger button.
    from decimal import Decimal

    from tests.projects.fixtures_money import add_invoices, check_all, reach_accepted

    project = reach_accepted(
        approved, applicant=applicant, reviewer=reviewer, leader=leader, advance=advance
    )
    check_all(add_invoices(project, applicant, Decimal("1000.00")), finance)
    line = project.budget_lines.order_by("pk").first()
    project = advance(
        project,
        ("request_settlement", reviewer, {"opinion": "", "actual_amounts": {line.pk: "1000.00"}}),
    )
    client.force_login(leader)
    page = client.get(f"/admin/projects/project/{project.pk}/change/").content.decode()
    approve = page.index('primary-button" data-transition="approve_payment"')
    assert approve < page.index('danger-button" data-transition="return_settlement"')


def test_a_progress_reports_page_writes_its_month_as_a_month(client, approved, applicant):
    # Finding 4: a report month is 2026年9月, not 2026年9月1日 with the help text 该月第一天.
    from projects.services.reports import progress_report_submit

    project = apply_transition(approved, "start", actor=applicant)
    month = max(datetime.date.today(), project.start_date).replace(day=1)
    report = progress_report_submit(project=project, actor=applicant, month=month, progress="学习")
    client.force_login(applicant)
    page = client.get(f"/admin/projects/progressreport/{report.pk}/change/").content.decode()
    assert cn_month(month) in page
    assert cn_date(month) not in page and "该月第一天" not in page


def test_no_record_page_offers_the_admins_logentry_history(client, approved, applicant):
    # Finding 9: Django's 历史 (LogEntry) button stood on every record's page beside the real
    # project history; a progress report's page was one of them.
    from projects.services.reports import progress_report_submit

    project = apply_transition(approved, "start", actor=applicant)
    month = max(datetime.date.today(), project.start_date).replace(day=1)
    report = progress_report_submit(project=project, actor=applicant, month=month, progress="学习")
    client.force_login(applicant)
    response = client.get(f"/admin/projects/progressreport/{report.pk}/change/")
    page = response.content.decode()
    assert response.status_code == 200 and "学习" in page
    assert 'class="historylink"' not in page
    assert f"/admin/projects/progressreport/{report.pk}/history/" not in page


def test_an_empty_field_reads_as_the_same_dash_everywhere(client, draft, applicant):
    # Before the leadership grades it, a submitted project's 核定等级 and 核定金额 are empty:
    # both read "—", as empty dates do, not Django's "-" beside the money's "—".
    project = apply_transition(draft, "submit", actor=applicant)
    client.force_login(applicant)
    page = client.get(f"/admin/projects/project/{project.pk}/change/").content.decode()
    assert not re.search(r'<div class="readonly">\s*-\s*</div>', page)
    assert re.search(r'<div class="readonly">\s*—\s*</div>', page)
