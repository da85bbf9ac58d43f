"""The project's archive package (三(五) 归档): one zip with the application, the signed
reviews, the history, the reports and changes, the summary and the attached documents.

Every time in it is Beijing time, every label Chinese. `archive_write(project, target)` is
the public entry (the download view); keep its name stable.
"""

from __future__ import annotations

import datetime
import zipfile
from decimal import Decimal

from projects.dates import format_date, format_datetime, format_month
from projects.models import Document, Project, State, SummaryReport
from projects.models.choices import CHECKLIST, AcceptanceConclusion, Grade
from projects.money import format_cny
from projects.services.documents import safe_filename
from projects.services.summaries import SUMMARY_FIELDS
from projects.services.transitions import TRANSITIONS, transition_label

# Events that are not a step of the state machine (those are labelled by transition_label).
EVENT_LABELS = {
    "create": "创建项目",
    "application_update": "修改申请书",
    "import": "历史数据导入",
    "invoice_add": "录入发票",
    "invoice_update": "修改发票",
    "invoice_check": "审核发票",
    "invoice_recheck": "发票改判",
    "invoice_import": "批量导入发票",
    "final_accounts_save": "保存决算清单",
    "disbursement_record": "登记拨付",
    "disbursement_reverse": "冲销拨付",
    "progress_report_submit": "提交月度进展报告",
    "progress_report_read": "阅知进展报告",
    "problem_report_submit": "上报问题",
    "problem_report_forward": "转报问题",
    "problem_report_answer": "答复问题",
    "change_request_submit": "提出变更申请",
    "change_request_endorse": "项目部同意变更申请并上报",
    "change_request_turn_down": "项目部不同意变更申请",
    "change_request_approve": "领导小组批准变更",
    "change_request_reject": "领导小组不批准变更",
    "summary_report_save": "填写活动总结报告",
    "document_upload": "上传附件",
}

# Names of the values an event records, as a person reads them.
VALUE_LABELS = {
    "status": "状态",
    "content": "活动内容",
    "start_date": "开始日期",
    "end_date": "结束日期",
    "leader": "项目负责人",
    "approved_amount": "核定金额",
    "committed_amount": "占用额度",
    "requested_amount": "申请金额",
    "payable_limit": "可拨付上限",
    "settlement_amount": "结算金额",
    "loss_amount": "损失金额",
    "grade": "核定等级",
    "first_review_deadline": "初审期限",
    "conclusion": "验收结论",
    "is_commended": "优秀项目",
    "voucher_number": "凭证号",
    "month": "报告月份",
    "org_comment": "项目部意见",
    "answer": "答复",
    "name": "文件名",
    "size": "大小(字节)",
    "sha256": "SHA-256",
    "kind": "类别",
    "change": "变更内容",
    "description": "描述",
}
HIDDEN_VALUES = {"snapshot", "before", "after"}


def event_label(action: str) -> str:
    if action in TRANSITIONS:
        return transition_label(action)
    return EVENT_LABELS.get(action, action)


def _state_label(value: str) -> str:
    return State(value).label if value in State.values else (value or "—")


MONEY_VALUES = {
    "approved_amount",
    "committed_amount",
    "requested_amount",
    "payable_limit",
    "settlement_amount",
    "loss_amount",
    "amount",
}
DATE_VALUES = {"start_date", "end_date", "first_review_deadline", "month"}
CHOICE_VALUES = {"conclusion": AcceptanceConclusion, "grade": Grade}


def _value_text(key: str, value) -> str:
    if value is None or value == "":
        return "—"
    if value is True:
        return "是"
    if value is False:
        return "否"
    try:
        if key in MONEY_VALUES:
            return format_cny(Decimal(str(value)))
        if key in DATE_VALUES:
            day = datetime.date.fromisoformat(str(value))
            return format_month(day) if key == "month" else format_date(day)
        if key in CHOICE_VALUES:
            return str(CHOICE_VALUES[key](value).label)
    except (ValueError, ArithmeticError):
        pass
    return str(value)


def _decided_text(data: dict | None) -> str:
    """What an event decided, readable: 核定金额 ¥0.00 → ¥5,000.00; 凭证号 X."""
    data = data or {}
    parts = []
    before, after = data.get("before") or {}, data.get("after") or {}
    for key in [*before, *(k for k in after if k not in before)]:
        label = VALUE_LABELS.get(key, key)
        old, new = before.get(key), after.get(key)
        if key == "status":
            continue  # shown by the event's label
        parts.append(f"{label}:{_value_text(key, old)} → {_value_text(key, new)}")
    for key, value in data.items():
        if key in HIDDEN_VALUES or key.endswith(("_report", "_request")) or key == "document":
            continue
        if isinstance(value, dict | list):
            continue
        parts.append(f"{VALUE_LABELS.get(key, key)}:{_value_text(key, value)}")
    return ";".join(parts)


def _block(title: str, pairs) -> str:
    lines = [f"【{title}】"]
    for label, value in pairs:
        lines.append(f"{label}:{'' if value is None else value}")
    return "\n".join(lines) + "\n"


def _when(value) -> str:
    return format_datetime(value) if value else ""


def _application_text(project: Project) -> str:
    head = _block(
        "项目申请书",
        [
            ("项目编号", project.code),
            ("项目名称", project.title),
            ("申报组织", project.organization),
            ("项目负责人", project.leader.display_name),
            ("立项支持类型", project.get_category_display()),
            ("党费使用范围", project.get_allowed_use_display()),
            ("项目来源", project.get_origin_display()),
            ("项目周期", project.get_term_display()),
            ("活动时间", f"{format_date(project.start_date)} 至 {format_date(project.end_date)}"),
            ("申报等级", project.get_proposed_grade_display()),
            ("核定等级", project.get_grade_display() if project.grade else ""),
            ("申请金额", format_cny(project.requested_amount)),
            ("核定金额", format_cny(project.approved_amount)),
            ("结算金额", format_cny(project.settlement_amount)),
            ("状态", project.get_state_display()),
            ("优秀项目", "是" if project.is_commended else "否"),
            ("负责人简介", project.leader_profile),
            ("活动目的", project.purpose),
            ("活动内容", project.content),
            ("活动计划", project.plan),
            ("预期目标", project.expected_outcome),
        ],
    )
    lines = ["", "【预算明细】"]
    for line in project.budget_lines.all():
        lines.append(
            f"{line.get_item_display()} | {line.description} | {line.quantity} × "
            f"{format_cny(line.unit_price)} = {format_cny(line.amount)}"
            f" | 实际支出 {format_cny(line.actual_amount)}"
        )
    return head + "\n".join(lines) + "\n"


def _reviews_text(project: Project) -> str:
    parts = []
    for review in project.reviews.all():
        checks = [
            f"{label}:{'是' if getattr(review, name) else '否'}"
            for name, label in CHECKLIST
            if getattr(review, name) is not None
        ]
        parts.append(
            _block(
                f"{review.get_kind_display()} · {review.get_decision_display()}",
                [
                    ("签名", review.reviewer_name),
                    ("所在组织", review.reviewer_organization),
                    ("职务", review.reviewer_title),
                    ("角色", review.reviewer_role),
                    ("签署时间", _when(review.signed_at)),
                    ("验收结论", review.get_conclusion_display() if review.conclusion else ""),
                    ("意见", review.opinion),
                    ("六项条件", ";".join(checks)),
                ],
            )
        )
    return "\n".join(parts) or "(无)\n"


def _history_text(project: Project) -> str:
    rows = []
    for row in project.history.all().order_by("seq"):
        line = (
            f"第{row.seq}条 {_when(row.created_at)} {event_label(row.transition)}"
            f"{'(' + row.subject + ')' if row.subject else ''}:"
            f"{_state_label(row.from_state)} → {_state_label(row.to_state)};"
            f"签署人 {row.actor_name}({row.actor_organization}"
            f"{' · ' + row.actor_title if row.actor_title else ''}"
            f"{',' + row.actor_roles if row.actor_roles else ''})"
        )
        if row.opinion:
            line += f";意见:{row.opinion}"
        decided = _decided_text(row.data)
        if decided:
            line += f";内容:{decided}"
        rows.append(f"{line};校验值:{row.digest}")
    return "\n".join(rows) + "\n"


def _reports_text(project: Project) -> str:
    parts = []
    for report in project.progress_reports.select_related("author", "read_by"):
        parts.append(
            _block(
                f"{format_month(report.month)}进展报告",
                [
                    ("填报人", report.author.display_name),
                    ("提交时间", _when(report.submitted_at)),
                    ("本月进展", report.progress),
                    ("存在问题", report.problems),
                    ("下月计划", report.next_steps),
                    ("阅知人", report.read_by.display_name if report.read_by_id else "未阅"),
                    ("阅知时间", _when(report.read_at)),
                    ("项目部意见", report.org_comment),
                ],
            )
        )
    for problem in project.problem_reports.select_related("author", "forwarded_by", "answered_by"):
        parts.append(
            _block(
                "问题上报",
                [
                    ("上报人", problem.author.display_name),
                    ("上报时间", _when(problem.submitted_at)),
                    ("问题描述", problem.description),
                    (
                        "转报人",
                        problem.forwarded_by.display_name if problem.forwarded_by_id else "",
                    ),
                    ("项目部意见", problem.org_comment),
                    ("答复人", problem.answered_by.display_name if problem.answered_by_id else ""),
                    ("答复时间", _when(problem.answered_at)),
                    ("领导小组答复", problem.answer),
                ],
            )
        )
    for change in project.change_requests.select_related(
        "requested_by", "org_by", "decided_by", "new_leader"
    ):
        parts.append(
            _block(
                f"变更申请 · {change.get_kind_display()} · {change.get_status_display()}",
                [
                    ("申请人", change.requested_by.display_name),
                    ("申请时间", _when(change.requested_at)),
                    ("变更内容", change.describe_change()),
                    ("变更理由", change.reason),
                    ("项目部意见", change.org_opinion),
                    ("项目部签署", change.org_by.display_name if change.org_by_id else ""),
                    ("项目部签署时间", _when(change.org_at)),
                    ("领导小组意见", change.decision_opinion),
                    ("决定人", change.decided_by.display_name if change.decided_by_id else ""),
                    ("决定时间", _when(change.decided_at)),
                ],
            )
        )
    return "\n".join(parts) or "(无)\n"


def _summary_text(project: Project) -> str:
    summary = SummaryReport.objects.filter(project=project).select_related("author").first()
    if summary is None:
        return "(无)\n"
    pairs = [(label, getattr(summary, name)) for name, label in SUMMARY_FIELDS]
    pairs += [("填报人", summary.author.display_name), ("提交时间", _when(summary.submitted_at))]
    return _block("活动总结报告", pairs)


ARCHIVE_TEXTS = [
    ("01-项目申请书.txt", _application_text),
    ("02-审核与决定.txt", _reviews_text),
    ("03-项目历史.txt", _history_text),
    ("04-进展报告、问题上报与变更申请.txt", _reports_text),
    ("05-活动总结报告.txt", _summary_text),
]


def _document_entry(document: Document) -> str:
    return f"附件/{document.pk}-{safe_filename(document.original_name)}"


def archive_write(project: Project, target) -> None:
    """Write the project's archive package (a zip) into the binary file `target`."""
    project = Project.objects.select_related("organization", "leader").get(pk=project.pk)
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, build in ARCHIVE_TEXTS:
            archive.writestr(name, build(project).encode("utf-8"))
        for document in project.documents.all():
            with (
                document.file.open("rb") as source,
                archive.open(_document_entry(document), "w") as sink,
            ):
                for chunk in iter(lambda source=source: source.read(1024 * 1024), b""):
                    sink.write(chunk)


__all__ = ["archive_write", "event_label"]
