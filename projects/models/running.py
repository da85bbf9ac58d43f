"""Side records of a running project: 三(三) reports, changes, documents; 三(五) the summary.

Progress and problem reports, change requests, the summary report and uploaded documents.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django_fsm import FSMField, FSMModelMixin, transition

from projects import permissions as perm
from projects.dates import format_date, format_month
from projects.models.project import MONEY, Project, ProjectScopedQuerySet


class ProgressReport(models.Model):
    """进展报告: one per calendar month for a running project longer than a month (三(一)5)."""

    project = models.ForeignKey(
        Project, on_delete=models.PROTECT, related_name="progress_reports", verbose_name="项目"
    )
    month = models.DateField("报告月份", help_text="该月第一天")
    progress = models.TextField("本月进展")
    problems = models.TextField("存在问题", blank=True)
    next_steps = models.TextField("下月计划", blank=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="填报人"
    )
    submitted_at = models.DateTimeField("提交时间", default=timezone.now)
    read_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="阅知人",
    )
    read_at = models.DateTimeField("阅知时间", null=True, blank=True)
    org_comment = models.TextField("项目部意见", blank=True)

    objects = ProjectScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "进展报告"
        verbose_name_plural = "进展报告"
        ordering = ["project", "month"]
        constraints = [
            models.UniqueConstraint(
                fields=["project", "month"],
                name="progress_report_once_a_month",
                violation_error_message="该月的进展报告已经提交过。",
            ),
        ]

    def __str__(self) -> str:
        # No project lookup: str() is drawn once per inline row on the project page.
        return f"{format_month(self.month)}进展报告"


class ProblemReport(models.Model):
    """问题上报: the leader reports, the org forwards to the leadership group, which answers."""

    project = models.ForeignKey(
        Project, on_delete=models.PROTECT, related_name="problem_reports", verbose_name="项目"
    )
    description = models.TextField("问题描述")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="上报人"
    )
    submitted_at = models.DateTimeField("上报时间", default=timezone.now)
    org_comment = models.TextField("项目部意见", blank=True)
    forwarded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="转报人",
    )
    forwarded_at = models.DateTimeField("转报时间", null=True, blank=True)
    answer = models.TextField("领导小组答复", blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="答复人",
    )
    answered_at = models.DateTimeField("答复时间", null=True, blank=True)

    objects = ProjectScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "问题上报"
        verbose_name_plural = "问题上报"
        ordering = ["-submitted_at"]

    def __str__(self) -> str:
        return f"问题上报 {format_date(self.submitted_at)}"


class ChangeRequest(FSMModelMixin, models.Model):
    """变更申请 (三(三)4): submitted → endorsed/turned down by the org → approved/rejected."""

    class Kind(models.TextChoices):
        CONTENT = "content", "活动内容"
        SCHEDULE = "schedule", "活动时间"
        BUDGET = "budget", "经费预算"
        LEADER = "leader", "项目负责人"

    class Status(models.TextChoices):
        SUBMITTED = "submitted", "待项目部讨论"
        ENDORSED = "endorsed", "待领导小组决定"
        TURNED_DOWN = "turned_down", "项目部未同意"
        APPROVED = "approved", "已批准"
        REJECTED = "rejected", "未批准"

    project = models.ForeignKey(
        Project, on_delete=models.PROTECT, related_name="change_requests", verbose_name="项目"
    )
    kind = models.CharField("变更类型", max_length=20, choices=Kind.choices)
    reason = models.TextField("变更理由")
    new_content = models.TextField("变更后活动内容", blank=True)
    new_start_date = models.DateField("变更后开始日期", null=True, blank=True)
    new_end_date = models.DateField("变更后结束日期", null=True, blank=True)
    new_amount = models.DecimalField("变更后核定金额", **MONEY, null=True, blank=True)
    new_leader = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="变更后负责人",
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="申请人"
    )
    requested_at = models.DateTimeField("申请时间", default=timezone.now)
    org_opinion = models.TextField("项目部意见", blank=True)
    org_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="项目部签署人",
    )
    org_at = models.DateTimeField("项目部签署时间", null=True, blank=True)
    decision_opinion = models.TextField("领导小组意见", blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="决定人",
    )
    decided_at = models.DateTimeField("决定时间", null=True, blank=True)
    status = FSMField("状态", default=Status.SUBMITTED, choices=Status.choices, protected=True)

    objects = ProjectScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "变更申请"
        verbose_name_plural = "变更申请"
        ordering = ["-requested_at"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}变更申请"

    # 三(三)4: 负责人应向项目部提出申请, 由项目部讨论后上报领导小组研究决定.
    # The transitions only set the decision fields; projects/services/change_requests.py
    # applies them (project row lock, the change itself, the history row).

    @transition(
        field=status,
        source=Status.SUBMITTED,
        target=Status.ENDORSED,
        permission=lambda cr, user: perm.may_endorse_change(cr.project, user),
    )
    def endorse(self, *, actor, opinion: str) -> None:
        self._sign_org(actor, opinion)

    @transition(
        field=status,
        source=Status.SUBMITTED,
        target=Status.TURNED_DOWN,
        permission=lambda cr, user: perm.may_endorse_change(cr.project, user),
    )
    def turn_down(self, *, actor, opinion: str) -> None:
        self._sign_org(actor, opinion)

    @transition(
        field=status,
        source=Status.ENDORSED,
        target=Status.APPROVED,
        permission=lambda cr, user: perm.may_decide_change(cr.project, user),
    )
    def approve(self, *, actor, opinion: str) -> None:
        self._sign_decision(actor, opinion)

    @transition(
        field=status,
        source=Status.ENDORSED,
        target=Status.REJECTED,
        permission=lambda cr, user: perm.may_decide_change(cr.project, user),
    )
    def reject(self, *, actor, opinion: str) -> None:
        self._sign_decision(actor, opinion)

    def _sign_org(self, actor, opinion: str) -> None:
        self.org_opinion = opinion
        self.org_by = actor
        self.org_at = timezone.now()

    def _sign_decision(self, actor, opinion: str) -> None:
        self.decision_opinion = opinion
        self.decided_by = actor
        self.decided_at = timezone.now()

    def describe_change(self) -> str:
        """The requested change in words (history, lists, the archive)."""
        from projects.money import format_cny

        if self.kind == self.Kind.CONTENT:
            return f"活动内容改为:{self.new_content}"
        if self.kind == self.Kind.SCHEDULE:
            start, end = format_date(self.new_start_date), format_date(self.new_end_date)
            return f"活动时间改为 {start} 至 {end}"
        if self.kind == self.Kind.BUDGET:
            return f"核定金额改为 {format_cny(self.new_amount)}"
        if self.kind == self.Kind.LEADER:
            name = self.new_leader.display_name if self.new_leader_id else ""
            return f"项目负责人改为 {name}"
        return ""


class SummaryReport(models.Model):
    """总结报告 (三(五)), required before the org sends the project to acceptance."""

    project = models.OneToOneField(
        Project, on_delete=models.PROTECT, related_name="summary_report", verbose_name="项目"
    )
    goals = models.TextField("活动预定目标")
    conduct = models.TextField("活动开展情况总结")
    self_assessment = models.TextField("组织者自我评定")
    lessons = models.TextField("组织者经验教训")
    participant_feedback = models.TextField("参与者心得体会")
    effect = models.TextField("活动达到的效果")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="填报人"
    )
    submitted_at = models.DateTimeField("提交时间", default=timezone.now)

    objects = ProjectScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "总结报告"
        verbose_name_plural = "总结报告"

    def __str__(self) -> str:
        return "活动总结报告"


def document_path(instance: "Document", filename: str) -> str:
    # Random, meaningless stored names: the original name is kept in the row only.
    import uuid

    return f"documents/{instance.project_id}/{uuid.uuid4().hex}"


class Document(models.Model):
    """An uploaded file, served only through the scoped download view (never media URLs)."""

    class Kind(models.TextChoices):
        APPLICATION_SCAN = "application_scan", "申请书扫描件"
        PHOTO = "photo", "活动照片"
        SUMMARY_ATTACHMENT = "summary_attachment", "总结附件"
        FINAL_ACCOUNTS = "final_accounts", "决算清单"
        INVOICE_SCAN = "invoice_scan", "发票影像"
        INVOICE_ORIGINAL = "invoice_original", "发票电子原件"
        OTHER = "other", "其他"

    project = models.ForeignKey(
        Project, on_delete=models.PROTECT, related_name="documents", verbose_name="项目"
    )
    kind = models.CharField("类别", max_length=30, choices=Kind.choices)
    file = models.FileField("文件", upload_to=document_path, max_length=200)
    original_name = models.CharField("文件名", max_length=200)
    content_type = models.CharField("类型", max_length=100)
    size = models.PositiveIntegerField("大小(字节)")
    sha256 = models.CharField("SHA-256", max_length=64)
    description = models.CharField("说明", max_length=200, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="上传人"
    )
    uploaded_at = models.DateTimeField("上传时间", default=timezone.now)

    objects = ProjectScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "附件"
        verbose_name_plural = "附件"
        ordering = ["project", "uploaded_at"]

    def __str__(self) -> str:
        return self.original_name


class Reminder(models.Model):
    """What send_reminders sent, so nobody is reminded twice of the same thing on a day."""

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    key = models.CharField(max_length=200)
    sent_on = models.DateField()

    class Meta:
        verbose_name = "提醒记录"
        verbose_name_plural = "提醒记录"
        constraints = [
            models.UniqueConstraint(
                fields=["recipient", "key", "sent_on"], name="reminder_once_a_day"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.recipient_id} {self.key} {self.sent_on}"
