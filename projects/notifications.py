"""Mail sent after a transition commits (services.transitions schedules it on commit).

The message goes to the people who act next (DESIGN.md §3): the org reviewers when an
application arrives for first review, the leadership group for re-review, the leader when
the application comes back. Mail runs after the commit, so a failed send never undoes a
decision; it is logged instead.
"""

import logging

from django.conf import settings
from django.core.mail import send_mass_mail
from django.db.models import Q
from django.utils import timezone

from accounts.models import User
from accounts.roles import Role
from projects.models import ProjectHistory, State

log = logging.getLogger(__name__)

# to_state -> who acts next: "org" (org reviewers of the project's organisation),
# a global role name, or "leader" (the project's leader).
NEXT_ACTORS: dict[str, list[str]] = {
    State.ORG_REVIEW: ["org"],
    State.LEADERSHIP_REVIEW: [Role.LEADERSHIP],
    State.RETURNED: ["leader"],
    State.REJECTED: ["leader"],
    State.APPROVED: ["leader", "org"],
    State.ACCEPTANCE: [Role.LEADERSHIP],
    State.ACCEPTED: ["leader", "org"],
    State.SETTLEMENT_REVIEW: [Role.LEADERSHIP],
    State.PAYMENT: [Role.FINANCE],
    State.SETTLED: ["leader", "org"],
    State.CLOSED: ["leader"],
    State.TERMINATED: ["leader", "org"],
}


def recipients(history: ProjectHistory) -> list[str]:
    project = history.project
    wanted = NEXT_ACTORS.get(history.to_state, [])
    query = Q(pk__in=[])
    if "leader" in wanted:
        query |= Q(pk=project.leader_id)
    if "org" in wanted:
        query |= Q(groups__name=Role.ORG_REVIEWER, organization_id=project.organization_id)
    roles = [name for name in wanted if name in Role.values]
    if roles:
        query |= Q(groups__name__in=roles)
    users = (
        User.objects.filter(query, is_active=True)
        .exclude(email="")
        .exclude(pk=history.actor_id)  # the one who just acted needs no mail
        .distinct()
    )
    return sorted({user.email for user in users})


def notify_next_actors(history: ProjectHistory) -> None:
    to = recipients(history)
    if not to:
        return
    project = history.project
    subject = f"[党费项目] {project.code} {project.title}:{history.get_to_state_display()}"
    body = (
        f"项目 {project.code}《{project.title}》({project.organization})\n"
        f"{history.actor_name} 于 {timezone.localtime(history.created_at):%Y-%m-%d %H:%M} 办理:"
        f"{history.get_from_state_display() or '—'} → {history.get_to_state_display()}\n"
    )
    if history.opinion:
        body += f"意见:{history.opinion}\n"
    body += "请登录党费项目化管理系统办理。\n"
    try:
        # One message per recipient: nobody sees the others' addresses.
        send_mass_mail([(subject, body, settings.DEFAULT_FROM_EMAIL, [address]) for address in to])
    except Exception:  # mail must never turn a committed decision into an error page
        log.exception("通知邮件发送失败:项目 %s 历史 #%s", project.code, history.seq)
