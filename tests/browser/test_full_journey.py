"""Issue 7: the whole life of one project in a real browser, every step clicked by the role
the regulation gives it: drafted and submitted, questioned and returned, resubmitted,
first-reviewed, graded and approved, started, reported on monthly, changed, summarised,
finished, accepted, invoiced (one typed in, two imported from Excel), checked by finance,
settled, closed, and its archive downloaded. Screenshots of the key pages go to
test-artifacts/ (journey-*.png).
"""

import datetime
import zipfile
from decimal import Decimal
from io import BytesIO, StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone
from openpyxl import Workbook

from projects.models import ChangeRequest, ProgressReport, Project, State
from projects.models.money import Disbursement, Invoice
from projects.services.invoice_imports import COLUMNS
from tests.browser.conftest import login
from tests.factories import PASSWORD, FundingPolicyFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TITLE = "党史学习教育知识竞赛"
TODAY = timezone.localdate()
START = TODAY.replace(day=1)
END = START + datetime.timedelta(days=75)
NEW_END = END + datetime.timedelta(days=30)


def _real_png() -> bytes:
    # A real image: the archive's usability check opens every image it holds.
    from PIL import Image

    buffer = BytesIO()
    Image.new("RGB", (40, 30), (200, 30, 30)).save(buffer, format="PNG")
    return buffer.getvalue()


PNG = _real_png()


class Journey:
    """The browser as whoever is logged in now, with the few gestures every step repeats."""

    def __init__(self, page, live_server, screenshot):
        self.page, self.url, self.shot = page, live_server.url, screenshot
        self.live_server = live_server

    def as_user(self, user) -> None:
        # Log out through the admin (POST form), then in through the login page.
        logout = self.page.locator("#logout-form button")
        if logout.count():
            logout.click()
            self.page.wait_for_url("**/admin/logout/")
        login(self.page, self.live_server, user.username, PASSWORD)
        self.page.wait_for_selector("#user-tools")

    def open_project(self, project) -> None:
        self.page.goto(f"{self.url}/admin/projects/project/{project.pk}/change/")

    def press(self, project, name: str, *, checklist=False, **fields) -> str:
        """Click the transition's button on the project page, fill its form, sign it."""
        self.open_project(project)
        self.page.click(f"a.transition-button[data-transition={name}]")
        self.page.wait_for_selector("input[name=_confirm]")
        if checklist:
            for radio in self.page.query_selector_all("input[type=radio][value=yes]"):
                radio.check()
        for field, value in fields.items():
            selector = f"#id_{field}"
            if self.page.locator(f"select{selector}").count():
                self.page.select_option(selector, value)
            elif self.page.locator(f"input[type=radio][name={field}]").count():
                self.page.check(f"input[name={field}][value={value}]")
            else:
                self.page.fill(selector, value)
        self.page.click("input[name=_confirm]")
        return self.success()

    def success(self) -> str:
        self.page.wait_for_selector(".messagelist .success")
        return self.page.inner_text(".messagelist")

    def state_label(self) -> str:
        # The project page shows the state read-only; its label is what the user sees.
        return self.page.inner_text(".fieldBox.field-state_label .readonly").strip()


def _draft(j: Journey) -> Project:
    page = j.page
    page.goto(f"{j.url}/admin/projects/project/add/")
    page.fill("#id_title", TITLE)
    page.select_option("#id_category", "training")
    page.fill("#id_start_date", START.isoformat())
    page.fill("#id_end_date", END.isoformat())
    page.select_option("#id_proposed_grade", "3")
    for name, text in [
        ("leader_profile", "支部组织委员,负责党员教育"),
        ("purpose", "以赛促学,深化党史学习"),
        ("content", "初赛笔试、决赛现场抢答"),
        ("plan", "本月初赛,下月决赛"),
        ("expected_outcome", "全体党员参与,评出优胜队"),
    ]:
        page.fill(f"#id_{name}", text)
    page.select_option("#id_budget_lines-0-item", "awards")
    page.fill("#id_budget_lines-0-description", "优胜队奖品")
    page.fill("#id_budget_lines-0-quantity", "10")
    page.fill("#id_budget_lines-0-unit_price", "150")
    page.click("#budget_lines-group .add-row a")
    page.select_option("#id_budget_lines-1-item", "venue")
    page.fill("#id_budget_lines-1-description", "决赛场地")
    page.fill("#id_budget_lines-1-quantity", "1")
    page.fill("#id_budget_lines-1-unit_price", "500.00")
    page.click("input[name=_continue]")
    j.success()
    project = Project.objects.get(title=TITLE)
    assert project.requested_amount == Decimal("2000.00")
    assert project.state == State.DRAFT
    j.shot("journey-01-draft")
    return project


def _running_records(j: Journey, project, applicant, reviewer, leader) -> None:
    page = j.page
    # A monthly progress report (三(一)5) and a schedule change request (三(二)).
    page.goto(f"{j.url}/admin/projects/progressreport/add/")
    page.select_option("#id_project", str(project.pk))
    page.fill("#id_month", f"{START:%Y-%m}")  # the month picker (issue 11, finding 3)
    page.fill("#id_progress", "初赛已完成,参赛党员42人。")
    page.click("input[name=_save]")
    j.success()
    assert ProgressReport.objects.filter(project=project, author=applicant).count() == 1

    page.goto(f"{j.url}/admin/projects/changerequest/add/")
    page.select_option("#id_project", str(project.pk))
    page.select_option("#id_kind", "schedule")
    page.fill("#id_reason", "决赛场地档期冲突,顺延一个月。")
    page.fill("#id_new_start_date", START.isoformat())
    page.fill("#id_new_end_date", NEW_END.isoformat())
    page.click("input[name=_save]")
    j.success()
    change = ChangeRequest.objects.get(project=project)

    for user, decision, opinion in [
        (reviewer, "endorse", "同意顺延,上报领导小组。"),
        (leader, "approve", "批准顺延。"),
    ]:
        j.as_user(user)
        page.goto(f"{j.url}/admin/projects/changerequest/{change.pk}/change/")
        page.check(f"input[name=decision][value={decision}]")
        page.fill("#id_opinion", opinion)
        page.click("input[name=_save]")
        j.success()
    change.refresh_from_db()
    project.refresh_from_db()
    assert change.status == ChangeRequest.Status.APPROVED
    assert project.end_date == NEW_END
    j.shot("journey-05-change-approved")


def _summary_and_invoice(j: Journey, project, tmp_path) -> None:
    page = j.page
    page.goto(f"{j.url}/admin/projects/summaryreport/add/")
    page.select_option("#id_project", str(project.pk))
    for name, text in [
        ("goals", "全体党员参与党史学习"),
        ("conduct", "初赛、决赛如期举行"),
        ("self_assessment", "组织有序"),
        ("lessons", "提前预订场地"),
        ("participant_feedback", "学有所获"),
        ("effect", "参与率百分之九十五"),
    ]:
        page.fill(f"#id_{name}", text)
    page.click("input[name=_save]")
    j.success()

    # A photo of the event as an attachment (kept in the archive, served only as a download).
    photo = tmp_path / "决赛现场.png"
    photo.write_bytes(PNG)
    page.goto(f"{j.url}/admin/projects/document/add/")
    page.select_option("#id_project", str(project.pk))
    page.set_input_files("#id_file", str(photo))
    page.click("input[name=_save]")
    j.success()

    # One invoice typed into the invoice form, reached from the project page's link.
    j.open_project(project)
    page.click("text=录入发票")
    page.wait_for_selector("#id_number")
    awards = project.budget_lines.get(item="awards")
    page.select_option("#id_budget_line", str(awards.pk))
    page.select_option("#id_kind", Invoice.Kind.VAT_ORDINARY)
    page.fill("#id_code", "3100231130")
    page.fill("#id_number", "80000001")
    page.fill("#id_issue_date", TODAY.isoformat())
    page.fill("#id_seller_name", "示例文化用品有限公司")
    page.fill("#id_seller_tax_id", "91350100M000100Y43")
    page.fill("#id_buyer_name", project.organization.name)
    page.fill("#id_amount", "1500.00")
    page.fill("#id_tax", "0")
    page.fill("#id_total", "1500.00")
    page.click("input[name=_save]")
    j.success()
    assert Invoice.objects.filter(project=project).count() == 1


def _invoice_workbook(path, project) -> None:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(list(COLUMNS))
    for number, total in [("80000002", 300), ("80000003", 200)]:
        sheet.append(
            [
                "1100231130",
                number,
                TODAY,
                "示例会议服务有限公司",
                "91110108551385082Q",
                project.organization.name,
                total,
                0,
                total,
                "增值税普通发票",
                2,  # the second budget line: the venue
            ]
        )
    workbook.save(path)


def _import_invoices(j: Journey, project, tmp_path) -> None:
    upload = tmp_path / "场地发票.xlsx"
    _invoice_workbook(upload, project)
    page = j.page
    j.open_project(project)
    page.click("text=从 Excel 导入发票")
    page.set_input_files("input[type=file]", str(upload))
    page.click("input[value='上传并预览']")
    page.wait_for_selector("text=全部通过校验")
    j.shot("journey-08-import-preview")
    page.click("input[value='确认导入']")
    page.wait_for_selector("text=已导入 2 张发票")


def _finance_checks(j: Journey, project) -> None:
    page = j.page
    page.goto(f"{j.url}/admin/projects/invoice/?project__id__exact={project.pk}")
    page.check("#action-toggle")
    page.select_option("select[name=action]", "mark_qualified")
    page.click("button[name=index]")
    page.wait_for_selector("text=已审核 3 张发票")
    j.shot("journey-09-invoices-checked")


def _download_archive(j: Journey, project) -> list[str]:
    j.open_project(project)
    with j.page.expect_download() as info:
        j.page.click("text=下载档案包(归档,可核验)")
    download = info.value
    assert download.suggested_filename.endswith(".zip")
    # The package passes the four checks of DA/T 70 as downloaded.
    out = StringIO()
    call_command("verify_archive", str(download.path()), stdout=out)
    with zipfile.ZipFile(BytesIO(download.path().read_bytes())) as archive:
        assert archive.testzip() is None
        return archive.namelist()


def test_full_journey_from_draft_to_closed_archive(
    page, live_server, applicant, reviewer, leader, finance, screenshot, tmp_path, settings
):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    FundingPolicyFactory(year=TODAY.year)
    j = Journey(page, live_server, screenshot)

    # 1. The applicant drafts the application with budget lines and submits it.
    j.as_user(applicant)
    project = _draft(j)
    assert "已完成“" in j.press(project, "submit")
    assert "待项目部初审" in j.state_label()

    # 2. The org reviewer finds it on the to-do list, questions it (质疑) and returns it;
    #    the applicant resubmits.
    j.as_user(reviewer)
    assert TITLE in j.page.inner_text("#content-main")
    j.press(project, "org_return", checklist=True, opinion="请说明奖品采购标准。")
    assert "退回修改" in j.state_label()
    j.shot("journey-02-returned")
    j.as_user(applicant)
    j.press(project, "submit", opinion="奖品每份不超过150元,已在预算说明。")
    assert "待项目部初审" in j.state_label()

    # 3. First review approved; leadership grades it and approves the amount.
    j.as_user(reviewer)
    j.press(project, "org_approve", checklist=True, opinion="同意上报领导小组。")
    assert "待领导小组复审" in j.state_label()
    j.as_user(leader)
    j.press(
        project,
        "approve",
        checklist=True,
        grade="3",
        approved_amount="2000.00",
        opinion="同意立项,核定三级。",
    )
    assert "已立项" in j.state_label()
    j.shot("journey-03-approved")

    # 4. The applicant starts it, reports monthly and asks for a change of schedule.
    j.as_user(applicant)
    j.press(project, "start")
    assert "实施中" in j.state_label()
    j.shot("journey-04-in-progress")
    _running_records(j, project, applicant, reviewer, leader)

    # 5. Summary report and the first invoice; the org sends it to acceptance.
    j.as_user(applicant)
    _summary_and_invoice(j, project, tmp_path)
    j.as_user(reviewer)
    j.press(project, "finish", opinion="活动按计划完成,总结报告属实。")
    assert "待验收" in j.state_label()
    j.as_user(leader)
    j.press(project, "accept", conclusion="pass", opinion="验收合格。")
    assert "已验收" in j.state_label()
    j.shot("journey-06-accepted")

    # 6. More invoices imported from Excel; finance checks all three 合格.
    j.as_user(applicant)
    _import_invoices(j, project, tmp_path)
    j.as_user(finance)
    _finance_checks(j, project)

    # 7. Final accounts and settlement request (项目部), payment approval (领导小组),
    #    settlement with the payment voucher (财政科).
    j.as_user(reviewer)
    awards, venue = project.budget_lines.order_by("pk")
    j.press(
        project,
        "request_settlement",
        **{f"actual_{awards.pk}": "1500.00", f"actual_{venue.pk}": "500.00"},
        opinion="决算清单已核对。",
    )
    assert "待审批拨付" in j.state_label()
    j.as_user(leader)
    j.press(project, "approve_payment", payable_limit="2000.00", opinion="同意拨付。")
    assert "待财政科结算" in j.state_label()
    j.as_user(finance)
    j.press(project, "settle", voucher_number="PZ-2026-0001", bank_serial="YH20260001")
    assert "已结算" in j.state_label()
    j.shot("journey-10-settled")

    # 8. Leadership closes (archives) it and downloads the archive package.
    j.as_user(leader)
    j.press(project, "close", opinion="归档。")
    assert "已结项归档" in j.state_label()
    j.shot("journey-11-closed")
    entries = _download_archive(j, project)
    assert "manifest.xml" in entries and "历史/项目历史.txt" in entries
    assert any(e.startswith("文书/01-项目申请书") and e.endswith(".pdf") for e in entries)
    assert any(e.startswith("附件/") and e.endswith("决赛现场.png") for e in entries), entries

    # What the database holds at the end: closed, settled in full, paid once, chain intact.
    project.refresh_from_db()
    assert project.state == State.CLOSED
    assert project.settlement_amount == Decimal("2000.00")
    assert project.loss_amount in (None, Decimal("0.00"))
    disbursement = Disbursement.objects.get(project=project)
    assert disbursement.amount == Decimal("2000.00")
    assert disbursement.voucher_number == "PZ-2026-0001"
    out = StringIO()
    call_command("verify_history", stdout=out)
    assert "审批历史完整" in out.getvalue()  # a broken chain raises CommandError
