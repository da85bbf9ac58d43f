"""Who may do what to which project: one small predicate per rule (DESIGN.md §1, §5).

Used by the transitions' `permission=` and by the admin's has_*_permission, so that each
rule is written once. Each predicate takes (project, user) in django-fsm's order.
"""

from accounts.roles import Role, has_role, is_read_only


def _active(user) -> bool:
    return bool(user and user.is_authenticated and user.is_active and not is_read_only(user))


def same_organization(project, user) -> bool:
    return user.organization_id is not None and user.organization_id == project.organization_id


def is_leader(project, user) -> bool:
    """The project's own leader (项目负责人)."""
    return _active(user) and project.leader_id == user.pk


def is_org_reviewer(project, user) -> bool:
    """An org reviewer (项目部) of the project's own organisation."""
    return _active(user) and has_role(user, Role.ORG_REVIEWER) and same_organization(project, user)


def is_independent_org_reviewer(project, user) -> bool:
    """Separation of duties: nobody performs the org review of a project they lead."""
    return is_org_reviewer(project, user) and project.leader_id != user.pk


def is_leader_or_org_reviewer(project, user) -> bool:
    return is_leader(project, user) or is_org_reviewer(project, user)


def is_leadership(project, user) -> bool:
    """A member of the leadership group who is not the project's own leader."""
    return _active(user) and has_role(user, Role.LEADERSHIP) and project.leader_id != user.pk


def is_independent_payment_approver(project, user) -> bool:
    """Leadership, but never a member who checked any of this project's invoices: the
    checks decide the settlement amount that the payment approval bounds (§5)."""
    from projects.models import ProjectHistory

    return is_leadership(project, user) and not (
        ProjectHistory.objects.filter(
            project_id=project.pk,
            actor_id=user.pk,
            transition__in=("invoice_check", "invoice_recheck"),
        ).exists()
    )


def is_settling_finance(project, user) -> bool:
    """Finance, but never the leadership member who approved this payment (§5)."""
    return (
        _active(user)
        and has_role(user, Role.FINANCE)
        and project.leader_id != user.pk
        and project.payment_approved_by_id != user.pk
    )


def is_finance(project, user) -> bool:
    return _active(user) and has_role(user, Role.FINANCE)


def may_edit_application(project, user) -> bool:
    """The application (sections, budget lines) changes only in draft/returned (§5)."""
    from projects.models.choices import EDITABLE_STATES

    return project.state in EDITABLE_STATES and is_leader_or_org_reviewer(project, user)


def may_create_project(user) -> bool:
    return (
        _active(user)
        and user.organization_id is not None
        and (has_role(user, Role.APPLICANT) or has_role(user, Role.ORG_REVIEWER))
    )


# --- running projects (三(三), 三(五)) ----------------------------------------------------


def _not_closed(project) -> bool:
    # 三(五) 归档: a closed project and everything under it is read-only for everyone.
    return project.state != "closed"


def may_report_progress(project, user) -> bool:
    """三(三)1: 项目负责人向项目部及时汇报活动进展情况."""
    return _not_closed(project) and is_leader(project, user)


def may_read_reports(project, user) -> bool:
    """三(三)1: 项目部对活动全过程予以监督和指导 (reads and comments the reports)."""
    return _not_closed(project) and is_independent_org_reviewer(project, user)


def may_answer_problem(project, user) -> bool:
    """三(三)3: 项目部及时向领导小组汇报; the leadership group answers."""
    return _not_closed(project) and is_leadership(project, user)


def may_request_change(project, user) -> bool:
    """三(三)4: 负责人应向项目部提出申请."""
    return _not_closed(project) and is_leader(project, user)


def may_endorse_change(project, user) -> bool:
    """三(三)4: 由项目部讨论后上报."""
    return _not_closed(project) and is_independent_org_reviewer(project, user)


def may_decide_change(project, user) -> bool:
    """三(三)4: 地区项目化管理领导小组研究决定."""
    return _not_closed(project) and is_leadership(project, user)


def may_write_summary(project, user) -> bool:
    """三(一)5: 活动结束后, 由项目负责人向项目部提交活动总结报告."""
    return _not_closed(project) and is_leader(project, user)


def may_upload_document(project, user) -> bool:
    return _not_closed(project) and (
        is_leader_or_org_reviewer(project, user) or is_leadership(project, user)
    )


# --- money (三(四)) ------------------------------------------------------------

# Invoices are entered while the project runs and until the org asks for settlement.
INVOICE_ENTRY_STATES = frozenset({"in_progress", "acceptance", "accepted"})
# Finance checks invoices from acceptance until the payment is made (nothing after settled).
INVOICE_CHECK_STATES = frozenset({"acceptance", "accepted", "settlement_review", "payment"})


def may_enter_invoices(project, user) -> bool:
    """The leader or the org reviewer, from in_progress until request_settlement (§5)."""
    return project.state in INVOICE_ENTRY_STATES and is_leader_or_org_reviewer(project, user)


def is_payment_approver(project, user) -> bool:
    """The leadership member who approved this project's payment (approve_payment)."""
    return project.payment_approved_by_id is not None and project.payment_approved_by_id == getattr(
        user, "pk", None
    )


def may_check_invoices(project, user) -> bool:
    """Finance only marks invoices 合格/不合格 and 改判 (DESIGN.md §1), until the project is
    settled; never the member who approved the payment (separation of duties: the check
    decides the settlement amount that approval bounds)."""
    return (
        project.state in INVOICE_CHECK_STATES
        and is_finance(project, user)
        and not is_payment_approver(project, user)
    )


def may_prepare_final_accounts(project, user) -> bool:
    """项目部 prepares the final accounts (决算清单) of an accepted project."""
    return project.state == "accepted" and is_org_reviewer(project, user)


def may_record_disbursement(project, user) -> bool:
    """Reversals and corrected payments: finance (not the payment's approver), once settled."""
    return project.state == "settled" and is_settling_finance(project, user)


def projects_open_for_invoices(queryset, user):
    """may_enter_invoices as a queryset filter (the invoice changelist's 导入 chooser lists
    these): the user's own projects, and an org reviewer's whole organisation, while
    invoices may be entered. Keep in step with may_enter_invoices above."""
    from django.db.models import Q

    if not _active(user):
        return queryset.none()
    mine = Q(leader_id=user.pk)
    if has_role(user, Role.ORG_REVIEWER) and user.organization_id is not None:
        mine |= Q(organization_id=user.organization_id)
    return queryset.filter(mine, state__in=INVOICE_ENTRY_STATES)
