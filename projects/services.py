"""The one code path for every change of state or money (STYLE.md "Where things live").

apply_transition opens a transaction, locks the project row (and the year's funding policy
when the pool is touched), re-checks the state, the user's permission and the conditions,
runs the transition, saves, writes the signed review and the chained history row, and
schedules notifications after the commit. Admin buttons, imports and commands all call it.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models.functions import Length
from django.utils import timezone
from django_fsm import can_proceed

from accounts.roles import role_labels
from projects.history import compute_digest
from projects.models import FundingPolicy, Project, ProjectHistory, Review, State
from projects.models.choices import CHECKLIST_FIELDS
from projects.money import to_money


class WorkflowError(Exception):
    """A refused request, with the Chinese sentence to show the user. Nothing was changed."""

    def __init__(self, message: str | list[str]):
        self.messages = [message] if isinstance(message, str) else list(message)
        super().__init__("；".join(self.messages))


# Transitions a user may ask for by name (the contract list of DESIGN.md §3).
TRANSITIONS = [
    "submit",
    "withdraw",
    "org_approve",
    "org_return",
    "org_reject",
    "approve",
    "leadership_return",
    "reject",
    "start",
    "finish",
    "rectify",
    "accept",
    "request_settlement",
    "return_settlement",
    "approve_payment",
    "settle",
    "close",
    "terminate",
]

# Side records a transition writes in the same transaction, beside its review and history:
# name -> callable(project, actor, decision, history). Filled by the modules that own them.
SIDE_EFFECTS: dict[str, list[Callable[..., None]]] = {}
# Side records a transition's guards depend on, written in the same transaction just before
# the checks (e.g. the final accounts of request_settlement): callable(project, actor, decision).
PREPARE: dict[str, list[Callable[..., None]]] = {}
# Called after the commit with the history row: notifications (mail).
AFTER_COMMIT: list[Callable[[ProjectHistory], None]] = []


def transition_method(project: Project, name: str):
    if name not in TRANSITIONS:
        raise WorkflowError("没有这个操作。")
    return getattr(project, name)


def transition_meta(name: str):
    """The django-fsm Transition object (label, custom data) for a transition name."""
    method = getattr(Project, name)
    return next(iter(method._django_fsm.transitions.values()))


def unmet_conditions(project: Project, name: str) -> list[str]:
    transition = transition_method(project, name)._django_fsm.get_transition(project.state)
    if transition is None:
        return []
    return [
        getattr(cond, "message", "条件未满足。")
        for cond in transition.conditions or []
        if not cond(project)
    ]


def check_transition(project: Project, name: str, actor) -> None:
    """Raise WorkflowError unless `actor` may apply `name` to `project` right now."""
    method = transition_method(project, name)
    label = transition_meta(name).custom.get("label", name)
    if not can_proceed(method, check_conditions=False):
        raise WorkflowError(f"项目当前状态为“{project.get_state_display()}”,不能执行“{label}”。")
    # Calling a django-fsm transition does not check permission=: it is checked here.
    if not method._django_fsm.has_transition_perm(project, project.state, actor):
        raise WorkflowError(f"您无权对该项目执行“{label}”。")
    problems = unmet_conditions(project, name)
    if problems:
        raise WorkflowError(problems)


def available_transitions(project: Project, actor) -> list[str]:
    """Names the actor may apply now (permission and state; conditions shown on the form)."""
    names = []
    for name in TRANSITIONS:
        method = getattr(project, name)
        if can_proceed(method, check_conditions=False) and method._django_fsm.has_transition_perm(
            project, project.state, actor
        ):
            names.append(name)
    return names


def _signature(actor) -> dict[str, str]:
    return {
        "name": actor.display_name,
        "organization": str(actor.organization) if actor.organization_id else "",
        "title": actor.title,
        "roles": "、".join(role_labels(actor)) or ("系统管理员" if actor.is_superuser else ""),
    }


def _jsonable(decision: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for key, value in decision.items():
        if hasattr(value, "pk"):
            out[key] = value.pk
        elif isinstance(value, datetime.date | datetime.datetime):
            out[key] = value.isoformat()
        elif value is None or isinstance(value, bool | int | str | list | dict):
            out[key] = value
        else:
            out[key] = str(value)
    return out


def append_history(
    project: Project,
    *,
    actor,
    transition: str,
    from_state: str,
    opinion: str = "",
    data: dict | None = None,
) -> ProjectHistory:
    """Append one chained row; the caller holds the project row lock."""
    last = (
        ProjectHistory.objects.filter(project=project)
        .order_by("-seq")
        .values("seq", "digest")
        .first()
    )
    sign = _signature(actor)
    row = ProjectHistory(
        project=project,
        seq=(last["seq"] + 1) if last else 1,
        transition=transition,
        from_state=from_state,
        to_state=project.state,
        actor=actor,
        actor_name=sign["name"],
        actor_organization=sign["organization"],
        actor_title=sign["title"],
        actor_roles=sign["roles"],
        opinion=opinion,
        data=_jsonable(data or {}),
        created_at=timezone.now(),
        prev_digest=last["digest"] if last else "",
    )
    row.digest = compute_digest(row)
    row.save(force_insert=True)
    return row


def _write_review(project: Project, name: str, actor, decision: dict[str, Any]) -> None:
    custom = transition_meta(name).custom
    kind = custom.get("review")
    if not kind:
        return
    sign = _signature(actor)
    review = Review(
        project=project,
        kind=kind,
        decision=custom["decision"],
        conclusion=decision.get("conclusion") or ("fail" if name == "rectify" else ""),
        opinion=decision.get("opinion", ""),
        reviewer=actor,
        reviewer_name=sign["name"],
        reviewer_organization=sign["organization"],
        reviewer_title=sign["title"],
        reviewer_role=sign["roles"],
        grade=decision.get("grade") if name == "approve" else None,
        amount=(
            decision.get("approved_amount") if name == "approve" else decision.get("payable_limit")
        ),
    )
    for field in CHECKLIST_FIELDS:
        if field in decision:
            setattr(review, field, decision[field])
    review.save()


def _decided_values(project: Project, name: str) -> dict[str, Any]:
    values: dict[str, Any] = {}
    if name == "approve":
        values = {"grade": project.grade, "approved_amount": str(project.approved_amount)}
    elif name == "approve_payment":
        values = {"payable_limit": str(project.payable_limit)}
    elif name == "settle":
        values = {
            "settlement_amount": str(project.settlement_amount),
            "loss_amount": str(project.loss_amount),
        }
    elif name == "submit":
        values = {
            "requested_amount": str(project.requested_amount),
            "first_review_deadline": project.first_review_deadline.isoformat(),
        }
    elif name == "close":
        values = {"is_commended": project.is_commended}
    elif name == "terminate":
        values = {"released": True}
    return values


def apply_transition(
    project: Project, name: str, *, actor, expected_state: str | None = None, **decision: Any
) -> Project:
    """Apply transition `name` as `actor`; returns the saved project.

    `expected_state` is the state the user saw when the form was drawn: a stale or doubled
    form (the state has moved on since) is refused instead of applied twice.
    Raises WorkflowError (refused, with a Chinese message) and changes nothing on failure.
    """
    try:
        with transaction.atomic():
            locked = Project.objects.select_for_update().get(pk=project.pk)
            if expected_state is not None and locked.state != expected_state:
                raise WorkflowError(
                    f"该项目的状态已变为“{locked.get_state_display()}”,"
                    "您看到的页面已过期,请刷新后再操作。"
                )
            if transition_meta(name).custom.get("locks_pool"):
                # Serialise every change of the year's pool: two approvals at once cannot
                # together overdraw it.
                FundingPolicy.objects.select_for_update().filter(year=locked.year).first()
            for prepare in PREPARE.get(name, []):
                prepare(locked, actor, decision)
            check_transition(locked, name, actor)
            from_state = locked.state
            getattr(locked, name)(actor=actor, **decision)
            locked.save()
            _write_review(locked, name, actor, decision)
            history = append_history(
                locked,
                actor=actor,
                transition=name,
                from_state=from_state,
                opinion=(decision.get("opinion") or "").strip(),
                data=_decided_values(locked, name),
            )
            for effect in SIDE_EFFECTS.get(name, []):
                effect(locked, actor, decision, history)
            for hook in AFTER_COMMIT:
                transaction.on_commit(lambda hook=hook, history=history: hook(history))
    except ValidationError as exc:
        raise WorkflowError(exc.messages) from exc
    except IntegrityError as exc:
        raise WorkflowError("数据库拒绝了这次操作(违反约束),未作任何更改。") from exc
    project.refresh_from_db()
    return locked


def project_create(*, actor, organization, leader, **fields: Any) -> Project:
    """Create a draft with the next code of its year (2026-0012), unique per year."""
    year = fields.pop("year", None) or timezone.localdate().year
    for _attempt in range(5):
        try:
            with transaction.atomic():
                project = Project(organization=organization, leader=leader, year=year, **fields)
                project.code = next_project_code(year)
                project.save(force_insert=True)
                return project
        except IntegrityError:
            continue
    raise WorkflowError("项目编号分配冲突,请重试。")


def next_project_code(year: int) -> str:
    # Longest first, then highest: "2026-10000" follows "2026-9999" (a city passes 9,999 a
    # year), which a plain string maximum would get wrong.
    last = (
        Project.objects.filter(year=year)
        .order_by(Length("code").desc(), "-code")
        .values_list("code", flat=True)
        .first()
    )
    number = int(last.split("-")[1]) + 1 if last else 1
    return f"{year}-{number:04d}"


def refresh_requested_amount(project: Project) -> None:
    """Keep the stored requested amount equal to the sum of the budget lines (draft only)."""
    if project.state in (State.DRAFT, State.RETURNED):
        Project.objects.filter(pk=project.pk).update(requested_amount=project.budget_total())


__all__ = [
    "WorkflowError",
    "apply_transition",
    "available_transitions",
    "check_transition",
    "project_create",
    "refresh_requested_amount",
    "to_money",
    "TRANSITIONS",
]
