"""What is kept of every decision: the signed reviews and the chained event log.

Every write of state or money appends one `ProjectHistory` row (an "event") through
projects.services.events.record. Rows form one chain across the whole system: each row's
digest is an HMAC over its content and the previous row's digest (by `global_seq`), keyed by
a key that lives outside the database (HISTORY_HMAC_KEY, identified by `key_id` so that the
key can be rotated). `HistoryHead` is the chain's head, locked by every writer, so that the
sequence has no gaps and no two writers take the same number.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone

from projects.models.choices import (
    CHECKLIST,
    AcceptanceConclusion,
    Decision,
    Grade,
    ReviewKind,
    State,
)
from projects.models.project import MONEY, Project, ProjectScopedQuerySet


class Review(models.Model):
    """A signed review decision (DA/T 95: name, organisation, title, role, time, opinion)."""

    project = models.ForeignKey(
        Project, on_delete=models.PROTECT, related_name="reviews", verbose_name="项目"
    )
    kind = models.CharField("审核类型", max_length=20, choices=ReviewKind.choices)
    decision = models.CharField("决定", max_length=20, choices=Decision.choices)
    conclusion = models.CharField(
        "验收结论", max_length=20, choices=AcceptanceConclusion.choices, blank=True
    )
    opinion = models.TextField("意见")
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="审核人"
    )
    reviewer_name = models.CharField("签名", max_length=100)
    reviewer_organization = models.CharField("所在组织", max_length=100)
    reviewer_title = models.CharField("职务", max_length=60, blank=True)
    reviewer_role = models.CharField("角色", max_length=60)
    signed_at = models.DateTimeField("签署时间", default=timezone.now)
    grade = models.PositiveSmallIntegerField(
        "核定等级", choices=Grade.choices, null=True, blank=True
    )
    amount = models.DecimalField("核定/批准金额", **MONEY, null=True, blank=True)

    objects = ProjectScopedQuerySet.as_manager()

    class Meta:
        app_label = "projects"
        verbose_name = "审核记录"
        verbose_name_plural = "审核记录"
        ordering = ["signed_at", "pk"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.get_decision_display()} {self.reviewer_name}"


for _name, _label in CHECKLIST:
    Review.add_to_class(_name, models.BooleanField(_label, null=True, blank=True))


class ProjectHistory(models.Model):
    """One append-only event: who, when, what (`transition`), before → after, signed.

    `project` is empty only for events of the whole system (a funding-policy change).
    `seq` numbers a project's own events; `global_seq` numbers every event, and the digest
    chain runs along it.
    """

    global_seq = models.BigIntegerField("全局序号", unique=True)
    project = models.ForeignKey(
        Project,
        on_delete=models.PROTECT,
        related_name="history",
        verbose_name="项目",
        null=True,
        blank=True,
    )
    seq = models.PositiveIntegerField("序号", null=True, blank=True)
    transition = models.CharField("操作", max_length=40)
    subject = models.CharField("对象", max_length=80, blank=True)
    from_state = models.CharField("原状态", max_length=20, choices=State.choices, blank=True)
    to_state = models.CharField("新状态", max_length=20, choices=State.choices, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="操作人"
    )
    actor_name = models.CharField("签名", max_length=100)
    actor_organization = models.CharField("所在组织", max_length=100)
    actor_title = models.CharField("职务", max_length=60, blank=True)
    actor_roles = models.CharField("角色", max_length=200)
    opinion = models.TextField("意见", blank=True)
    data = models.JSONField("决定内容", default=dict, blank=True)
    created_at = models.DateTimeField("时间")
    key_id = models.CharField("密钥编号", max_length=20)
    prev_digest = models.CharField(max_length=64, blank=True)
    digest = models.CharField(max_length=64)

    objects = ProjectScopedQuerySet.as_manager()

    class Meta:
        app_label = "projects"
        verbose_name = "项目历史"
        verbose_name_plural = "项目历史"
        ordering = ["global_seq"]
        constraints = [
            models.UniqueConstraint(fields=["project", "seq"], name="history_seq_unique"),
        ]
        indexes = [
            models.Index(fields=["project", "seq"], name="history_project_seq"),
            # A project's first approve / request_settlement (the invoice date rules, issue 12).
            models.Index(
                fields=["project", "transition", "global_seq"], name="history_project_transition"
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.global_seq} {self.transition}"


class HistoryHead(models.Model):
    """The chain's head (one row): the last global sequence number and its digest."""

    global_seq = models.BigIntegerField(default=0)
    digest = models.CharField(max_length=64, blank=True)

    class Meta:
        app_label = "projects"
        verbose_name = "历史链头"
        verbose_name_plural = "历史链头"

    def __str__(self) -> str:
        return f"#{self.global_seq}"
