"""What each person owes (send_reminders): overdue first reviews, missing monthly progress
reports, change requests and problem reports waiting, acceptances waiting.

Each item has a stable key, so a person is reminded of the same thing at most once a day
(one Reminder row per recipient, key and day, unique in the database).
"""

from __future__ import annotations

import datetime
import smtplib
from collections import defaultdict
from dataclasses import dataclass, field

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction

from accounts.models import User
from accounts.roles import Role
from projects.dates import format_date, format_month
from projects.models import ChangeRequest, ProblemReport, Project, Reminder, State
from projects.models.choices import FINAL_STATES
from projects.selectors.obligations import projects_with_overdue_reports
from projects.services.change_requests import CHANGEABLE_STATES


@dataclass(frozen=True)
class Item:
    key: str
    text: str


def _role_users(role: str, organization_id: int | None = None):
    users = User.objects.filter(is_active=True, groups__name=role)
    if organization_id is not None:
        users = users.filter(organization_id=organization_id)
    return list(users.distinct())


def collect(today: datetime.date) -> dict[User, list[Item]]:
    """Everyone's list, overdue things first."""
    owed: dict[User, list[Item]] = defaultdict(list)
    org_reviewers: dict[int, list[User]] = {}

    def reviewers_of(org_id):
        if org_id not in org_reviewers:
            org_reviewers[org_id] = _role_users(Role.ORG_REVIEWER, org_id)
        return org_reviewers[org_id]

    leadership = _role_users(Role.LEADERSHIP)

    # 三(二)2: 项目部在接到项目申请报告一周内须完成初审.
    for project in Project.objects.overdue_first_review(today).order_by("first_review_deadline"):
        for user in reviewers_of(project.organization_id):
            if user.pk != project.leader_id:
                owed[user].append(
                    Item(
                        f"first_review:{project.pk}",
                        f"【逾期初审】{project.code} {project.title}:初审期限"
                        f" {format_date(project.first_review_deadline)} 已过。",
                    )
                )
    # 三(一)5: 每月向项目部通报进展.
    for project, months in projects_with_overdue_reports(Project.objects.all(), today):
        for month in months:
            owed[project.leader].append(
                Item(
                    f"progress:{project.pk}:{month:%Y-%m}",
                    f"【逾期未报】{project.code} {project.title}:"
                    f"{format_month(month)}进展报告未提交。",
                )
            )
    for change in ChangeRequest.objects.filter(
        status__in=[ChangeRequest.Status.SUBMITTED, ChangeRequest.Status.ENDORSED],
        project__state__in=CHANGEABLE_STATES,
    ).select_related("project"):
        if change.status == ChangeRequest.Status.SUBMITTED:
            people = reviewers_of(change.project.organization_id)
        else:
            people = leadership
        for user in people:
            if user.pk != change.project.leader_id:
                owed[user].append(
                    Item(
                        f"change:{change.pk}:{change.status}",
                        f"【变更申请待处理】{change.project.code}"
                        f" {change.get_kind_display()}变更({change.get_status_display()})。",
                    )
                )
    for problem in (
        ProblemReport.objects.filter(answered_by__isnull=True)
        .exclude(project__state__in=FINAL_STATES)
        .select_related("project")
    ):
        forwarded = problem.forwarded_by_id is not None
        people = leadership if forwarded else reviewers_of(problem.project.organization_id)
        for user in people:
            owed[user].append(
                Item(
                    f"problem:{problem.pk}:{'forwarded' if forwarded else 'new'}",
                    f"【问题上报待处理】{problem.project.code}:{problem.description[:40]}",
                )
            )
    for project in Project.objects.filter(state=State.ACCEPTANCE).order_by("year", "number"):
        for user in leadership:
            if user.pk != project.leader_id:
                owed[user].append(
                    Item(f"acceptance:{project.pk}", f"【待验收】{project.code} {project.title}。")
                )
    return owed


@dataclass
class ReminderRun:
    """What a run did: lines for the operator, and the people whose mail failed."""

    lines: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)


def send_reminders(today: datetime.date) -> ReminderRun:
    """Send each person one mail with what they owe and were not reminded of today.

    The items are marked as reminded only once the mail has gone out: the marks are written
    in the same transaction as the send and kept only if it succeeds (a parallel run waits
    on them and then skips them). One failed mail does not stop the others; it is listed in
    `failed` and tried again on the next run.
    """
    run = ReminderRun()
    for user, items in collect(today).items():
        if not user.email:
            run.lines.append(f"跳过 {user.display_name}({user.username}):没有电子邮箱。")
            continue
        try:
            sent = _send_unreminded(user, items, today)
        except (smtplib.SMTPException, OSError) as exc:
            failure = f"{user.display_name} <{user.email}>:{exc.__class__.__name__} {exc}"
            run.failed.append(failure)
            run.lines.append(f"发送失败 {failure}")
            continue
        if not sent:
            continue
        run.lines.append(f"已提醒 {user.display_name} <{user.email}>:{len(sent)}项")
        run.lines.extend(f"  {item.text}" for item in sent)
    return run


def _send_unreminded(user, items: list[Item], today: datetime.date) -> list[Item]:
    """Mark the items not yet sent to `user` today and send them; the marks are rolled back
    if the mail fails, so the items stay owed."""
    with transaction.atomic():
        fresh = _mark(user, items, today)
        if fresh:
            body = "\n".join(item.text for item in fresh)
            send_mail(
                subject=f"党费项目待办提醒({len(fresh)}项)",
                message=(
                    f"{user.display_name},您好:\n\n截至 {format_date(today)},"
                    f"您有以下待办事项:\n{body}\n\n请登录系统处理。"
                ),
                from_email=settings.DEFAULT_FROM_EMAIL,
                recipient_list=[user.email],
            )
    return fresh


def _mark(user, items: list[Item], today: datetime.date) -> list[Item]:
    """The items not yet sent to `user` today, each marked (a unique row per day)."""
    fresh = []
    for item in items:
        try:
            with transaction.atomic():
                _, created = Reminder.objects.get_or_create(
                    recipient=user, key=item.key[:200], sent_on=today
                )
        except IntegrityError:
            created = False
        if created:
            fresh.append(item)
    return fresh
