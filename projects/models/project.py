"""The project and its life, as the regulation's flow chart (三(一)) draws it.

制定计划 → 项目负责人立项 → 项目申请报告 → 项目部审核 → 领导小组复审 → 运行期间检查监督
→ 验收 → 项目资金结算 → 基层党组织总结汇报 (归档)

Each step is one @transition on Project. A transition only sets the fields its step decides;
projects.services.transitions applies it (lock, permission, history, notifications).
"""

import datetime
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q, Sum
from django.utils import timezone
from django_fsm import FSMField, FSMModelMixin, transition

from accounts.scoping import ScopedQuerySet
from projects import permissions as perm
from projects.models.choices import (
    CHECKLIST,
    AcceptanceConclusion,
    AllowedUse,
    BudgetItem,
    Category,
    Decision,
    Grade,
    Origin,
    ReviewKind,
    State,
    Term,
)
from projects.money import ZERO, format_cny, to_money

MONEY = {"max_digits": 14, "decimal_places": 2}


def guard(message: str):
    """Mark a transition condition with the Chinese sentence shown when it is not met."""

    def mark(func):
        func.message = message
        return func

    return mark


class FundingPolicy(models.Model):
    """The year's pool (年度党员活动经费总额) and the cap per grade (二(三))."""

    year = models.PositiveIntegerField("年度", unique=True)
    pool_total = models.DecimalField(
        "年度经费总额", **MONEY, validators=[MinValueValidator(Decimal("0"))]
    )
    grade1_cap = models.DecimalField("一级项目上限", **MONEY, validators=[MinValueValidator(0)])
    grade2_cap = models.DecimalField("二级项目上限", **MONEY, validators=[MinValueValidator(0)])
    grade3_cap = models.DecimalField("三级项目上限", **MONEY, validators=[MinValueValidator(0)])
    note = models.TextField("说明", blank=True)

    class Meta:
        verbose_name = "年度经费政策"
        verbose_name_plural = "年度经费政策"
        ordering = ["-year"]
        constraints = [
            models.CheckConstraint(
                condition=Q(
                    pool_total__gte=0, grade1_cap__gte=0, grade2_cap__gte=0, grade3_cap__gte=0
                ),
                name="policy_amounts_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.year}年度经费政策"

    def cap_for(self, grade: int) -> Decimal:
        # 二(三)4: 四级拨款项目一般不予以资金上的支持.
        return {1: self.grade1_cap, 2: self.grade2_cap, 3: self.grade3_cap}.get(int(grade), ZERO)

    def committed(self, *, excluding=None) -> Decimal:
        """What the year's projects hold in the pool (see Project.committed_amount)."""
        projects = Project.objects.filter(year=self.year)
        if excluding is not None:
            projects = projects.exclude(pk=excluding.pk)
        return to_money(projects.aggregate(total=Sum("committed_amount"))["total"] or ZERO)

    def remaining(self, *, excluding=None) -> Decimal:
        return to_money(self.pool_total - self.committed(excluding=excluding))


class ProjectCodeCounter(models.Model):
    """The last project number given out in a year, taken under a row lock (2026-0012)."""

    year = models.PositiveIntegerField("年度", primary_key=True)
    last_number = models.PositiveIntegerField("已分配的最大序号", default=0)

    class Meta:
        verbose_name = "项目编号计数"
        verbose_name_plural = "项目编号计数"

    def __str__(self) -> str:
        return f"{self.year}: {self.last_number}"


class ProhibitedItem(models.Model):
    """Budget-line words flagged to every reviewer (旅游, 宴请, 高档娱乐, 固定资产, 个人补贴 …)."""

    keyword = models.CharField("关键词", max_length=30, unique=True)
    reason = models.CharField("说明", max_length=200, blank=True)

    class Meta:
        verbose_name = "禁止列支事项"
        verbose_name_plural = "禁止列支事项"
        ordering = ["keyword"]

    def __str__(self) -> str:
        return self.keyword


class ProjectQuerySet(ScopedQuerySet):
    scope_organization_field = "organization"

    def overdue_first_review(self, today: datetime.date | None = None):
        today = today or timezone.localdate()
        return self.filter(state=State.ORG_REVIEW, first_review_deadline__lt=today)


class ProjectScopedQuerySet(ScopedQuerySet):
    """For the records that hang off a project: scoped by the project's organisation."""

    scope_organization_field = "project__organization"


# --- guards (conditions=) -------------------------------------------------------------

APPLICATION_SECTIONS = [
    ("leader_profile", "负责人简介"),
    ("purpose", "活动目的"),
    ("content", "活动内容"),
    ("plan", "活动计划"),
    ("expected_outcome", "预期目标"),
]


@guard("申请书各部分(负责人简介、活动目的、活动内容、活动计划、预期目标)须全部填写。")
def application_complete(project) -> bool:
    return all((getattr(project, name) or "").strip() for name, _ in APPLICATION_SECTIONS)


@guard("活动起止日期须填写,且结束日期不得早于开始日期。")
def dates_valid(project) -> bool:
    return bool(project.start_date and project.end_date and project.start_date <= project.end_date)


@guard("除申报四级项目外,至少需要一条预算明细。")
def has_budget_unless_grade_4(project) -> bool:
    return project.proposed_grade == Grade.GRADE_4 or project.budget_lines.exists()


@guard("自行策划的项目须说明所服务的党费使用范围(中组部规定第十九条)。")
def allowed_use_stated(project) -> bool:
    return project.category != Category.SELF_PLANNED or bool(project.allowed_use)


@guard("项目负责人尚未提交活动总结报告。")
def has_summary_report(project) -> bool:
    return hasattr(project, "summary_report") and project.summary_report is not None


@guard("须有决算清单(各预算明细的实际支出)且至少一张发票。")
def has_final_accounts(project) -> bool:
    return (
        project.invoices.exists()
        and not project.budget_lines.filter(actual_amount__isnull=True).exists()
    )


@guard("核定金额为零的项目无需结算。")
def has_money(project) -> bool:
    return (project.approved_amount or ZERO) > 0


@guard("核定金额不为零的项目须先完成结算。")
def has_no_money(project) -> bool:
    return (project.approved_amount or ZERO) == 0


@guard("还有发票未经财政科审核。")
def every_invoice_checked(project) -> bool:
    from projects.models.money import Invoice

    return not project.invoices.filter(check_status=Invoice.CheckStatus.PENDING).exists()


def _require_conditions_met(decision: dict) -> None:
    """二(二): the six conditions are what a project must meet to be approved. An approval
    with any answer 不符合 is refused; the reviewer returns it for changes instead."""
    unmet = [label for name, label in CHECKLIST if decision.get(name) is False]
    if unmet:
        raise ValidationError(
            f"以下立项条件被判定为“不符合”:{'、'.join(unmet)}。"
            "条件不符合的项目不能通过审核,请使用“退回修改”写明需修改之处。"
        )


def _require_opinion(opinion: str | None, what: str = "意见") -> str:
    if not (opinion or "").strip():
        raise ValidationError(f"请填写{what}。")
    return opinion.strip()


class Project(FSMModelMixin, models.Model):
    code = models.CharField("项目编号", max_length=20, unique=True, editable=False)
    year = models.PositiveIntegerField("年度", db_index=True)
    # The number part of the code: lists sort by (year, number), so 2026-10000 follows
    # 2026-9999 (as text it would not).
    number = models.PositiveIntegerField("序号", default=0, editable=False)
    title = models.CharField("项目名称", max_length=200)
    category = models.CharField("立项支持类型", max_length=20, choices=Category.choices)
    allowed_use = models.CharField(
        "党费使用范围",
        max_length=20,
        choices=AllowedUse.choices,
        blank=True,
        help_text="自行策划的项目须说明服务于哪一项党费使用范围。",
    )
    origin = models.CharField(
        "项目来源", max_length=20, choices=Origin.choices, default=Origin.SELF_PLANNED
    )
    term = models.CharField("项目周期", max_length=10, choices=Term.choices, default=Term.SHORT)
    start_date = models.DateField("开始日期", null=True, blank=True)
    end_date = models.DateField("结束日期", null=True, blank=True)
    organization = models.ForeignKey(
        "accounts.Organization",
        verbose_name="申报组织",
        on_delete=models.PROTECT,
        related_name="projects",
    )
    leader = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="项目负责人",
        on_delete=models.PROTECT,
        related_name="led_projects",
    )
    # 三(二)1 项目申请报告的内容 (附表)
    leader_profile = models.TextField("负责人简介", blank=True)
    purpose = models.TextField("活动目的", blank=True)
    content = models.TextField("活动内容", blank=True)
    plan = models.TextField("活动计划", blank=True)
    expected_outcome = models.TextField("预期目标", blank=True)
    participants = models.PositiveIntegerField("预计参与人数", null=True, blank=True)

    proposed_grade = models.PositiveSmallIntegerField("申报等级", choices=Grade.choices)
    grade = models.PositiveSmallIntegerField(
        "核定等级", choices=Grade.choices, null=True, blank=True, editable=False
    )
    requested_amount = models.DecimalField("申请金额", **MONEY, default=ZERO, editable=False)
    approved_amount = models.DecimalField(
        "核定金额", **MONEY, null=True, blank=True, editable=False
    )
    # The part of the year's pool this project holds: the approved amount while it runs,
    # the settlement amount once settled, nothing when terminated (DESIGN.md §4 ledgers).
    committed_amount = models.DecimalField("占用额度", **MONEY, default=ZERO, editable=False)
    payable_limit = models.DecimalField(
        "批准拨付限额", **MONEY, null=True, blank=True, editable=False
    )
    payment_approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="拨付审批人",
        null=True,
        blank=True,
        editable=False,
        on_delete=models.PROTECT,
        related_name="+",
    )
    settlement_amount = models.DecimalField(
        "结算金额", **MONEY, null=True, blank=True, editable=False
    )
    loss_amount = models.DecimalField(
        "票据不合格损失", **MONEY, null=True, blank=True, editable=False
    )

    submitted_at = models.DateTimeField("提交时间", null=True, blank=True, editable=False)
    first_review_deadline = models.DateField(
        "初审期限", null=True, blank=True, editable=False, db_index=True
    )
    is_commended = models.BooleanField("优秀项目", default=False, editable=False)
    closed_at = models.DateTimeField("归档时间", null=True, blank=True, editable=False)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    state = FSMField(
        "状态", default=State.DRAFT, choices=State.choices, protected=True, db_index=True
    )

    objects = ProjectQuerySet.as_manager()

    class Meta:
        verbose_name = "党费项目"
        verbose_name_plural = "党费项目"
        ordering = ["-year", "-number"]
        permissions = [("import_project", "可以导入项目"), ("export_project", "可以导出项目")]
        indexes = [
            models.Index(fields=["organization", "state"], name="project_org_state"),
            models.Index(fields=["year", "state"], name="project_year_state"),
            # Issue 6 (city scale): the changelist's default order (-year, -code) and a
            # scoped user's list read the first page from an index instead of sorting a year.
            models.Index(fields=["year", "number"], name="project_year_number"),
            models.Index(fields=["organization", "year", "number"], name="project_org_year_number"),
            # The index page's to-do lists (state = X ORDER BY code LIMIT 20): without it the
            # planner walks the code index past every project in other states.
            models.Index(fields=["state", "year", "number"], name="project_state_number"),
            # Finance's 待审核的发票 panel (projects in the invoice-check states, in list
            # order, LIMIT 20): read in order from here instead of walking every year's
            # projects (city scale: 90,000 rows skipped).
            models.Index(
                fields=["year", "number"],
                condition=Q(state__in=sorted(perm.INVOICE_CHECK_STATES)),
                name="project_invoice_check_number",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(approved_amount__isnull=True) | Q(approved_amount__gte=0),
                name="project_approved_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(committed_amount__gte=0), name="project_committed_not_negative"
            ),
            # Never settle more than approved (三(四): 按照不超过立项申请的资金数额).
            models.CheckConstraint(
                condition=Q(settlement_amount__isnull=True)
                | Q(settlement_amount__gte=0, settlement_amount__lte=models.F("approved_amount")),
                name="project_settlement_within_approved",
            ),
            models.CheckConstraint(
                condition=Q(end_date__isnull=True)
                | Q(start_date__isnull=True)
                | Q(end_date__gte=models.F("start_date")),
                name="project_dates_ordered",
                violation_error_message="结束日期不得早于开始日期。",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.title}"

    def clean(self) -> None:
        if self.start_date and self.end_date and self.end_date < self.start_date:
            raise ValidationError({"end_date": "结束日期不得早于开始日期。"})
        if self.category == Category.SELF_PLANNED and not self.allowed_use:
            raise ValidationError({"allowed_use": "自行策划的项目须选择党费使用范围。"})

    # --- derived values -----------------------------------------------------------------

    @property
    def is_overdue_first_review(self) -> bool:
        return (
            self.state == State.ORG_REVIEW
            and self.first_review_deadline is not None
            and self.first_review_deadline < timezone.localdate()
        )

    def budget_total(self) -> Decimal:
        return to_money(self.budget_lines.aggregate(total=Sum("amount"))["total"] or ZERO)

    def policy(self) -> "FundingPolicy | None":
        return FundingPolicy.objects.filter(year=self.year).first()

    def approval_errors(self, grade: int, amount: Decimal, policy: "FundingPolicy | None"):
        """二(三): amount ≤ the grade's cap, ≤ requested, ≤ the pool remaining; grade 4 ⇒ 0."""
        if policy is None:
            return [f"{self.year}年度尚未设定经费政策(年度总额和各级上限)。"]
        errors = []
        if amount < 0:
            errors.append("核定金额不能为负数。")
        if int(grade) == Grade.GRADE_4 and amount != 0:
            errors.append("四级拨款项目不予资金支持,核定金额必须为 0。")
        cap = policy.cap_for(grade)
        if amount > cap:
            errors.append(
                f"核定金额 {format_cny(amount)} 超过{Grade(int(grade)).label}上限 "
                f"{format_cny(cap)}。"
            )
        if amount > self.requested_amount:
            errors.append(f"核定金额不能超过申请金额 {format_cny(self.requested_amount)}。")
        remaining = policy.remaining(excluding=self)
        if amount > remaining:
            errors.append(f"核定金额超过年度经费剩余额度 {format_cny(remaining)}。")
        return errors

    # --- the transitions (DESIGN.md §3) ---------------------------------------------------

    @transition(
        field=state,
        source=[State.DRAFT, State.RETURNED],
        target=State.ORG_REVIEW,
        permission=perm.is_leader_or_org_reviewer,
        conditions=[
            application_complete,
            dates_valid,
            has_budget_unless_grade_4,
            allowed_use_stated,
        ],
        custom={"label": "提交项目部初审", "review": None},
    )
    def submit(self, *, actor, opinion: str = "", **decision) -> None:
        # 三(二)2: 项目部在接到项目申请报告一周内须完成初审.
        self.submitted_at = timezone.now()
        self.first_review_deadline = timezone.localdate() + datetime.timedelta(
            days=settings.ORG_REVIEW_DAYS
        )
        self.requested_amount = self.budget_total()

    @transition(
        field=state,
        source=[State.DRAFT, State.ORG_REVIEW, State.RETURNED],
        target=State.WITHDRAWN,
        permission=perm.is_leader,
        custom={"label": "撤回申请"},
    )
    def withdraw(self, *, actor, opinion: str = "", **decision) -> None:
        pass

    @transition(
        field=state,
        source=State.ORG_REVIEW,
        target=State.LEADERSHIP_REVIEW,
        permission=perm.is_independent_org_reviewer,
        custom={
            "label": "初审通过,报领导小组",
            "review": ReviewKind.FIRST,
            "decision": Decision.APPROVE,
        },
    )
    def org_approve(self, *, actor, opinion: str, **decision) -> None:
        _require_opinion(opinion, "初审意见")
        _require_conditions_met(decision)

    @transition(
        field=state,
        source=State.ORG_REVIEW,
        target=State.RETURNED,
        permission=perm.is_independent_org_reviewer,
        custom={"label": "退回修改(质疑)", "review": ReviewKind.FIRST, "decision": Decision.RETURN},
    )
    def org_return(self, *, actor, opinion: str, **decision) -> None:
        _require_opinion(opinion, "质疑意见")

    @transition(
        field=state,
        source=State.ORG_REVIEW,
        target=State.REJECTED,
        permission=perm.is_independent_org_reviewer,
        custom={"label": "初审不通过", "review": ReviewKind.FIRST, "decision": Decision.REJECT},
    )
    def org_reject(self, *, actor, opinion: str, **decision) -> None:
        _require_opinion(opinion, "不通过的理由")

    @transition(
        field=state,
        source=State.LEADERSHIP_REVIEW,
        target=State.APPROVED,
        permission=perm.is_leadership,
        custom={
            "label": "复审通过,定级立项",
            "review": ReviewKind.LEADERSHIP,
            "decision": Decision.APPROVE,
            "locks_pool": True,
        },
    )
    def approve(
        self, *, actor, opinion: str, grade: int, approved_amount: Decimal, **decision
    ) -> None:
        _require_opinion(opinion, "复审意见")
        _require_conditions_met(decision)
        amount = to_money(approved_amount)
        errors = self.approval_errors(grade, amount, self.policy())
        if errors:
            raise ValidationError(errors)
        self.grade = int(grade)
        self.approved_amount = amount
        self.committed_amount = amount

    @transition(
        field=state,
        source=State.LEADERSHIP_REVIEW,
        target=State.RETURNED,
        permission=perm.is_leadership,
        custom={"label": "退回修改", "review": ReviewKind.LEADERSHIP, "decision": Decision.RETURN},
    )
    def leadership_return(self, *, actor, opinion: str, **decision) -> None:
        _require_opinion(opinion, "退回意见")

    @transition(
        field=state,
        source=State.LEADERSHIP_REVIEW,
        target=State.REJECTED,
        permission=perm.is_leadership,
        custom={
            "label": "复审不通过",
            "review": ReviewKind.LEADERSHIP,
            "decision": Decision.REJECT,
        },
    )
    def reject(self, *, actor, opinion: str, **decision) -> None:
        _require_opinion(opinion, "不通过的理由")

    @transition(
        field=state,
        source=State.APPROVED,
        target=State.IN_PROGRESS,
        permission=perm.is_leader_or_org_reviewer,
        custom={"label": "开始实施"},
    )
    def start(self, *, actor, opinion: str = "", **decision) -> None:
        pass

    @transition(
        field=state,
        source=State.IN_PROGRESS,
        target=State.ACCEPTANCE,
        permission=perm.is_independent_org_reviewer,
        conditions=[has_summary_report],
        custom={"label": "活动结束,报请验收"},
    )
    def finish(self, *, actor, opinion: str, **decision) -> None:
        # 三(一)5: 总结报告经项目部审核后, 报领导小组.
        _require_opinion(opinion, "项目部审核意见")

    @transition(
        field=state,
        source=State.ACCEPTANCE,
        target=State.IN_PROGRESS,
        permission=perm.is_leadership,
        custom={"label": "整改", "review": ReviewKind.ACCEPTANCE, "decision": Decision.RETURN},
    )
    def rectify(self, *, actor, opinion: str, **decision) -> None:
        _require_opinion(opinion, "整改意见")

    @transition(
        field=state,
        source=State.ACCEPTANCE,
        target=State.ACCEPTED,
        permission=perm.is_leadership,
        custom={"label": "验收通过", "review": ReviewKind.ACCEPTANCE, "decision": Decision.APPROVE},
    )
    def accept(self, *, actor, opinion: str, conclusion: str, **decision) -> None:
        _require_opinion(opinion, "验收意见")
        if conclusion not in (AcceptanceConclusion.EXCELLENT, AcceptanceConclusion.PASS):
            raise ValidationError("验收结论为“不合格”时请使用“整改”。")

    @transition(
        field=state,
        source=State.ACCEPTED,
        target=State.SETTLEMENT_REVIEW,
        permission=perm.is_independent_org_reviewer,
        conditions=[has_money, has_final_accounts],
        custom={"label": "提交决算,申请拨付"},
    )
    def request_settlement(self, *, actor, opinion: str = "", **decision) -> None:
        pass

    @transition(
        field=state,
        source=State.SETTLEMENT_REVIEW,
        target=State.ACCEPTED,
        permission=perm.is_leadership,
        custom={"label": "退回决算", "review": ReviewKind.SETTLEMENT, "decision": Decision.RETURN},
    )
    def return_settlement(self, *, actor, opinion: str, **decision) -> None:
        _require_opinion(opinion, "退回意见")

    @transition(
        field=state,
        source=State.SETTLEMENT_REVIEW,
        target=State.PAYMENT,
        permission=perm.is_independent_payment_approver,
        custom={"label": "批准拨付", "review": ReviewKind.SETTLEMENT, "decision": Decision.APPROVE},
    )
    def approve_payment(self, *, actor, opinion: str, payable_limit: Decimal, **decision) -> None:
        _require_opinion(opinion, "审批意见")
        limit = to_money(payable_limit)
        claimed = self.claimed_total()
        if limit <= 0:
            raise ValidationError("批准拨付限额必须大于 0。")
        if limit > (self.approved_amount or ZERO):
            raise ValidationError(
                f"批准拨付限额不能超过核定金额 {format_cny(self.approved_amount)}。"
            )
        if limit > claimed:
            raise ValidationError(f"批准拨付限额不能超过发票申报合计 {format_cny(claimed)}。")
        self.payable_limit = limit
        self.payment_approved_by = actor

    @transition(
        field=state,
        source=State.PAYMENT,
        target=State.SETTLED,
        permission=perm.is_settling_finance,
        conditions=[every_invoice_checked],
        custom={"label": "确认结算并拨付", "locks_pool": True},
    )
    def settle(self, *, actor, opinion: str = "", **decision) -> None:
        # 三(四): 财政科根据批准的项目资金对结算额度予以确认后拨付;
        # 票据不合格造成的损失由项目部自行承担.
        qualified, unqualified = self.invoice_totals()
        self.settlement_amount = min(qualified, self.payable_limit or ZERO)
        self.loss_amount = unqualified
        # Whatever was approved but not settled goes back to the year's pool.
        self.committed_amount = self.settlement_amount

    @transition(
        field=state,
        source=[State.SETTLED, State.ACCEPTED],
        target=State.CLOSED,
        permission=perm.is_leadership,
        conditions=[],
        custom={"label": "结项归档"},
    )
    def close(self, *, actor, opinion: str = "", is_commended: bool = False, **decision) -> None:
        if self.state == State.ACCEPTED and not has_no_money(self):
            raise ValidationError(has_no_money.message)
        self.is_commended = bool(is_commended)
        self.closed_at = timezone.now()

    @transition(
        field=state,
        source=[State.APPROVED, State.IN_PROGRESS, State.ACCEPTANCE],
        target=State.TERMINATED,
        permission=perm.is_leadership,
        custom={"label": "终止项目", "locks_pool": True},
    )
    def terminate(self, *, actor, opinion: str, **decision) -> None:
        _require_opinion(opinion, "终止理由")
        # Nothing has been paid before settlement: the whole commitment is released.
        self.committed_amount = ZERO

    # --- money read-outs used by the transitions ------------------------------------------

    def claimed_total(self) -> Decimal:
        return to_money(self.invoices.aggregate(total=Sum("total"))["total"] or ZERO)

    def invoice_totals(self) -> tuple[Decimal, Decimal]:
        """(qualified total, unqualified total) of the project's invoices, each never below 0.

        A red invoice (negative) counts where `settlement_status` puts it: under the result
        of the blue invoice it cancels on this project, otherwise as 合格 (it lowers what is
        paid). Neither sum goes below zero: more red than blue pays nothing and is no loss."""
        from projects.models.money import Invoice, settlement_status

        rows = dict(
            self.invoices.annotate(counted=settlement_status())
            .values_list("counted")
            .annotate(total=Sum("total"))
            .values_list("counted", "total")
        )
        return (
            max(to_money(rows.get(Invoice.CheckStatus.QUALIFIED) or ZERO), ZERO),
            max(to_money(rows.get(Invoice.CheckStatus.UNQUALIFIED) or ZERO), ZERO),
        )


class BudgetLine(models.Model):
    """预算明细. The requested amount is their sum; editable only in draft/returned."""

    project = models.ForeignKey(
        Project, on_delete=models.CASCADE, related_name="budget_lines", verbose_name="项目"
    )
    item = models.CharField("预算科目", max_length=20, choices=BudgetItem.choices)
    description = models.CharField("用途说明", max_length=200)
    quantity = models.DecimalField(
        "数量", max_digits=10, decimal_places=2, validators=[MinValueValidator(Decimal("0.01"))]
    )
    unit_price = models.DecimalField("单价", **MONEY, validators=[MinValueValidator(ZERO)])
    amount = models.DecimalField("金额", **MONEY, validators=[MinValueValidator(ZERO)])
    # 决算清单: the actual spend per line, filled when the org asks for settlement.
    actual_amount = models.DecimalField(
        "实际支出", **MONEY, null=True, blank=True, validators=[MinValueValidator(ZERO)]
    )

    objects = ProjectScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "预算明细"
        verbose_name_plural = "预算明细"
        ordering = ["pk"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gte=0), name="budget_amount_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.get_item_display()} {self.description}"

    def clean(self) -> None:
        if self.quantity is not None and self.unit_price is not None:
            expected = to_money(self.quantity * self.unit_price)
            if self.amount is None:
                self.amount = expected
            elif to_money(self.amount) != expected:
                # Not tied to `amount`: the budget form has no such field (it is computed).
                raise ValidationError(f"金额应等于数量×单价({format_cny(expected)})。")

    def prohibited_keywords(self, keywords) -> list[str]:
        text = f"{self.description}"
        return [word for word in keywords if word in text]
