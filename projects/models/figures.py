"""Yearly figures of the history, kept up to date by the one writer of events.

The statistics page reads two figures out of the year's history: the average days a project
spent in each state and the first-review punctuality. Computed from the rows, each costs a
pass over the year's history (it grows with the years); here they are running totals per
year and organisation, added to by `services.events.record` in the transaction of the event
itself (never a nightly job that can be stale). `services.figures.rebuild` recomputes them
from scratch (the data migration, and the tests that compare both).
"""

from django.db import models

from accounts.scoping import ScopedQuerySet

FIRST_REVIEW = "first_review"


def days_key(state: str) -> str:
    return f"days:{state}"


class HistoryFigure(models.Model):
    """One running total: `count` items and their `total`.

    key "days:<state>": count = stays in that state that have ended (a history row followed
    by the project's next one), total = their length in microseconds;
    key "first_review": count = first-review decisions, total = those on time.
    """

    year = models.PositiveIntegerField("年度")
    organization = models.ForeignKey(
        "accounts.Organization", on_delete=models.PROTECT, verbose_name="申报组织"
    )
    key = models.CharField("指标", max_length=40)
    count = models.BigIntegerField("个数", default=0)
    total = models.BigIntegerField("合计", default=0)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "历史统计数"
        verbose_name_plural = verbose_name
        constraints = [
            models.UniqueConstraint(
                fields=["year", "organization", "key"], name="history_figure_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.year} {self.key}: {self.count} / {self.total}"


# --- money figures (统计报表 and 经费池台账) ------------------------------------------------

ALL, GRADE, CATEGORY, STATE = "all", "grade", "category", "state"
DIMENSIONS = (ALL, GRADE, CATEGORY, STATE)
# The sums of a figure and of a project's contribution (see services.money_figures).
MONEY_SUMS = (
    "requested",
    "approved",
    "committed",
    "settled",
    "loss",
    "disbursed",
    "released_by_settlement",
    "released_by_termination",
)


def _money(name: str):
    return models.DecimalField(name, max_digits=14, decimal_places=2, default=0)


class MoneySums(models.Model):
    """The sums MONEY_SUMS, as a figure and a project's contribution both carry them."""

    requested = _money("申请金额")
    approved = _money("核定金额")
    committed = _money("占用额度")
    settled = _money("结算金额")
    loss = _money("票据不合格损失")
    disbursed = _money("已拨付")
    released_by_settlement = _money("结算释放")
    released_by_termination = _money("终止释放")

    class Meta:
        abstract = True


class MoneyFigure(MoneySums):
    """The year's money of one organisation's projects (no organisation: the whole
    district's, so the district's tables read a few rows, not one per organisation), in
    total (dimension "all", value "") or of those with one grade ("" = not graded), category
    or state: the number of projects and the sums of their amounts and payments. Kept by
    `services.events.record` in the event's transaction (services.money_figures); the
    statistics and the pool ledger read them instead of grouping the year's projects and
    payments."""

    year = models.PositiveIntegerField("年度")
    organization = models.ForeignKey(
        "accounts.Organization",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        verbose_name="申报组织",
        help_text="空:全区合计(按组织限定范围的用户看不到)",
    )
    dimension = models.CharField("维度", max_length=10)
    value = models.CharField("分组", max_length=40, blank=True)
    count = models.BigIntegerField("项目数", default=0)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "经费统计数"
        verbose_name_plural = verbose_name
        constraints = [
            models.UniqueConstraint(
                fields=["year", "organization", "dimension", "value"],
                name="money_figure_unique",
            )
        ]
        indexes = [models.Index(fields=["year", "dimension"], name="money_figure_year")]

    def __str__(self) -> str:
        return f"{self.year} {self.dimension}={self.value}: {self.count}"


class ProjectFigure(MoneySums):
    """What one project adds to the money figures now (its year, organisation, grade,
    category, state and amounts), so the next event can take it back out (−old +new)."""

    project = models.OneToOneField(
        "projects.Project", on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    year = models.PositiveIntegerField("年度")
    organization = models.ForeignKey(
        "accounts.Organization", on_delete=models.PROTECT, related_name="+"
    )
    grade = models.CharField("核定等级", max_length=10, blank=True)
    category = models.CharField("立项支持类型", max_length=40, blank=True)
    state = models.CharField("状态", max_length=40)

    class Meta:
        verbose_name = "项目统计贡献"
        verbose_name_plural = verbose_name

    def __str__(self) -> str:
        return f"{self.project_id}: {self.year} {self.state}"
