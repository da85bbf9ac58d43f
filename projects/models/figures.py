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
