"""Each role's to-do panels on the index page (DESIGN.md §6), read side.

The panels of this module are listed in PANELS, in the order the index page shows them (the
other areas' panels follow, then the way in to the statistics). Lists sort by the first-review
deadline or the submission time, then by (year, number): 2026-10000 after 2026-9999.
"""

from __future__ import annotations

from django.urls import reverse
from django.utils import timezone

from accounts.roles import Role, has_role
from projects.dashboard import Panel
from projects.dates import format_date
from projects.models import FundingPolicy, Project, State
from projects.models.choices import EDITABLE_STATES
from projects.money import format_cny

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
        _project_row(p, f"初审期限 {p.first_review_deadline.isoformat()}")
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


PANELS = [first_reviews_panel, leadership_panel, pool_panel, my_applications_panel]
LAST_PANELS = [reports_panel]
