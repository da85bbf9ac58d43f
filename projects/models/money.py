"""Invoices and disbursements (DESIGN.md §4, regulation 三(四) and the single-account model)."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Round
from django.utils import timezone

from projects.models.project import MONEY, BudgetLine, Project, ProjectScopedQuerySet
from projects.models.running import Document


class Invoice(models.Model):
    class Kind(models.TextChoices):
        VAT_SPECIAL = "vat_special", "增值税专用发票"
        VAT_ORDINARY = "vat_ordinary", "增值税普通发票"
        DIGITAL = "digital", "数电发票"
        FISCAL_RECEIPT = "fiscal_receipt", "财政票据/收据"
        OTHER = "other", "其他"

    class CheckStatus(models.TextChoices):
        PENDING = "pending", "待审核"
        QUALIFIED = "qualified", "合格"
        UNQUALIFIED = "unqualified", "不合格"

    project = models.ForeignKey(
        Project, on_delete=models.PROTECT, related_name="invoices", verbose_name="项目"
    )
    budget_line = models.ForeignKey(
        BudgetLine, on_delete=models.PROTECT, related_name="invoices", verbose_name="预算明细"
    )
    kind = models.CharField("票据种类", max_length=20, choices=Kind.choices)
    code = models.CharField("发票代码", max_length=12, blank=True)
    number = models.CharField("发票号码", max_length=20)
    # The normalised (code, number): one invoice may be claimed once in the whole system.
    identity = models.CharField("发票标识", max_length=40, unique=True, editable=False)
    issue_date = models.DateField("开票日期")
    seller_name = models.CharField("销售方名称", max_length=200)
    seller_tax_id = models.CharField("销售方纳税人识别号", max_length=18)
    buyer_name = models.CharField("购买方名称(抬头)", max_length=200)
    buyer_tax_id = models.CharField("购买方纳税人识别号", max_length=18, blank=True)
    item_names = models.TextField(
        "货物或服务名称", blank=True, help_text="每行一项,如“*纸制品*复印纸”"
    )
    amount = models.DecimalField("金额", **MONEY)
    tax = models.DecimalField("税额", **MONEY)
    total = models.DecimalField("价税合计", **MONEY)
    # A 红字发票 (negative amounts) names the blue invoice it cancels: that invoice's identity
    # (code and number written together, or the 20-digit 数电 number), "" when not given.
    cancels = models.CharField(
        "所冲销的蓝字发票",
        max_length=40,
        blank=True,
        default="",
        db_default="",  # rows written by raw SQL (bench/generate.py's COPY) need no value
        help_text="仅红字发票填写:被冲销的蓝字发票的发票代码和号码连写,或数电发票的 20 位号码",
    )
    scan = models.ForeignKey(
        Document,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="发票影像",
    )
    # How the fields were given: "" typed by hand, or the capture reader's source ("qr",
    # "xml", "ofd", "pdf:qr", "zip:xml" …). The original file itself is `scan` (a Document:
    # stored through Django's storage, served only by the scoped download view).
    capture_source = models.CharField("录入方式", max_length=20, blank=True)
    # Numbers of one seller's invoice book (拆分开票): seller, code and the number's fixed
    # head; `serial` the number's running tail. Empty/None where the number is not digits.
    series = models.CharField("号段", max_length=60, blank=True, editable=False)
    serial = models.BigIntegerField("段内序号", null=True, blank=True, editable=False)
    check_status = models.CharField(
        "审核结果",
        max_length=20,
        choices=CheckStatus.choices,
        default=CheckStatus.PENDING,
        db_index=True,
    )
    check_reason = models.CharField("不合格原因", max_length=200, blank=True)
    checked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="审核人",
    )
    checked_at = models.DateTimeField("审核时间", null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="录入人"
    )
    created_at = models.DateTimeField("录入时间", default=timezone.now)

    objects = ProjectScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "发票"
        verbose_name_plural = "发票"
        ordering = ["project", "issue_date", "pk"]
        permissions = [
            ("import_invoice", "可以导入发票"),
            ("export_invoice", "可以导出发票"),
            ("check_invoice", "可以审核发票"),
        ]
        indexes = [
            models.Index(fields=["series", "serial"], name="invoice_series_serial"),
            # The repeat rule reads one calendar month of a seller's amount (a date range).
            models.Index(
                fields=["seller_tax_id", "total", "issue_date"], name="invoice_seller_total_day"
            ),
            # The red invoices only (few): "which red invoice cancels this one" per row.
            models.Index(fields=["cancels"], condition=~Q(cancels=""), name="invoice_cancels"),
        ]
        constraints = [
            # A blue invoice: amount and tax not negative; a red one (红字): neither positive
            # and the total below zero. Only a red invoice names the invoice it cancels.
            # The sum is compared in cents: SQLite adds decimals as binary floats
            # (87.37 + 21.09 = 108.46000000000001), PostgreSQL's numeric is exact anyway.
            models.CheckConstraint(
                condition=Q(total=Round(models.F("amount") + models.F("tax"), 2))
                & (Q(amount__gte=0, tax__gte=0) | Q(amount__lte=0, tax__lte=0, total__lt=0))
                & (Q(cancels="") | Q(total__lt=0)),
                name="invoice_signs_and_total",
                violation_error_message=(
                    "金额 + 税额须等于价税合计;蓝字发票的金额和税额不能为负数,红字发票的金额、"
                    "税额和价税合计不能为正数;只有红字发票才能填写所冲销的蓝字发票。"
                ),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.code}{self.number}"

    @property
    def is_red(self) -> bool:
        return self.total is not None and self.total < 0


def settlement_status():
    """The check result an invoice's total counts under in the settlement sums.

    A blue invoice: its own. A red invoice (negative total) offsets the blue invoice it
    cancels when that invoice is on the same project, so it counts under that invoice's
    result (a cancelled 不合格 invoice nets out of the loss, not out of the payment);
    otherwise it counts as 合格 whatever its own result: a red invoice can only lower what is
    paid, never raise it (finance cannot turn a cancellation into money by rejecting it)."""
    from django.db.models import Case, OuterRef, Subquery, Value, When
    from django.db.models.functions import Coalesce

    cancelled = Subquery(
        Invoice.objects.filter(
            identity=OuterRef("cancels"), project=OuterRef("project"), total__gte=0
        )
        .order_by()
        .values("check_status")[:1]
    )
    return Case(
        When(total__gte=0, then=models.F("check_status")),
        default=Coalesce(cancelled, Value(Invoice.CheckStatus.QUALIFIED)),
        output_field=models.CharField(),
    )


# The list's first words (migration 0012 seeds its own frozen copy; demo_data this one): goods
# and services party fees may not pay for (预付卡, 烟酒, 礼品, 旅游, 宴请 …).
RISK_KEYWORD_SEED = [
    ("预付卡", "预付卡、购物卡不得用党费购买"),
    ("购物卡", "预付卡、购物卡不得用党费购买"),
    ("充值", "充值类消费,疑似购买预付卡或话费"),
    ("烟草", "烟酒不得用党费列支"),
    ("卷烟", "烟酒不得用党费列支"),
    ("酒水", "烟酒不得用党费列支"),
    ("白酒", "烟酒不得用党费列支"),
    ("礼品", "礼品不得用党费列支"),
    ("旅游", "旅游不得用党费列支"),
    ("宴请", "宴请不得用党费列支"),
]


class RiskKeyword(models.Model):
    """A word finance watches for in an invoice's items or seller (预付卡, 烟酒 …): a hit is
    shown as a risk flag with its reason, never a refusal by itself."""

    class Scope(models.TextChoices):
        BOTH = "both", "货物名称或销售方"
        ITEMS = "items", "仅货物或服务名称"
        SELLER = "seller", "仅销售方名称"

    word = models.CharField("关键词", max_length=40, unique=True)
    scope = models.CharField("匹配范围", max_length=10, choices=Scope.choices, default=Scope.BOTH)
    reason = models.CharField("提示理由", max_length=200, blank=True)
    active = models.BooleanField("启用", default=True)

    class Meta:
        verbose_name = "风险关键词"
        verbose_name_plural = "风险关键词"
        ordering = ["word"]

    def __str__(self) -> str:
        return self.word


class Disbursement(models.Model):
    """拨付: append-only. A correction is a reversing entry pointing at the original (红字冲销)."""

    class Method(models.TextChoices):
        DIRECT = "direct", "直接支付(付给供应商)"
        ALLOCATION = "allocation", "拨付(拨给基层党组织)"
        REIMBURSEMENT = "reimbursement", "报销(付给经办人)"

    project = models.ForeignKey(
        Project, on_delete=models.PROTECT, related_name="disbursements", verbose_name="项目"
    )
    amount = models.DecimalField("金额", **MONEY, help_text="冲销记录为负数")
    purpose = models.CharField("用途", max_length=200)
    voucher_number = models.CharField("支付凭证号", max_length=40, unique=True)
    voucher_date = models.DateField("凭证日期")
    method = models.CharField("支付方式", max_length=20, choices=Method.choices)
    payee_name = models.CharField("收款人", max_length=200)
    payee_bank = models.CharField("开户银行", max_length=100)
    payee_account = models.CharField("银行账号", max_length=40)
    bank_serial = models.CharField("银行流水号", max_length=60, blank=True)
    paid_on = models.DateField("实际支付日期", null=True, blank=True)
    prepared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="制单人"
    )
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="审批人"
    )
    paid_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="支付人"
    )
    reverses = models.OneToOneField(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="reversal",
        verbose_name="冲销的原记录",
    )
    note = models.CharField("备注", max_length=200, blank=True)
    created_at = models.DateTimeField("记账时间", default=timezone.now)

    objects = ProjectScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "拨付记录"
        verbose_name_plural = "拨付记录"
        ordering = ["project", "created_at", "pk"]
        permissions = [
            ("import_disbursement", "可以导入拨付记录"),
            ("export_disbursement", "可以导出拨付记录"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=(Q(reverses__isnull=True) & Q(amount__gt=0))
                | (Q(reverses__isnull=False) & Q(amount__lt=0)),
                name="disbursement_sign_matches_kind",
                violation_error_message="拨付金额须为正数;冲销记录须为负数并指向原记录。",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.voucher_number}"
