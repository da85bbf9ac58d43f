"""What the project page says before anything else (issue 11, finding 2): where the project is
in the regulation's flow, who it waits on and until when, the open questions, and the
decision buttons apart from the utilities."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django.utils import timezone

from projects.dates import format_date, format_datetime, format_month
from projects.models import Review, State
from projects.models.choices import CHECKLIST, Decision, ReviewKind

# 三 工作流程: the steps as the regulation names them.
FLOW = [
    "制定计划",
    "项目申请",
    "项目部初审",
    "领导小组复审",
    "实施监督",
    "验收",
    "结算",
    "总结归档",
]
STEP_OF_STATE = {
    State.DRAFT: 1,
    State.RETURNED: 1,
    State.ORG_REVIEW: 2,
    State.LEADERSHIP_REVIEW: 3,
    State.APPROVED: 4,
    State.IN_PROGRESS: 4,
    State.ACCEPTANCE: 5,
    State.ACCEPTED: 6,
    State.SETTLEMENT_REVIEW: 6,
    State.PAYMENT: 6,
    State.SETTLED: 7,
    State.CLOSED: 7,
}
STOPPED_STATES = {State.REJECTED, State.WITHDRAWN, State.TERMINATED}

# Transitions that refuse, send back or end: drawn as danger buttons, after the others.
DANGER_TRANSITIONS = {
    "withdraw",
    "org_return",
    "org_reject",
    "leadership_return",
    "reject",
    "rectify",
    "return_settlement",
    "terminate",
}


@dataclass
class StatusBar:
    steps: list[dict]
    state_label: str
    waits_on: str
    task: str
    until: str = ""
    overdue: bool = False
    notes: list[str] = field(default_factory=list)
    stopped: bool = False


def _waiting(project) -> tuple[str, str]:
    """Who the project waits on now, and for what."""
    leader = project.leader.display_name if project.leader_id else "项目负责人"
    org = str(project.organization) if project.organization_id else "项目部"
    return {
        State.DRAFT: (f"项目负责人 {leader}", "填写申请书和预算明细,提交项目部初审"),
        State.RETURNED: (f"项目负责人 {leader}", "按退回意见修改申请书后重新提交"),
        State.ORG_REVIEW: (f"项目部({org})", "初审:对照六项条件审核申请书"),
        State.LEADERSHIP_REVIEW: ("地区项目化管理领导小组", "复审:定级并核定金额"),
        State.APPROVED: (f"项目负责人 {leader}", "开始实施"),
        State.IN_PROGRESS: (
            f"项目负责人 {leader}",
            "实施活动,每月报送进展报告;结束后提交总结报告,由项目部报请验收",
        ),
        State.ACCEPTANCE: ("地区项目化管理领导小组", "验收"),
        State.ACCEPTED: (f"项目部({org})", "提交决算,申请拨付"),
        State.SETTLEMENT_REVIEW: ("地区项目化管理领导小组", "审批拨付"),
        State.PAYMENT: ("财政科", "审核发票,确认结算并拨付"),
        State.SETTLED: ("地区项目化管理领导小组", "结项归档"),
        State.CLOSED: ("", "已结项归档,全部记录只读"),
        State.REJECTED: ("", "未通过审核,流程已结束"),
        State.WITHDRAWN: ("", "申请已撤回,流程已结束"),
        State.TERMINATED: ("", "项目已终止,流程已结束"),
    }.get(project.state, ("", ""))


def monthly_notes(project, today: datetime.date | None = None) -> list[str]:
    """The monthly progress-report obligation (三(一)5) in words, for a running project."""
    if project.state != State.IN_PROGRESS:
        return []
    try:  # the running helper moves the obligation into selectors/
        from projects.selectors.obligations import monthly_status
    except ImportError:
        from projects.supervision import monthly_status
    status = monthly_status(project, today)
    notes = []
    if status.overdue:
        months = "、".join(format_month(m) for m in status.overdue)
        notes.append(f"逾期未报的月度进展报告:{months}")
    if status.due:
        notes.append(f"本月进展报告待报:{format_month(status.due[0])}(本月底前)")
    return notes


def status_bar(project, today: datetime.date | None = None) -> StatusBar:
    today = today or timezone.localdate()
    stopped = project.state in STOPPED_STATES
    current = STEP_OF_STATE.get(project.state, 1)
    if stopped:
        # Where it stopped: the last step it reached.
        current = 4 if project.state == State.TERMINATED else 1
    done_all = project.state == State.CLOSED
    steps = []
    for index, name in enumerate(FLOW):
        if done_all or index < current:
            mark = "done"
        elif index == current:
            mark = "stopped" if stopped else "current"
        else:
            mark = "todo"
        steps.append({"name": name, "mark": mark, "number": index + 1})
    who, task = _waiting(project)
    bar = StatusBar(
        steps=steps,
        state_label=project.get_state_display(),
        waits_on=who,
        task=task,
        stopped=stopped,
    )
    if project.state == State.ORG_REVIEW and project.first_review_deadline:
        bar.until = format_date(project.first_review_deadline)
        bar.overdue = project.first_review_deadline < today
    bar.notes = monthly_notes(project, today)
    return bar


def open_questions(project) -> dict | None:
    """The latest questions (退回修改) or 整改意见 while they are still to be answered."""
    kinds = {
        State.RETURNED: (
            [ReviewKind.FIRST, ReviewKind.LEADERSHIP],
            "退回修改的意见(请修改后重新提交)",
        ),
        State.IN_PROGRESS: ([ReviewKind.ACCEPTANCE], "验收整改意见(请整改后重新报请验收)"),
        State.ACCEPTED: ([ReviewKind.SETTLEMENT], "决算被退回的意见(请修改决算后重新提交)"),
    }.get(project.state)
    if kinds is None:
        return None
    latest = Review.objects.filter(project=project, kind__in=kinds[0]).order_by("-signed_at", "-pk")
    review = latest.first()
    if review is None or review.decision != Decision.RETURN:
        return None
    return {
        "title": kinds[1],
        "opinion": review.opinion,
        "by": f"{review.reviewer_name}({review.reviewer_organization}"
        + (f" · {review.reviewer_title}" if review.reviewer_title else "")
        + ")",
        "at": format_datetime(review.signed_at),
        "kind": review.get_kind_display(),
    }


def checklist_answers(review) -> list[dict]:
    """The six conditions as this review answered them (empty when it did not answer)."""
    answers = []
    for name, label in CHECKLIST:
        value = getattr(review, name)
        if value is not None:
            answers.append({"label": label, "met": value, "text": "符合" if value else "不符合"})
    return answers


def split_buttons(buttons: list[dict]) -> tuple[list[dict], list[dict]]:
    """Forward decisions first (primary), then refusals and returns (danger)."""
    primary = [b for b in buttons if b["name"] not in DANGER_TRANSITIONS]
    danger = [b for b in buttons if b["name"] in DANGER_TRANSITIONS]
    for button in primary:
        button["style"] = "primary"
    for button in danger:
        button["style"] = "danger"
    return primary, danger
