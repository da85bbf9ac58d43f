"""Each role's to-do panels on the index page (DESIGN.md §6), read side.

The panels of this module are listed in PANELS, in the order the index page shows them (the
other areas' panels follow, then the way in to the statistics). Lists sort by the first-review
deadline or the submission time, then by (year, number): 2026-10000 after 2026-9999.
"""

from __future__ import annotations

from django.urls import reverse
from django.utils import timezone

from accounts.roles import Role, has_role, sees_everything
from projects import permissions as perm
from projects.dashboard import Panel
from projects.dates import format_date, format_month
from projects.models import ChangeRequest, FundingPolicy, ProblemReport, Project, State
from projects.models.choices import EDITABLE_STATES, FINAL_STATES
from projects.money import format_cny
from projects.selectors.invoices import pending_checks
from projects.selectors.obligations import projects_with_overdue_reports
from projects.services.change_requests import CHANGEABLE_STATES

PANEL_LIMIT = 20


def project_link(project) -> str:
    return reverse("admin:projects_project_change", args=[project.pk])


PANEL_ROWS = 20


def _project_row(project, note: str = "") -> dict:
    overdue = project.is_overdue_first_review
    if overdue:
        note = f"初审已逾期(期限 {format_date(project.first_review_deadline)})"
    return {
        "text": f"{project.code} {project.title}",
        "url": reverse("admin:projects_project_change", args=[project.pk]),
        "note": note or project.get_state_display(),
        "overdue": overdue,
    }


def first_reviews_panel(user) -> Panel | None:
    if not has_role(user, Role.ORG_REVIEWER) or user.organization_id is None:
        return None
    waiting = (
        Project.objects.visible_to(user)
        .filter(state=State.ORG_REVIEW, organization_id=user.organization_id)
        .exclude(leader=user)
        .order_by("first_review_deadline", "year", "number")[:PANEL_ROWS]
    )
    rows = [
        _project_row(p, f"初审期限 {format_date(p.first_review_deadline)}")
        for p in waiting
        if p.first_review_deadline
    ]
    return Panel("待我初审的项目(一周内完成)", rows, "没有待初审的项目。")


def leadership_panel(user) -> Panel | None:
    if not has_role(user, Role.LEADERSHIP):
        return None
    today = timezone.localdate()
    overdue = [
        _project_row(p)
        for p in Project.objects.overdue_first_review(today)
        .select_related("organization")
        .order_by("first_review_deadline", "year", "number")[:PANEL_ROWS]
    ]
    waiting = [
        _project_row(p, f"{p.organization} · 申请 {format_cny(p.requested_amount)}")
        for p in Project.objects.filter(state=State.LEADERSHIP_REVIEW)
        .select_related("organization")
        .order_by("submitted_at", "year", "number")[:PANEL_ROWS]
    ]
    return Panel("待领导小组复审 / 初审逾期的项目", [*overdue, *waiting], "没有待复审的项目。")


def pool_panel(user) -> Panel | None:
    if not has_role(user, Role.LEADERSHIP):
        return None
    year = timezone.localdate().year
    policy = FundingPolicy.objects.filter(year=year).first()
    if policy is None:
        return Panel(f"{year}年度经费", [], f"{year}年度尚未设定经费政策。")
    committed = policy.committed()
    rows = [
        {"text": "年度经费总额", "note": format_cny(policy.pool_total)},
        {"text": "已立项占用", "note": format_cny(committed)},
        {"text": "剩余额度", "note": format_cny(policy.pool_total - committed)},
    ]
    return Panel(f"{year}年度经费", rows)


def my_applications_panel(user) -> Panel | None:
    if not has_role(user, Role.APPLICANT):
        return None
    mine = (
        Project.objects.visible_to(user)
        .filter(leader=user, state__in=EDITABLE_STATES)
        .order_by("-state", "-year", "-number")[:PANEL_ROWS]
    )
    return Panel("我的草稿与退回修改的申请", [_project_row(p) for p in mine], "没有待处理的申请。")


def reports_panel(user) -> Panel | None:
    """A way in to the statistics from the index page, for anyone who may read projects."""
    if not user.has_perm("projects.view_project"):
        return None
    year = timezone.localdate().year
    return Panel(
        title="统计报表",
        rows=[
            {
                "text": f"{year}年度统计报表(图表、Excel、党费使用情况公示)",
                "url": reverse("projects:report_year"),
                "note": "",
                "overdue": False,
            }
        ],
    )


# --- the index page's to-do lists ----------------------------------------------------------


def _project_rows(projects, note):
    return [
        {
            "text": f"{p.code} {p.title}",
            "url": reverse("admin:projects_project_change", args=[p.pk]),
            "note": note(p),
        }
        for p in projects
    ]


def finance_invoices_panel(user):
    if not has_role(user, Role.FINANCE):
        return None
    pending = pending_checks(user, 20)
    url = reverse("admin:projects_invoice_changelist")
    rows = [
        {
            "text": f"{row['project__code']} {row['project__title']}",
            "url": f"{url}?check_status__exact=pending&project__id__exact={row['project_id']}",
            "note": f"{row['count']} 张待审核,合计 {format_cny(row['total'])}",
        }
        for row in pending
    ]
    return Panel(title="待审核的发票", rows=rows, empty_text="没有待审核的发票。")


def finance_payments_panel(user):
    if not has_role(user, Role.FINANCE):
        return None
    projects = Project.objects.filter(state=State.PAYMENT).exclude(payment_approved_by=user)
    rows = _project_rows(
        projects.order_by("year", "number")[:20],
        lambda p: f"批准限额 {format_cny(p.payable_limit)}",
    )
    rows.append({"text": "年度经费总账与分户账", "url": reverse("projects:pool_ledger_current")})
    return Panel(title="待结算拨付", rows=rows, empty_text="没有待拨付的项目。")


def leadership_settlements_panel(user):
    if not has_role(user, Role.LEADERSHIP):
        return None
    projects = Project.objects.filter(state=State.SETTLEMENT_REVIEW).exclude(leader=user)
    return Panel(
        title="待审批拨付",
        rows=_project_rows(
            projects.order_by("year", "number")[:20],
            lambda p: f"核定 {format_cny(p.approved_amount)}",
        ),
        empty_text="没有待审批的结算申请。",
    )


def org_final_accounts_panel(user):
    if not has_role(user, Role.ORG_REVIEWER) or sees_everything(user):
        return None
    projects = Project.objects.visible_to(user).filter(state=State.ACCEPTED, approved_amount__gt=0)
    return Panel(
        title="已验收待报决算",
        rows=_project_rows(
            projects.order_by("year", "number")[:20],
            lambda p: f"核定 {format_cny(p.approved_amount)},请填写决算清单并申请拨付",
        ),
        empty_text="没有待报决算的项目。",
    )


# --- dashboard panels ------------------------------------------------------------------------


def _is(user, *roles) -> bool:
    return any(has_role(user, role) for role in roles)


def _months(months) -> str:
    return "、".join(format_month(m) for m in months)


def missing_reports_panel(user):
    if not _is(user, Role.APPLICANT, Role.ORG_REVIEWER, Role.LEADERSHIP):
        return None
    projects = Project.objects.visible_to(user)
    if not (sees_everything(user) or has_role(user, Role.ORG_REVIEWER)):
        projects = projects.filter(leader=user)
    add = reverse("admin:projects_progressreport_add")
    rows = [
        {
            "text": f"{project.code} {project.title}",
            "url": project_link(project),
            "note": f"{project.leader.display_name} · 逾期未报:{_months(months)}",
            "overdue": True,
            # The leader files the oldest missing month straight from here (三(三)1).
            **(
                {
                    "action_url": f"{add}?project={project.pk}&month={min(months).isoformat()}",
                    "action_label": f"填报{format_month(min(months))}进展报告",
                }
                if perm.may_report_progress(project, user)
                else {}
            ),
        }
        for project, months in projects_with_overdue_reports(projects, limit=PANEL_LIMIT)
    ]
    return Panel("逾期未报的月度进展报告", rows, "没有逾期未报的进展报告。")


def change_requests_panel(user):
    if _is(user, Role.LEADERSHIP):
        status = ChangeRequest.Status.ENDORSED
    elif _is(user, Role.ORG_REVIEWER):
        status = ChangeRequest.Status.SUBMITTED
    else:
        return None
    waiting = (
        ChangeRequest.objects.visible_to(user)
        .filter(status=status, project__state__in=CHANGEABLE_STATES)
        .select_related("project")
        .order_by("requested_at")[:PANEL_LIMIT]
    )
    rows = [
        {
            "text": f"{c.project.code} {c.get_kind_display()}变更",
            "url": reverse("admin:projects_changerequest_change", args=[c.pk]),
            "note": f"{format_date(c.requested_at)} 提出",
        }
        for c in waiting
    ]
    return Panel("待处理的变更申请", rows, "没有待处理的变更申请。")


def acceptances_panel(user):
    if not _is(user, Role.LEADERSHIP):
        return None
    waiting = Project.objects.filter(state=State.ACCEPTANCE).select_related("organization")
    rows = [
        {"text": f"{p.code} {p.title}", "url": project_link(p), "note": str(p.organization)}
        for p in waiting.order_by("year", "number")[:PANEL_LIMIT]
    ]
    return Panel("待验收的项目", rows, "没有待验收的项目。")


def problem_reports_panel(user):
    reports = ProblemReport.objects.visible_to(user).exclude(project__state__in=FINAL_STATES)
    if _is(user, Role.LEADERSHIP):
        reports = reports.filter(forwarded_by__isnull=False, answered_by__isnull=True)
    elif _is(user, Role.ORG_REVIEWER):
        reports = reports.filter(forwarded_by__isnull=True)
    else:
        return None
    rows = [
        {
            "text": f"{r.project.code} 问题上报",
            "url": reverse("admin:projects_problemreport_change", args=[r.pk]),
            "note": r.description[:40],
        }
        for r in reports.select_related("project").order_by("submitted_at")[:PANEL_LIMIT]
    ]
    return Panel("待处理的问题上报", rows, "没有待处理的问题上报。")


# In this order on the index page: each panel answers only the roles it is for, so each
# role sees its own main queue first (the reviewer's first reviews, the applicant's drafts,
# leadership's re-reviews, finance's invoice checks), then the rest of its day.
PANELS = [
    first_reviews_panel,
    my_applications_panel,
    leadership_panel,
    leadership_settlements_panel,
    acceptances_panel,
    finance_invoices_panel,
    finance_payments_panel,
    org_final_accounts_panel,
    change_requests_panel,
    missing_reports_panel,
    problem_reports_panel,
    pool_panel,
    reports_panel,
]
