"""The summary report of a project (三(五) 结项及总结): written by the leader while the
project runs, under the project's lock, each save a signed event."""

from __future__ import annotations

from django.utils import timezone

from projects import permissions as perm
from projects.models import Project, State, SummaryReport
from projects.services import events
from projects.services.errors import WorkflowError
from projects.services.locking import locked_project
from projects.services.reports import ensure_allowed

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
    with locked_project(project) as locked:
        ensure_allowed(perm.may_write_summary, locked, actor, "填写该项目的总结报告")
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
        previous = SummaryReport.objects.filter(project=locked).values(*values).first()
        report, created = SummaryReport.objects.update_or_create(
            project=locked,
            defaults={**values, "author": actor, "submitted_at": timezone.now()},
        )
        changed = [name for name in values if previous is None or previous[name] != values[name]]
        events.record(
            actor=actor,
            action="summary_report_save",
            project=locked,
            subject="活动总结报告",
            data={
                "summary_report": report.pk,
                "created": created,
                "before": {name: previous[name] for name in changed} if previous else {},
                "after": {name: values[name] for name in changed},
            },
        )
        return report


__all__ = ["SUMMARY_FIELDS", "summary_report_save"]
