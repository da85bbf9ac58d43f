"""Running projects (三(三) 项目运作及监督, 三(五) 结项及总结): the services of the area.

Every change here is one atomic service that locks the project row first (and the year's
funding policy for a budget change), re-checks the rule's predicate from
projects/permissions.py and refuses a closed project, so that a report, a change or an upload
can never slip past the archive lock or a concurrent transition. Refusals are
`WorkflowError` with a Chinese sentence; nothing is changed then.
"""

from __future__ import annotations

import calendar
import datetime
import hashlib
import os
import zipfile
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import File
from django.db import IntegrityError, transaction
from django.db.models import (
    Count,
    ExpressionWrapper,
    F,
    IntegerField,
    OuterRef,
    Q,
    Subquery,
    Value,
)
from django.db.models.functions import Coalesce, ExtractDay, ExtractMonth, ExtractYear, Least
from django.utils import timezone
from django_fsm import can_proceed, has_transition_perm

from projects import permissions as perm
from projects.models import (
    ChangeRequest,
    Document,
    FundingPolicy,
    ProblemReport,
    ProgressReport,
    Project,
    State,
    SummaryReport,
)
from projects.models.choices import RUNNING_STATES
from projects.money import to_money
from projects.services import WorkflowError, events

# --- helpers -------------------------------------------------------------------------------


def _locked(project: Project) -> Project:
    """The project's row, locked for the rest of the transaction; refuses a closed one."""
    locked = Project.objects.select_for_update().get(pk=project.pk)
    if locked.state == State.CLOSED:
        raise WorkflowError("该项目已结项归档,所有内容均为只读,不能再作任何更改。")
    return locked


def _require(text: str | None, what: str) -> str:
    if not (text or "").strip():
        raise WorkflowError(f"请填写{what}。")
    return text.strip()


def _allow(predicate, project: Project, user, what: str) -> None:
    if not predicate(project, user):
        raise WorkflowError(f"您无权{what}。")


# --- the monthly obligation (三(一)5, 三(三)1) ------------------------------------------------


def month_start(day: datetime.date) -> datetime.date:
    return day.replace(day=1)


def add_months(day: datetime.date, months: int) -> datetime.date:
    """The same day `months` later, clamped to the month's last day (1-31 → 2-28)."""
    year, month = divmod(day.month - 1 + months, 12)
    year += day.year
    last = calendar.monthrange(year, month + 1)[1]
    return datetime.date(year, month + 1, min(day.day, last))


def owes_monthly_reports(start: datetime.date | None, end: datetime.date | None) -> bool:
    """三(一)5: 长期项目运作到一定阶段(如一个月)须通报进展: the planned period exceeds a month."""
    return bool(start and end and end > add_months(start, 1))


@dataclass
class MonthlyStatus:
    """Which months a project owes, has submitted, is due now and has let lapse."""

    owed: list[datetime.date] = field(default_factory=list)
    submitted: list[datetime.date] = field(default_factory=list)
    due: list[datetime.date] = field(default_factory=list)
    overdue: list[datetime.date] = field(default_factory=list)


def owed_months(project: Project, today: datetime.date) -> list[datetime.date]:
    """First days of the calendar months of the planned period up to this month.

    Only a running project owes reports; the report for a month is due during that month
    and overdue once the month is over.
    """
    if project.state not in RUNNING_STATES:
        return []
    if not owes_monthly_reports(project.start_date, project.end_date):
        return []
    months, month = [], month_start(project.start_date)
    last = month_start(min(project.end_date, today))
    while month <= last:
        months.append(month)
        month = add_months(month, 1)
    return months


def monthly_status(project: Project, today: datetime.date | None = None) -> MonthlyStatus:
    return monthly_status_for([project], today)[project.pk]


def monthly_status_for(projects, today: datetime.date | None = None) -> dict[int, MonthlyStatus]:
    """The status of many projects with one query for their reports (lists, panels)."""
    today = today or timezone.localdate()
    projects = list(projects)
    submitted: dict[int, set[datetime.date]] = {p.pk: set() for p in projects}
    running = [p.pk for p in projects if p.state in RUNNING_STATES]
    if running:
        rows = ProgressReport.objects.filter(project_id__in=running).values_list(
            "project_id", "month"
        )
        for project_id, month in rows:
            submitted[project_id].add(month)
    result = {}
    this_month = month_start(today)
    for project in projects:
        owed = owed_months(project, today)
        done = submitted[project.pk]
        result[project.pk] = MonthlyStatus(
            owed=owed,
            submitted=sorted(done),
            due=[m for m in owed if m not in done and m == this_month],
            overdue=[m for m in owed if m not in done and m < this_month],
        )
    return result


def _month_index(expression):
    return ExtractYear(expression) * 12 + ExtractMonth(expression)


def overdue_reports_queryset(queryset, today: datetime.date | None = None):
    """The projects of `queryset` with at least one overdue monthly report, decided in SQL.

    The same rule as owed_months/monthly_status_for, counted instead of listed, so a city's
    thousands of running projects are never loaded to find the few shown: a project is
    overdue when the months it owed before this month outnumber its reports for them.
    """
    today = today or timezone.localdate()
    this_month = month_start(today)
    start, end = F("start_date"), F("end_date")
    span = _month_index(end) - _month_index(start)
    filed = (
        ProgressReport.objects.filter(
            project=OuterRef("pk"), month__lt=this_month, month__lte=OuterRef("end_date")
        )
        .annotate(month_index=_month_index(F("month")))
        .filter(month_index__gte=OuterRef("start_index"))
        .order_by()
        .values("project")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return (
        queryset.filter(
            state__in=RUNNING_STATES,
            start_date__isnull=False,
            end_date__isnull=False,
            start_date__lt=this_month,
        )
        .annotate(
            start_index=_month_index(start),
            span=ExpressionWrapper(span, output_field=IntegerField()),
            owed_before_this_month=ExpressionWrapper(
                Least(_month_index(end), Value(_month_index_of(today) - 1))
                - _month_index(start)
                + 1,
                output_field=IntegerField(),
            ),
            filed_before_this_month=Coalesce(Subquery(filed, output_field=IntegerField()), 0),
        )
        # owes_monthly_reports: end > add_months(start, 1), the day clamped to the month.
        .filter(Q(span__gt=1) | Q(span=1, end_date__day__gt=ExtractDay(start)))
        .filter(owed_before_this_month__gt=F("filed_before_this_month"))
    )


def _month_index_of(day: datetime.date) -> int:
    return day.year * 12 + day.month


def projects_with_overdue_reports(
    queryset, today: datetime.date | None = None, *, limit: int | None = None
):
    """[(project, overdue months)] of the running projects in `queryset` (the first `limit`
    by code): two queries, however many projects are running."""
    today = today or timezone.localdate()
    candidates = (
        overdue_reports_queryset(queryset, today)
        .select_related("organization", "leader")
        .order_by("code")
    )
    candidates = list(candidates[:limit] if limit is not None else candidates)
    statuses = monthly_status_for(candidates, today)
    return [(p, statuses[p.pk].overdue) for p in candidates if statuses[p.pk].overdue]


# --- progress and problem reports (三(三)1, 3) -----------------------------------------------


def progress_report_errors(project: Project, month: datetime.date | None, today=None) -> list:
    """Row checks shared by the admin form and the service (no lock needed to read them)."""
    today = today or timezone.localdate()
    if month is None:
        return ["请选择报告月份。"]
    month = month_start(month)
    if project.state not in RUNNING_STATES:
        return [f"项目当前状态为“{project.get_state_display()}”,只有实施中的项目填报进展报告。"]
    if not (project.start_date and project.end_date) or not (
        month_start(project.start_date) <= month <= month_start(project.end_date)
    ):
        return [f"{month:%Y年%m月}不在项目实施期({project.start_date} 至 {project.end_date})内。"]
    if month > month_start(today):
        return [f"{month:%Y年%m月}尚未到来,不能提前填报。"]
    if ProgressReport.objects.filter(project=project, month=month).exists():
        return [f"{month:%Y年%m月}的进展报告已经提交过,同一月份只能提交一次。"]
    return []


def progress_report_submit(
    *,
    project: Project,
    actor,
    month: datetime.date,
    progress: str,
    problems: str = "",
    next_steps: str = "",
) -> ProgressReport:
    try:
        with transaction.atomic():
            locked = _locked(project)
            _allow(perm.may_report_progress, locked, actor, "为该项目填报进展报告")
            errors = progress_report_errors(locked, month)
            if errors:
                raise WorkflowError(errors)
            return ProgressReport.objects.create(
                project=locked,
                month=month_start(month),
                progress=_require(progress, "本月进展"),
                problems=(problems or "").strip(),
                next_steps=(next_steps or "").strip(),
                author=actor,
            )
    except IntegrityError as exc:  # a doubled post that raced past the check above
        raise WorkflowError(f"{month:%Y年%m月}的进展报告已经提交过。") from exc


def progress_report_read(*, report: ProgressReport, actor, comment: str = "") -> ProgressReport:
    """The org reviewer reads the report (signed and dated) and may comment."""
    with transaction.atomic():
        locked = _locked(report.project)
        _allow(perm.may_read_reports, locked, actor, "阅知该进展报告")
        report = ProgressReport.objects.select_for_update().get(pk=report.pk)
        if report.read_by_id is None:
            report.read_by, report.read_at = actor, timezone.now()
        report.org_comment = (comment or "").strip()
        report.save(update_fields=["read_by", "read_at", "org_comment"])
        return report


def problem_report_submit(*, project: Project, actor, description: str) -> ProblemReport:
    with transaction.atomic():
        locked = _locked(project)
        _allow(perm.may_report_progress, locked, actor, "为该项目上报问题")
        if locked.state not in (State.APPROVED, State.IN_PROGRESS, State.ACCEPTANCE):
            raise WorkflowError("只有已立项、实施中或待验收的项目可以上报问题。")
        return ProblemReport.objects.create(
            project=locked, description=_require(description, "问题描述"), author=actor
        )


def problem_report_forward(*, report: ProblemReport, actor, comment: str = "") -> ProblemReport:
    """三(三)3: 项目部要及时向地区项目化管理领导小组汇报."""
    with transaction.atomic():
        locked = _locked(report.project)
        _allow(perm.may_read_reports, locked, actor, "转报该问题")
        report = ProblemReport.objects.select_for_update().get(pk=report.pk)
        if report.forwarded_by_id:
            raise WorkflowError("该问题已经转报领导小组。")
        report.org_comment = (comment or "").strip()
        report.forwarded_by, report.forwarded_at = actor, timezone.now()
        report.save(update_fields=["org_comment", "forwarded_by", "forwarded_at"])
        return report


def problem_report_answer(*, report: ProblemReport, actor, answer: str) -> ProblemReport:
    with transaction.atomic():
        locked = _locked(report.project)
        _allow(perm.may_answer_problem, locked, actor, "答复该问题")
        report = ProblemReport.objects.select_for_update().get(pk=report.pk)
        if not report.forwarded_by_id:
            raise WorkflowError("该问题尚未由项目部转报领导小组。")
        if report.answered_by_id:
            raise WorkflowError("该问题已经答复过。")
        report.answer = _require(answer, "答复意见")
        report.answered_by, report.answered_at = actor, timezone.now()
        report.save(update_fields=["answer", "answered_by", "answered_at"])
        return report


# --- change requests (三(三)4) ----------------------------------------------------------------

CHANGEABLE_STATES = (State.APPROVED, State.IN_PROGRESS)


def change_request_errors(project: Project, kind: str, values: dict) -> list[str]:
    """What is wrong with a requested change (checked at submission and again on approval)."""
    if project.state not in CHANGEABLE_STATES:
        return [
            f"项目当前状态为“{project.get_state_display()}”,只有已立项或实施中的项目可以申请变更。"
        ]
    kind_ = ChangeRequest.Kind
    if kind == kind_.CONTENT and not (values.get("new_content") or "").strip():
        return ["请填写变更后的活动内容。"]
    if kind == kind_.SCHEDULE:
        start, end = values.get("new_start_date"), values.get("new_end_date")
        if not (start and end):
            return ["请填写变更后的开始和结束日期。"]
        if end < start:
            return ["变更后的结束日期不得早于开始日期。"]
    if kind == kind_.BUDGET and values.get("new_amount") in (None, ""):
        return ["请填写变更后的核定金额。"]
    if kind == kind_.LEADER:
        leader = values.get("new_leader")
        if leader is None:
            return ["请选择变更后的项目负责人。"]
        if leader.organization_id != project.organization_id or not leader.is_active:
            return ["新的项目负责人须是本组织的在职人员。"]
        if leader.pk == project.leader_id:
            return ["新的项目负责人与原负责人相同。"]
    if kind not in kind_.values:
        return ["请选择变更类型。"]
    return []


CHANGE_FIELDS = ["new_content", "new_start_date", "new_end_date", "new_amount", "new_leader"]


def change_request_submit(*, project: Project, actor, kind: str, reason: str, **values):
    with transaction.atomic():
        locked = _locked(project)
        _allow(perm.may_request_change, locked, actor, "为该项目申请变更")
        errors = change_request_errors(locked, kind, values)
        if errors:
            raise WorkflowError(errors)
        if values.get("new_amount") not in (None, ""):
            values["new_amount"] = to_money(values["new_amount"])
        return ChangeRequest.objects.create(
            project=locked,
            kind=kind,
            reason=_require(reason, "变更理由"),
            requested_by=actor,
            new_content=(values.get("new_content") or "").strip(),
            **{name: values.get(name) for name in CHANGE_FIELDS if name != "new_content"},
        )


def _change_step(change: ChangeRequest, name: str, actor, opinion: str, *, required: bool):
    """Lock the project and the request, check, run the FSM step; returns both, locked."""
    locked = _locked(change.project)
    change = ChangeRequest.objects.select_for_update().get(pk=change.pk)
    change.project = locked
    method = getattr(change, name)
    if locked.state not in CHANGEABLE_STATES:
        raise WorkflowError(f"项目当前状态为“{locked.get_state_display()}”,变更申请已不能再处理。")
    if not can_proceed(method):
        raise WorkflowError(f"该变更申请当前为“{change.get_status_display()}”,不能再作此操作。")
    if not has_transition_perm(method, actor):
        raise WorkflowError("您无权处理该变更申请。")
    opinion = _require(opinion, "意见") if required else (opinion or "").strip()
    method(actor=actor, opinion=opinion)
    return locked, change


def change_request_endorse(*, change: ChangeRequest, actor, opinion: str) -> ChangeRequest:
    with transaction.atomic():
        _locked_project, change = _change_step(change, "endorse", actor, opinion, required=True)
        change.save()
        return change


def change_request_turn_down(*, change: ChangeRequest, actor, opinion: str) -> ChangeRequest:
    with transaction.atomic():
        _locked_project, change = _change_step(change, "turn_down", actor, opinion, required=True)
        change.save()
        return change


def change_request_reject(*, change: ChangeRequest, actor, opinion: str) -> ChangeRequest:
    with transaction.atomic():
        _locked_project, change = _change_step(change, "reject", actor, opinion, required=True)
        change.save()
        return change


def change_request_approve(*, change: ChangeRequest, actor, opinion: str) -> ChangeRequest:
    """Approve and apply the change to the project in one transaction, with a history row."""
    try:
        with transaction.atomic():
            project, change = _change_step(change, "approve", actor, opinion, required=True)
            values = {name: getattr(change, name) for name in CHANGE_FIELDS}
            errors = change_request_errors(project, change.kind, values)
            if errors:
                raise WorkflowError(errors)
            before, after = _apply_change(project, change)
            project.save()
            change.save()
            events.record(
                project=project,
                actor=actor,
                action="change_request",
                opinion=change.decision_opinion,
                data={
                    "change_request": change.pk,
                    "kind": change.kind,
                    "before": before,
                    "after": after,
                },
            )
            return change
    except ValidationError as exc:
        raise WorkflowError(exc.messages) from exc
    except IntegrityError as exc:
        raise WorkflowError("数据库拒绝了这次变更(违反约束),未作任何更改。") from exc


def _apply_change(project: Project, change: ChangeRequest) -> tuple[dict, dict]:
    kind = ChangeRequest.Kind
    if change.kind == kind.CONTENT:
        before = {"content": project.content}
        project.content = change.new_content
        return before, {"content": project.content}
    if change.kind == kind.SCHEDULE:
        before = {"start_date": str(project.start_date), "end_date": str(project.end_date)}
        project.start_date, project.end_date = change.new_start_date, change.new_end_date
        return before, {"start_date": str(project.start_date), "end_date": str(project.end_date)}
    if change.kind == kind.LEADER:
        before = {"leader": project.leader_id}
        project.leader = change.new_leader
        return before, {"leader": project.leader_id}
    return _apply_budget_change(project, change)


def _apply_budget_change(project: Project, change: ChangeRequest) -> tuple[dict, dict]:
    # Same rule as `approve` (二(三)): within the grade's cap, the amount applied for and what
    # remains of the year's pool; the pool row is locked so two changes cannot overdraw it.
    policy = FundingPolicy.objects.select_for_update().filter(year=project.year).first()
    amount = to_money(change.new_amount)
    errors = project.approval_errors(project.grade, amount, policy)
    if errors:
        raise WorkflowError(errors)
    before = {"approved_amount": str(project.approved_amount)}
    project.approved_amount = amount
    project.committed_amount = amount
    return before, {"approved_amount": str(amount)}


# --- summary report (三(五)) ----------------------------------------------------------------

SUMMARY_FIELDS = [
    ("goals", "活动预定目标"),
    ("conduct", "活动开展情况总结"),
    ("self_assessment", "组织者自我评定"),
    ("lessons", "组织者经验教训"),
    ("participant_feedback", "参与者心得体会"),
    ("effect", "活动达到的效果"),
]


def summary_report_save(*, project: Project, actor, **sections: str) -> SummaryReport:
    """The leader writes (or rewrites, until the org sends it to acceptance) the summary."""
    with transaction.atomic():
        locked = _locked(project)
        _allow(perm.may_write_summary, locked, actor, "填写该项目的总结报告")
        if locked.state != State.IN_PROGRESS:
            raise WorkflowError(
                f"项目当前状态为“{locked.get_state_display()}”,只有实施中的项目可以填写总结报告。"
            )
        missing = [
            label for name, label in SUMMARY_FIELDS if not (sections.get(name) or "").strip()
        ]
        if missing:
            raise WorkflowError(f"请填写:{'、'.join(missing)}。")
        values = {name: sections[name].strip() for name, _ in SUMMARY_FIELDS}
        report, _created = SummaryReport.objects.update_or_create(
            project=locked,
            defaults={**values, "author": actor, "submitted_at": timezone.now()},
        )
        return report


# --- documents ------------------------------------------------------------------------------

# type → (content type, accepted name endings)
DOCUMENT_TYPES = {
    "pdf": ("application/pdf", (".pdf",)),
    "png": ("image/png", (".png",)),
    "jpg": ("image/jpeg", (".jpg", ".jpeg")),
    "xlsx": (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        (".xlsx",),
    ),
    "docx": (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        (".docx",),
    ),
}
ALLOWED_TEXT = "PDF、JPG、PNG、XLSX、DOCX"


def max_document_bytes() -> int:
    return getattr(settings, "DOCUMENT_MAX_BYTES", 20 * 1024 * 1024)


def sniff_document(uploaded) -> str | None:
    """The file's real type from its content (magic bytes; OOXML by its inner parts)."""
    uploaded.seek(0)
    head = uploaded.read(8)
    uploaded.seek(0)
    if head.startswith(b"%PDF-"):
        return "pdf"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpg"
    if head.startswith(b"PK\x03\x04"):
        return _sniff_ooxml(uploaded)
    return None


def _sniff_ooxml(uploaded) -> str | None:
    try:
        with zipfile.ZipFile(uploaded) as archive:
            names = set(archive.namelist())
            types = archive.read("[Content_Types].xml") if "[Content_Types].xml" in names else b""
    except (zipfile.BadZipFile, KeyError, OSError, RuntimeError):
        return None
    finally:
        uploaded.seek(0)
    if b"wordprocessingml.document.main+xml" in types and "word/document.xml" in names:
        return "docx"
    if b"spreadsheetml.sheet.main+xml" in types and "xl/workbook.xml" in names:
        return "xlsx"
    return None


def safe_filename(name: str) -> str:
    """The bare file name, without path parts or control characters (shown and downloaded)."""
    name = os.path.basename((name or "").replace("\\", "/"))
    name = "".join(ch for ch in name if ch.isprintable() and ch not in '"<>|:*?')
    return name.strip()[:200] or "附件"


def document_errors(uploaded) -> list[str]:
    if uploaded is None:
        return ["请选择要上传的文件。"]
    limit = max_document_bytes()
    if uploaded.size > limit:
        return [f"文件过大:上限为 {limit // (1024 * 1024)} MB。"]
    if uploaded.size == 0:
        return ["文件为空。"]
    kind = sniff_document(uploaded)
    if kind is None:
        return [f"文件内容不是允许的类型({ALLOWED_TEXT}),不能上传。"]
    if not safe_filename(uploaded.name).lower().endswith(DOCUMENT_TYPES[kind][1]):
        return [f"文件名的扩展名与文件内容({kind.upper()})不符,不能上传。"]
    return []


def document_upload(
    *, project: Project, actor, uploaded, kind: str = Document.Kind.OTHER, description: str = ""
) -> Document:
    errors = document_errors(uploaded)
    if errors:
        raise WorkflowError(errors)
    if kind not in Document.Kind.values:
        raise WorkflowError("请选择附件类别。")
    digest = hashlib.sha256()
    for chunk in uploaded.chunks():
        digest.update(chunk)
    uploaded.seek(0)
    with transaction.atomic():
        locked = _locked(project)
        _allow(perm.may_upload_document, locked, actor, "为该项目上传附件")
        document = Document(
            project=locked,
            kind=kind,
            original_name=safe_filename(uploaded.name),
            content_type=DOCUMENT_TYPES[sniff_document(uploaded)][0],
            size=uploaded.size,
            sha256=digest.hexdigest(),
            description=(description or "").strip()[:200],
            uploaded_by=actor,
        )
        # Stored under a random name through the default storage (document_path).
        document.file.save(uploaded.name, File(uploaded), save=False)
        try:
            document.save(force_insert=True)
        except Exception:
            document.file.delete(save=False)
            raise
        return document


# --- the archive package (三(五) 归档) --------------------------------------------------------


def _fmt_dt(value) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else ""


def _block(title: str, pairs) -> str:
    lines = [f"【{title}】"]
    for label, value in pairs:
        lines.append(f"{label}:{'' if value is None else value}")
    return "\n".join(lines) + "\n"


def _application_text(project: Project) -> str:
    from projects.money import format_cny

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
            ("活动时间", f"{project.start_date} 至 {project.end_date}"),
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
    from projects.models.choices import CHECKLIST

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
                    ("签署时间", _fmt_dt(review.signed_at)),
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
        rows.append(
            f"#{row.seq} {_fmt_dt(row.created_at)} {row.transition} "
            f"{row.get_from_state_display() or '—'} → {row.get_to_state_display()} "
            f"{row.actor_name}({row.actor_organization} {row.actor_title})"
            f" 意见:{row.opinion} 决定:{row.data} 校验值:{row.digest}"
        )
    return "\n".join(rows) + "\n"


def _reports_text(project: Project) -> str:
    parts = []
    for report in project.progress_reports.select_related("author", "read_by"):
        parts.append(
            _block(
                f"{report.month:%Y年%m月}进展报告",
                [
                    ("填报人", report.author.display_name),
                    ("提交时间", _fmt_dt(report.submitted_at)),
                    ("本月进展", report.progress),
                    ("存在问题", report.problems),
                    ("下月计划", report.next_steps),
                    ("阅知人", report.read_by.display_name if report.read_by_id else "未阅"),
                    ("阅知时间", _fmt_dt(report.read_at)),
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
                    ("上报时间", _fmt_dt(problem.submitted_at)),
                    ("问题描述", problem.description),
                    (
                        "转报人",
                        problem.forwarded_by.display_name if problem.forwarded_by_id else "",
                    ),
                    ("项目部意见", problem.org_comment),
                    ("答复人", problem.answered_by.display_name if problem.answered_by_id else ""),
                    ("答复时间", _fmt_dt(problem.answered_at)),
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
                    ("申请时间", _fmt_dt(change.requested_at)),
                    ("变更内容", change.describe_change()),
                    ("变更理由", change.reason),
                    ("项目部意见", change.org_opinion),
                    ("项目部签署", change.org_by.display_name if change.org_by_id else ""),
                    ("领导小组意见", change.decision_opinion),
                    ("决定人", change.decided_by.display_name if change.decided_by_id else ""),
                    ("决定时间", _fmt_dt(change.decided_at)),
                ],
            )
        )
    return "\n".join(parts) or "(无)\n"


def _summary_text(project: Project) -> str:
    summary = SummaryReport.objects.filter(project=project).select_related("author").first()
    if summary is None:
        return "(无)\n"
    pairs = [(label, getattr(summary, name)) for name, label in SUMMARY_FIELDS]
    pairs += [("填报人", summary.author.display_name), ("提交时间", _fmt_dt(summary.submitted_at))]
    return _block("活动总结报告", pairs)


def archive_entries(project: Project) -> list[str]:
    """The names the archive holds (used by the view's tests and the package itself)."""
    return [name for name, _ in _archive_texts(project)] + [
        _document_entry(doc) for doc in project.documents.all()
    ]


def _archive_texts(project: Project):
    return [
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
        for name, build in _archive_texts(project):
            archive.writestr(name, build(project).encode("utf-8"))
        for document in project.documents.all():
            with (
                document.file.open("rb") as source,
                archive.open(_document_entry(document), "w") as sink,
            ):
                for chunk in iter(lambda source=source: source.read(1024 * 1024), b""):
                    sink.write(chunk)


__all__ = [
    "archive_write",
    "MonthlyStatus",
    "change_request_approve",
    "change_request_endorse",
    "change_request_reject",
    "change_request_submit",
    "change_request_turn_down",
    "document_upload",
    "monthly_status",
    "monthly_status_for",
    "problem_report_answer",
    "problem_report_forward",
    "problem_report_submit",
    "progress_report_read",
    "progress_report_submit",
    "overdue_reports_queryset",
    "projects_with_overdue_reports",
    "summary_report_save",
]
