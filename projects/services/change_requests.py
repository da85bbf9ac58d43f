"""Change requests of a running project (三(三)4): submit, the project department's endorse
or turn-down, the leadership's approve (applied to the project) or reject.

Each step locks the project (`locking.locked_project`; the year's pool too for a budget
change), then the request row, checks, writes and records a signed event with the status
(and, on approval, the project's fields) before → after.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import IntegrityError
from django_fsm import can_proceed, has_transition_perm

from projects import permissions as perm
from projects.models import ChangeRequest, Project, State
from projects.money import to_money
from projects.services import events
from projects.services.errors import WorkflowError
from projects.services.locking import lock_pool, locked_project
from projects.services.reports import ensure_allowed, required_text

CHANGEABLE_STATES = (State.APPROVED, State.IN_PROGRESS)
CHANGE_FIELDS = ["new_content", "new_start_date", "new_end_date", "new_amount", "new_leader"]


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


def change_request_submit(*, project: Project, actor, kind: str, reason: str, **values):
    with locked_project(project) as locked:
        ensure_allowed(perm.may_request_change, locked, actor, "为该项目申请变更")
        errors = change_request_errors(locked, kind, values)
        if errors:
            raise WorkflowError(errors)
        if values.get("new_amount") not in (None, ""):
            values["new_amount"] = to_money(values["new_amount"])
        change = ChangeRequest.objects.create(
            project=locked,
            kind=kind,
            reason=required_text(reason, "变更理由"),
            requested_by=actor,
            new_content=(values.get("new_content") or "").strip(),
            **{name: values.get(name) for name in CHANGE_FIELDS if name != "new_content"},
        )
        events.record(
            actor=actor,
            action="change_request_submit",
            project=locked,
            opinion=change.reason,
            subject=f"{change.get_kind_display()}变更申请",
            data={
                "change_request": change.pk,
                "kind": change.kind,
                "before": {"status": ""},
                "after": {"status": change.status, "change": change.describe_change()},
            },
        )
        return change


def _change_step(locked: Project, change: ChangeRequest, name: str, actor, opinion: str):
    """Lock the request, check, run the FSM step on it (the project is already locked)."""
    change = ChangeRequest.objects.select_for_update().get(pk=change.pk)
    change.project = locked
    method = getattr(change, name)
    if locked.state not in CHANGEABLE_STATES:
        raise WorkflowError(f"项目当前状态为“{locked.get_state_display()}”,变更申请已不能再处理。")
    if not can_proceed(method):
        raise WorkflowError(f"该变更申请当前为“{change.get_status_display()}”,不能再作此操作。")
    if not has_transition_perm(method, actor):
        raise WorkflowError("您无权处理该变更申请。")
    method(actor=actor, opinion=required_text(opinion, "意见"))
    return change


def _decide(change: ChangeRequest, name: str, actor, opinion: str) -> ChangeRequest:
    """endorse / turn_down / reject: the request's status moves, the project does not."""
    with locked_project(change.project_id) as locked:
        before = change.status
        change = _change_step(locked, change, name, actor, opinion)
        change.save()
        events.record(
            actor=actor,
            action=f"change_request_{name}",
            project=locked,
            opinion=opinion.strip(),
            subject=f"{change.get_kind_display()}变更申请",
            data={
                "change_request": change.pk,
                "kind": change.kind,
                "before": {"status": before},
                "after": {"status": change.status},
            },
        )
        return change


def change_request_endorse(*, change: ChangeRequest, actor, opinion: str) -> ChangeRequest:
    return _decide(change, "endorse", actor, opinion)


def change_request_turn_down(*, change: ChangeRequest, actor, opinion: str) -> ChangeRequest:
    return _decide(change, "turn_down", actor, opinion)


def change_request_reject(*, change: ChangeRequest, actor, opinion: str) -> ChangeRequest:
    return _decide(change, "reject", actor, opinion)


def change_request_approve(*, change: ChangeRequest, actor, opinion: str) -> ChangeRequest:
    """Approve and apply the change to the project in one transaction, with its event."""
    budget = change.kind == ChangeRequest.Kind.BUDGET
    try:
        with locked_project(change.project_id, pool=budget) as project:
            status_before = change.status
            change = _change_step(project, change, "approve", actor, opinion)
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
                action="change_request_approve",
                opinion=change.decision_opinion,
                subject=f"{change.get_kind_display()}变更申请",
                data={
                    "change_request": change.pk,
                    "kind": change.kind,
                    "before": {"status": status_before, **before},
                    "after": {"status": change.status, **after},
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
        before = {"start_date": project.start_date, "end_date": project.end_date}
        project.start_date, project.end_date = change.new_start_date, change.new_end_date
        return before, {"start_date": project.start_date, "end_date": project.end_date}
    if change.kind == kind.LEADER:
        before = {"leader": project.leader_id}
        project.leader = change.new_leader
        return before, {"leader": project.leader_id}
    return _apply_budget_change(project, change)


def _apply_budget_change(project: Project, change: ChangeRequest) -> tuple[dict, dict]:
    # Same rule as `approve` (二(三)): within the grade's cap, the amount applied for and what
    # remains of the year's pool; the pool row is locked (locked_project(pool=True)) so two
    # changes cannot overdraw it.
    policy = lock_pool(project.year)
    amount = to_money(change.new_amount)
    errors = project.approval_errors(project.grade, amount, policy)
    if errors:
        raise WorkflowError(errors)
    before = {
        "approved_amount": project.approved_amount,
        "committed_amount": project.committed_amount,
    }
    project.approved_amount = amount
    project.committed_amount = amount
    return before, {"approved_amount": amount, "committed_amount": amount}


__all__ = [
    "CHANGEABLE_STATES",
    "CHANGE_FIELDS",
    "change_request_approve",
    "change_request_endorse",
    "change_request_errors",
    "change_request_reject",
    "change_request_submit",
    "change_request_turn_down",
]
