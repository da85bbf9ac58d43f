"""Progress and problem reports of a running project (三(三)1, 3).

Each write locks the project (`locking.locked_project`, which refuses a closed project),
re-checks the rule's predicate from projects/permissions.py, writes, and records a signed
event (`events.record`) in the same transaction. Refusals are `WorkflowError` in Chinese.
"""

from __future__ import annotations

import datetime

from django.db import IntegrityError
from django.utils import timezone

from projects import permissions as perm
from projects.dates import format_date, format_month
from projects.models import ProblemReport, ProgressReport, Project, State
from projects.models.choices import RUNNING_STATES
from projects.selectors.obligations import month_start
from projects.services import events
from projects.services.errors import WorkflowError
from projects.services.locking import locked_project

PROBLEM_STATES = (State.APPROVED, State.IN_PROGRESS, State.ACCEPTANCE)


def required_text(text: str | None, what: str) -> str:
    """The stripped text, or a refusal naming what is missing."""
    if not (text or "").strip():
        raise WorkflowError(f"请填写{what}。")
    return text.strip()


def ensure_allowed(predicate, project: Project, user, what: str) -> None:
    if not predicate(project, user):
        raise WorkflowError(f"您无权{what}。")


# --- progress reports ----------------------------------------------------------------------


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
        return [f"{format_month(month)}不在项目实施期({format_date_range(project)})内。"]
    if month > month_start(today):
        return [f"{format_month(month)}尚未到来,不能提前填报。"]
    if ProgressReport.objects.filter(project=project, month=month).exists():
        return [f"{format_month(month)}的进展报告已经提交过,同一月份只能提交一次。"]
    return []


def format_date_range(project: Project) -> str:
    return f"{format_date(project.start_date)} 至 {format_date(project.end_date)}"


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
        with locked_project(project) as locked:
            ensure_allowed(perm.may_report_progress, locked, actor, "为该项目填报进展报告")
            errors = progress_report_errors(locked, month)
            if errors:
                raise WorkflowError(errors)
            report = ProgressReport.objects.create(
                project=locked,
                month=month_start(month),
                progress=required_text(progress, "本月进展"),
                problems=(problems or "").strip(),
                next_steps=(next_steps or "").strip(),
                author=actor,
            )
            events.record(
                actor=actor,
                action="progress_report_submit",
                project=locked,
                subject=f"{format_month(report.month)}进展报告",
                data={"progress_report": report.pk, "month": report.month},
            )
            return report
    except IntegrityError as exc:  # a doubled post that raced past the check above
        raise WorkflowError(f"{format_month(month_start(month))}的进展报告已经提交过。") from exc


def progress_report_read(*, report: ProgressReport, actor, comment: str = "") -> ProgressReport:
    """The org reviewer reads the report (signed and dated) and may comment."""
    with locked_project(report.project_id) as locked:
        ensure_allowed(perm.may_read_reports, locked, actor, "阅知该进展报告")
        report = ProgressReport.objects.select_for_update().get(pk=report.pk)
        before = {"read_by": report.read_by_id, "org_comment": report.org_comment}
        if report.read_by_id is None:
            report.read_by, report.read_at = actor, timezone.now()
        report.org_comment = (comment or "").strip()
        report.save(update_fields=["read_by", "read_at", "org_comment"])
        events.record(
            actor=actor,
            action="progress_report_read",
            project=locked,
            opinion=report.org_comment,
            subject=f"{format_month(report.month)}进展报告",
            data={
                "progress_report": report.pk,
                "before": before,
                "after": {"read_by": report.read_by_id, "org_comment": report.org_comment},
            },
        )
        return report


# --- problem reports -----------------------------------------------------------------------


def problem_report_submit(*, project: Project, actor, description: str) -> ProblemReport:
    with locked_project(project) as locked:
        ensure_allowed(perm.may_report_progress, locked, actor, "为该项目上报问题")
        if locked.state not in PROBLEM_STATES:
            raise WorkflowError("只有已立项、实施中或待验收的项目可以上报问题。")
        report = ProblemReport.objects.create(
            project=locked, description=required_text(description, "问题描述"), author=actor
        )
        events.record(
            actor=actor,
            action="problem_report_submit",
            project=locked,
            subject="问题上报",
            data={"problem_report": report.pk, "description": report.description},
        )
        return report


def problem_report_forward(*, report: ProblemReport, actor, comment: str = "") -> ProblemReport:
    """三(三)3: 项目部要及时向地区项目化管理领导小组汇报."""
    with locked_project(report.project_id) as locked:
        ensure_allowed(perm.may_read_reports, locked, actor, "转报该问题")
        report = ProblemReport.objects.select_for_update().get(pk=report.pk)
        if report.forwarded_by_id:
            raise WorkflowError("该问题已经转报领导小组。")
        report.org_comment = (comment or "").strip()
        report.forwarded_by, report.forwarded_at = actor, timezone.now()
        report.save(update_fields=["org_comment", "forwarded_by", "forwarded_at"])
        events.record(
            actor=actor,
            action="problem_report_forward",
            project=locked,
            opinion=report.org_comment,
            subject="问题上报",
            data={
                "problem_report": report.pk,
                "before": {"forwarded": False},
                "after": {"forwarded": True, "org_comment": report.org_comment},
            },
        )
        return report


def problem_report_answer(*, report: ProblemReport, actor, answer: str) -> ProblemReport:
    with locked_project(report.project_id) as locked:
        ensure_allowed(perm.may_answer_problem, locked, actor, "答复该问题")
        report = ProblemReport.objects.select_for_update().get(pk=report.pk)
        if not report.forwarded_by_id:
            raise WorkflowError("该问题尚未由项目部转报领导小组。")
        if report.answered_by_id:
            raise WorkflowError("该问题已经答复过。")
        report.answer = required_text(answer, "答复意见")
        report.answered_by, report.answered_at = actor, timezone.now()
        report.save(update_fields=["answer", "answered_by", "answered_at"])
        events.record(
            actor=actor,
            action="problem_report_answer",
            project=locked,
            opinion=report.answer,
            subject="问题上报",
            data={
                "problem_report": report.pk,
                "before": {"answer": ""},
                "after": {"answer": report.answer},
            },
        )
        return report


__all__ = [
    "ensure_allowed",
    "problem_report_answer",
    "problem_report_forward",
    "problem_report_submit",
    "progress_report_errors",
    "progress_report_read",
    "progress_report_submit",
    "required_text",
]
