"""Demo projects of the running area (in_progress, acceptance, accepted, closed, terminated),
driven from draft through the real services so that they obey every rule.

Idempotent: nothing is added when the first of these projects (found by title) exists.
"""

import datetime
from decimal import Decimal

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from projects.demo.common import CHECKLIST_YES, demo_policy
from projects.models import BudgetLine, Project
from projects.selectors.obligations import add_months, owed_months
from projects.services import apply_transition, project_create
from projects.services.change_requests import (
    change_request_approve,
    change_request_endorse,
    change_request_submit,
)
from projects.services.documents import document_upload
from projects.services.reports import (
    problem_report_answer,
    problem_report_forward,
    problem_report_submit,
    progress_report_read,
    progress_report_submit,
)
from projects.services.summaries import summary_report_save

TITLES = {
    "in_progress": "“学党史、悟思想”系列读书班",
    "acceptance": "社区老党员口述历史采集",
    "accepted": "楼门院党员志愿服务岗",
    "closed": "党员先锋岗结对帮扶",
    "terminated": "红色研学线路设计(已终止)",
}
SUMMARY = {
    "goals": "通过系列活动提升党员参与度和理论素养。",
    "conduct": "按计划开展活动四次,累计参与党员 86 人次。",
    "self_assessment": "组织有序,达到预定目标。",
    "lessons": "活动通知应提前一周发布;老年党员需安排接送。",
    "participant_feedback": "党员普遍反映内容贴近生活,形式新颖。",
    "effect": "形成活动记录一册,社区党员活动参与率提升至 90%。",
}


def _one_page_pdf() -> bytes:
    """A real one-page PDF (catalog, pages, page, cross-reference table): enough to show the
    document list and the download, and one that opens in verify_archive's usability check."""
    objects = [
        b"<</Type/Catalog/Pages 2 0 R>>",
        b"<</Type/Pages/Kids[3 0 R]/Count 1>>",
        b"<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>",
    ]
    out, offsets = b"%PDF-1.4\n", []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<</Size %d/Root 1 0 R>>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return out


DEMO_PDF = _one_page_pdf()


def load(data) -> list[str]:
    if Project.objects.filter(title=TITLES["in_progress"]).exists():
        return []
    year = timezone.localdate().year
    demo_policy(year)
    users = data["users"]
    people = {
        "leader": users["leader1"],
        "org1": (users["applicant1"], users["reviewer1"], data["orgs"][0]),
        "org2": (users["applicant2"], users["reviewer2"], data["orgs"][1]),
        "org3": (users["applicant3"], users["reviewer3"], data["orgs"][2]),
    }
    _in_progress(people)
    _acceptance(people)
    _accepted_grade4(people)
    _closed_grade4(people)
    _terminated(people)
    return ["运行阶段演示项目:实施中、待验收、已验收(四级)、已结项归档(优秀项目)、已终止。"]


def _approved(people, org_key, title, *, grade, amount, start, end, budget):
    applicant, reviewer, org = people[org_key]
    project = project_create(
        actor=applicant,
        organization=org,
        leader=applicant,
        title=title,
        category="training",
        term="medium",
        start_date=start,
        end_date=end,
        leader_profile="长期从事社区党务工作,曾组织多次主题党日活动。",
        purpose="丰富党员教育形式,增强基层党组织凝聚力。",
        content="围绕主题分阶段组织学习、走访和交流。",
        plan="第一阶段动员;第二阶段开展活动;第三阶段总结展示。",
        expected_outcome="党员参与率达到 85% 以上,形成活动成果汇编。",
        participants=40,
        proposed_grade=grade,
    )
    for item, description, quantity, price in budget:
        BudgetLine.objects.create(
            project=project,
            item=item,
            description=description,
            quantity=Decimal(quantity),
            unit_price=Decimal(price),
            amount=Decimal(quantity) * Decimal(price),
        )
    steps = [
        ("submit", applicant, {}),
        ("org_approve", reviewer, {"opinion": "材料齐全,同意上报。", **CHECKLIST_YES}),
        (
            "approve",
            people["leader"],
            {"opinion": "同意立项。", "grade": grade, "approved_amount": amount},
        ),
    ]
    for name, actor, decision in steps:
        project = apply_transition(project, name, actor=actor, **decision)
    return project


def _in_progress(people):
    """Running for three months: reports for each month but one, a problem, three changes."""
    applicant, reviewer, _org = people["org1"]
    today = timezone.localdate()
    start = add_months(today.replace(day=1), -3) + datetime.timedelta(days=4)
    project = _approved(
        people,
        "org1",
        TITLES["in_progress"],
        grade=3,
        amount="6000.00",
        start=start,
        end=add_months(today, 3),
        budget=[("materials", "学习读本", "60", "50.00"), ("training", "专家授课", "4", "800.00")],
    )
    project = apply_transition(project, "start", actor=applicant, opinion="按计划启动。")
    months = owed_months(project, today)
    for index, month in enumerate(months):
        if index == 1:
            continue  # the month left unreported: shown as overdue
        report = progress_report_submit(
            project=project,
            actor=applicant,
            month=month,
            progress=f"{month.month}月组织集中学习 2 次,参与党员 18 人。",
            problems="部分老党员行动不便。" if index == 0 else "",
            next_steps="继续按计划开展。",
        )
        if index == 0:
            progress_report_read(report=report, actor=reviewer, comment="请安排志愿者接送。")
    problem = problem_report_submit(
        project=project, actor=applicant, description="原定活动场地装修,需另找场地。"
    )
    problem = problem_report_forward(report=problem, actor=reviewer, comment="请协调党群中心。")
    problem_report_answer(
        report=problem, actor=people["leader"], answer="同意使用党群服务中心二层会议室。"
    )
    problem_report_submit(project=project, actor=applicant, description="读本印刷延期一周。")
    # Change requests in several statuses: approved (applied), endorsed, submitted.
    change = change_request_submit(
        project=project,
        actor=applicant,
        kind="content",
        reason="增加线上学习环节,方便在外党员。",
        new_content="围绕主题分阶段组织学习、走访和交流,并增加每月一次线上学习。",
    )
    change = change_request_endorse(change=change, actor=reviewer, opinion="同意上报。")
    change_request_approve(change=change, actor=people["leader"], opinion="同意变更。")
    change = change_request_submit(
        project=project, actor=applicant, kind="budget", reason="参加人数增加。", new_amount="6200"
    )
    change_request_endorse(change=change, actor=reviewer, opinion="人数确有增加,同意上报。")
    change_request_submit(
        project=project,
        actor=applicant,
        kind="schedule",
        reason="因场地调整顺延半个月。",
        new_start_date=project.start_date,
        new_end_date=project.end_date + datetime.timedelta(days=15),
    )
    document_upload(
        project=project,
        actor=applicant,
        uploaded=SimpleUploadedFile("读书班活动方案.pdf", DEMO_PDF),
        kind="application_scan",
        description="盖章后的申请书扫描件",
    )


def _with_summary(people, org_key, title, *, grade, amount, budget):
    applicant, reviewer, _org = people[org_key]
    today = timezone.localdate()
    project = _approved(
        people,
        org_key,
        title,
        grade=grade,
        amount=amount,
        start=today - datetime.timedelta(days=20),
        end=today + datetime.timedelta(days=5),
        budget=budget,
    )
    project = apply_transition(project, "start", actor=applicant, opinion="启动。")
    summary_report_save(project=project, actor=applicant, **SUMMARY)
    document_upload(
        project=project,
        actor=applicant,
        uploaded=SimpleUploadedFile("活动总结附件.pdf", DEMO_PDF),
        kind="summary_attachment",
    )
    return apply_transition(project, "finish", actor=reviewer, opinion="总结报告属实,报请验收。")


def _acceptance(people):
    _with_summary(
        people,
        "org2",
        TITLES["acceptance"],
        grade=3,
        amount="3000.00",
        budget=[("materials", "录音设备耗材与资料整理", "1", "3000.00")],
    )


def _accepted_grade4(people):
    project = _with_summary(
        people,
        "org3",
        TITLES["accepted"],
        grade=4,
        amount="0",
        budget=[("other", "志愿服务马甲(自筹)", "20", "25.00")],
    )
    apply_transition(
        project, "accept", actor=people["leader"], opinion="验收合格。", conclusion="pass"
    )


def _closed_grade4(people):
    # 二(三)4: a grade-4 project has no money, so it is closed directly after acceptance.
    project = _with_summary(
        people,
        "org1",
        TITLES["closed"],
        grade=4,
        amount="0",
        budget=[("other", "结对帮扶慰问材料(自筹)", "10", "30.00")],
    )
    project = apply_transition(
        project, "accept", actor=people["leader"], opinion="成效突出。", conclusion="excellent"
    )
    apply_transition(
        project, "close", actor=people["leader"], opinion="材料齐全,归档。", is_commended=True
    )


def _terminated(people):
    applicant, _reviewer, _org = people["org2"]
    today = timezone.localdate()
    project = _approved(
        people,
        "org2",
        TITLES["terminated"],
        grade=3,
        amount="4000.00",
        start=today,
        end=today + datetime.timedelta(days=90),
        budget=[("transport", "研学包车", "2", "2000.00")],
    )
    project = apply_transition(project, "start", actor=applicant, opinion="启动。")
    apply_transition(
        project,
        "terminate",
        actor=people["leader"],
        opinion="线路涉及景区门票,不符合党费使用范围,终止。",
    )
