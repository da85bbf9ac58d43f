"""apply_transition: the one path by which a project moves through the regulation's steps.

Inside `locked_project` (one transaction, the project row locked, the pool too for the
steps that touch it) it re-checks the state, the user's permission and the conditions,
runs the @transition, saves, writes the step's own side records explicitly (a signed
review; the final accounts of request_settlement; the disbursement of settle), appends the
chained event, and schedules the mail after the commit.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django_fsm import can_proceed

from projects.models import Project, Review
from projects.models.choices import CHECKLIST_FIELDS
from projects.services import events
from projects.services.errors import WorkflowError
from projects.services.locking import locked_project

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


def transition_method(project: Project, name: str):
    if name not in TRANSITIONS:
        raise WorkflowError("没有这个操作。")
    return getattr(project, name)


def transition_meta(name: str):
    """The django-fsm Transition object (label, custom data) for a transition name."""
    method = getattr(Project, name)
    return next(iter(method._django_fsm.transitions.values()))


def transition_label(name: str) -> str:
    return transition_meta(name).custom.get("label", name)


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
    label = transition_label(name)
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


def review_create(project: Project, name: str, actor, decision: dict[str, Any]) -> None:
    """The signed review of a reviewing step (first review, re-review, acceptance …)."""
    custom = transition_meta(name).custom
    kind = custom.get("review")
    if not kind:
        return
    sign = events.signature(actor)
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


def decided_values(project: Project, name: str, decision: dict[str, Any]) -> dict[str, Any]:
    """What the step decided, as the event records it (beside the project's snapshot)."""
    values: dict[str, Any] = {
        field: decision[field] for field in CHECKLIST_FIELDS if field in decision
    }
    if name == "approve":
        values |= {"grade": project.grade, "approved_amount": str(project.approved_amount)}
    elif name == "approve_payment":
        values |= {"payable_limit": str(project.payable_limit)}
    elif name == "settle":
        values |= {
            "settlement_amount": str(project.settlement_amount),
            "loss_amount": str(project.loss_amount),
            "voucher_number": decision.get("voucher_number") or "",
        }
    elif name == "submit":
        values |= {
            "requested_amount": str(project.requested_amount),
            "first_review_deadline": project.first_review_deadline.isoformat(),
        }
    elif name == "accept":
        values |= {"conclusion": decision.get("conclusion", "")}
    elif name == "close":
        values |= {"is_commended": project.is_commended}
    elif name == "terminate":
        values |= {"released": True}
    return values


def apply_transition(
    project: Project, name: str, *, actor, expected_state: str | None = None, **decision: Any
) -> Project:
    """Apply transition `name` as `actor`; returns the saved project.

    Raises WorkflowError (refused, with a Chinese message) and changes nothing on failure.
    """
    # The money side's step records (final accounts, the disbursement) live with the money.
    from projects.services.disbursements import disbursement_create
    from projects.services.final_accounts import final_accounts_save_from_decision

    transition_method(project, name)
    try:
        with locked_project(
            project,
            pool=bool(transition_meta(name).custom.get("locks_pool")),
            expected_state=expected_state,
        ) as locked:
            if name == "request_settlement":
                # Its guard (has_final_accounts) reads the final accounts its form carries.
                final_accounts_save_from_decision(project=locked, actor=actor, decision=decision)
            check_transition(locked, name, actor)
            from_state = locked.state
            getattr(locked, name)(actor=actor, **decision)
            locked.save()
            review_create(locked, name, actor, decision)
            if name == "settle":
                disbursement_create(project=locked, actor=actor, decision=decision)
            if name == "close":
                # The archive package's PDFs, rendered before the event takes the history lock.
                from projects.archive.package import archive_documents_render

                documents = archive_documents_render(locked, actor=actor)
            history = events.record(
                actor=actor,
                action=name,
                project=locked,
                from_state=from_state,
                opinion=decision.get("opinion") or "",
                data=decided_values(locked, name, decision),
            )
            if name == "close":
                from projects.archive.package import archive_package_build

                archive_package_build(project=locked, actor=actor, documents=documents)
            transaction.on_commit(lambda: _notify(history))
    except ValidationError as exc:
        raise WorkflowError(exc.messages) from exc
    except IntegrityError as exc:
        raise WorkflowError("数据库拒绝了这次操作(违反约束),未作任何更改。") from exc
    project.refresh_from_db()
    return locked


def _notify(history) -> None:
    from projects.notifications import notify_next_actors

    notify_next_actors(history)
