"""Creating a project and editing its application (三(二)1 项目申请报告).

A project's code is `<year>-<number>` (2026-0012), the number taken from a per-year counter
row under a row lock, so that any number of people creating applications at once each get
their own. The application is edited only in draft/returned (§5), under the project's lock,
and only its own fields are written.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from projects import permissions as perm
from projects.models import Project, ProjectCodeCounter
from projects.money import MAX_AMOUNT, format_cny
from projects.services import events
from projects.services.errors import WorkflowError
from projects.services.locking import locked_project

# The application's own fields (附表): the only ones the change form may write.
APPLICATION_FIELDS = (
    "title",
    "category",
    "allowed_use",
    "origin",
    "term",
    "start_date",
    "end_date",
    "leader",
    "participants",
    "proposed_grade",
    "leader_profile",
    "purpose",
    "content",
    "plan",
    "expected_outcome",
)


def _counter(year: int) -> ProjectCodeCounter:
    """The year's counter row, locked; created (once) from the numbers already given."""
    counter = ProjectCodeCounter.objects.select_for_update().filter(year=year).first()
    if counter is None:
        highest = Project.objects.filter(year=year).aggregate(top=Max("number"))["top"] or 0
        ProjectCodeCounter.objects.bulk_create(
            [ProjectCodeCounter(year=year, last_number=highest)], ignore_conflicts=True
        )
        counter = ProjectCodeCounter.objects.select_for_update().get(year=year)
    return counter


def project_number_take(year: int) -> int:
    """The next number of the year (inside a transaction)."""
    counter = _counter(year)
    counter.last_number += 1
    counter.save(update_fields=["last_number"])
    return counter.last_number


def project_number_reserve(year: int, number: int) -> None:
    """An imported project keeps its code: later numbers of that year come after it."""
    counter = _counter(year)
    if number > counter.last_number:
        counter.last_number = number
        counter.save(update_fields=["last_number"])


def project_code(year: int, number: int) -> str:
    return f"{year}-{number:04d}"


def project_create(*, actor, organization, leader, **fields: Any) -> Project:
    """Create a draft with the next code of its year (2026-0012), and its first event."""
    year = fields.pop("year", None) or timezone.localdate().year
    with transaction.atomic():
        number = project_number_take(year)
        project = Project(
            organization=organization,
            leader=leader,
            year=year,
            number=number,
            code=project_code(year, number),
            **fields,
        )
        project.save(force_insert=True)
        events.record(
            actor=actor,
            action="create",
            project=project,
            from_state="",
            data={"code": project.code, "title": project.title},
        )
    return project


def application_update(project: Project, *, actor, values: dict[str, Any]) -> Project:
    """Write the application's own fields, under the lock, if it may still be edited.

    Call inside the transaction that also saves the budget lines, then application_saved.
    """
    with locked_project(project) as locked:
        if not perm.may_edit_application(locked, actor):
            raise WorkflowError(
                f"项目当前状态为“{locked.get_state_display()}”,申请书已不能修改"
                "(只有草稿或退回修改的申请可以修改),未作任何更改。"
            )
        changed = [
            name
            for name in APPLICATION_FIELDS
            if name in values and getattr(locked, name) != values[name]
        ]
        if "leader" in changed and not perm.is_org_reviewer(locked, actor):
            raise WorkflowError("只有项目部可以更换项目负责人。")
        for name in changed:
            setattr(locked, name, values[name])
        if changed:
            locked.save(update_fields=[*changed, "updated_at"])
        locked._changed_fields = changed
        return locked


def application_saved(project: Project, *, actor, changed: list[str] | None = None) -> Project:
    """After the budget lines are saved: the requested amount is their sum (draft only),
    recomputed under the lock, and the edit is recorded."""
    with locked_project(project) as locked:
        if not perm.may_edit_application(locked, actor):
            raise WorkflowError("申请书已不能修改,未作任何更改。")
        before = locked.requested_amount
        total = locked.budget_total()
        if total > MAX_AMOUNT:
            raise WorkflowError(f"预算合计超过系统可记录的最大金额 {format_cny(MAX_AMOUNT)}。")
        if total != before:
            locked.requested_amount = total
            locked.save(update_fields=["requested_amount", "updated_at"])
        events.record(
            actor=actor,
            action="application_update",
            project=locked,
            data={
                "changed": list(changed or []),
                "requested_amount": {"before": str(before), "after": str(total)},
            },
        )
        return locked


def refresh_requested_amount(project: Project, *, actor) -> Project:
    """For the demo and imports: the requested amount after budget lines were written."""
    return application_saved(project, actor=actor)
