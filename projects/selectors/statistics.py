"""The year's figures (统计报表), read side: by organisation, grade, category and state; the
first-review on-time rate; average days in each state (from the history); monthly-report
compliance; and the annual disclosure to party members (党费使用情况公示) per organisation.

The money tables and the history figures are read from running totals the event writer
keeps per year and organisation (models.figures: MoneyFigure, HistoryFigure), scoped like the
projects (accounts.scoping); only the monthly-report compliance is still an aggregate over the
year's projects. A report costs the same number of queries for 10 projects or 100,000, and the
page shows 50 organisations at a time (the 按组织 table's total is over all of them), so its
work does not grow with the organisations either (asserted in tests).

Scope (issue 10, hole 14): leadership, finance and the auditor (accounts.roles.sees_everything)
read the district's pool; a scoped role (applicant, org_reviewer) reads only its own
organisation's figures, and never the district pool or a "remaining" computed from a part of
it (`YearReport.district` is False, `pool_total` None). The labels live in the view.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from django.db import connection
from django.db.models import (
    Sum,
    Value,
)
from django.db.models.functions import Coalesce

from accounts.models import Organization
from accounts.roles import sees_everything
from projects.models import (
    FundingPolicy,
    HistoryFigure,
    MoneyFigure,
    Project,
    ProjectHistory,
    State,
)
from projects.models.choices import Category, Grade
from projects.models.figures import ALL, FIRST_REVIEW, days_key
from projects.money import ZERO, format_cny, to_money

# The one definition of each obligation (monthly reports; first reviews: models.figures).
from projects.selectors.obligations import monthly_report_counts
from projects.selectors.paging import Page, page_of

CHART_ORGANIZATIONS = 20

DIMENSIONS = [
    ("organization", "按组织", "organization__name"),
    ("grade", "按核定等级", "grade"),
    ("category", "按立项支持类型", "category"),
    ("state", "按状态", "state"),
]


@dataclass
class Row:
    key: object
    label: str
    count: int = 0
    applied: Decimal = ZERO
    approved: Decimal = ZERO
    disbursed: Decimal = ZERO
    losses: Decimal = ZERO
    committed: Decimal = ZERO
    organization: Organization | None = None

    @property
    def remaining(self) -> Decimal:
        """What the group still holds in the pool and has not been paid (待拨付)."""
        return to_money(self.committed - self.disbursed)

    def money_cells(self) -> list[str]:
        amounts = (self.applied, self.approved, self.disbursed, self.losses, self.remaining)
        return [format_cny(value) for value in amounts]

    def cells(self) -> tuple:
        """The row as typed cells (label, count, five amounts), for the xlsx."""
        return (
            self.label,
            self.count,
            self.applied,
            self.approved,
            self.disbursed,
            self.losses,
            self.remaining,
        )


@dataclass
class Table:
    key: str
    title: str
    rows: list[Row]
    total: Row


@dataclass
class YearReport:
    year: int
    # True: the whole district (leadership, finance, auditor) with the year's pool; False: one
    # organisation's own figures (no pool, no remaining).
    district: bool
    tables: list[Table]
    pool_total: Decimal | None
    pool_committed: Decimal | None
    first_reviews: int
    first_reviews_on_time: int
    days_in_state: list[tuple[str, float]]
    reports_due: int
    reports_filed: int
    # The organisations with the most approved (the chart), and the 按组织 table's page.
    largest: list[Row] = field(default_factory=list)
    page: Page | None = None

    @property
    def on_time_rate(self) -> float | None:
        return self.first_reviews_on_time / self.first_reviews if self.first_reviews else None

    @property
    def compliance_rate(self) -> float | None:
        return min(1.0, self.reports_filed / self.reports_due) if self.reports_due else None

    @property
    def pool_remaining(self) -> Decimal | None:
        if self.pool_total is None or self.pool_committed is None:
            return None
        return to_money(self.pool_total - self.pool_committed)

    @property
    def total(self) -> Row:
        """The user's own totals (all visible projects of the year)."""
        return self.tables[0].total


def _labels(key: str, values) -> dict:
    if key == "grade":
        return {g.value: g.label for g in Grade} | {None: "未定级"}
    if key == "category":
        return {c.value: c.label for c in Category}
    if key == "state":
        return {s.value: s.label for s in State}
    return {}


def _order(key: str) -> list:
    if key == "state":
        return list(State.values)
    if key == "grade":
        return [*Grade.values, None]
    if key == "category":
        return list(Category.values)
    return []


_FIGURE_SUMS = {
    "n": Sum("count"),
    "applied": Sum("requested"),
    "approved": Sum("approved"),
    "disbursed": Sum("disbursed"),
    "losses": Sum("loss"),
    "committed": Sum("committed"),
}


def _row(key, label: str, sums: dict, organization=None) -> Row:
    row = Row(key=key, label=label, count=int(sums["n"] or 0), organization=organization)
    for name in ("applied", "approved", "disbursed", "losses", "committed"):
        setattr(row, name, to_money(sums[name] or 0))
    return row


def _typed(key: str, value: str):
    """A figure's stored value as the table keys it (grades are numbers, none = None)."""
    if key == "grade":
        return int(value) if value else None
    return value


def _organization_rows(figures) -> list[Row]:
    """Rows of the 按组织 table from the organisations' "all" figures (one per row)."""
    rows = []
    for figure in figures.select_related("organization"):
        sums = {
            "n": figure.count,
            "applied": figure.requested,
            "approved": figure.approved,
            "disbursed": figure.disbursed,
            "losses": figure.loss,
            "committed": figure.committed,
        }
        name = figure.organization.name
        rows.append(_row(name, name, sums, organization=figure.organization))
    return rows


def _tables(figures, by_org, page: Page | None) -> tuple[list[Table], list[Row]]:
    """The four tables (DIMENSIONS) and the 20 organisations with the most approved, read
    from the maintained money figures (models.figures.MoneyFigure) in a constant number of
    small queries: the grouped totals of every dimension (`figures`: the district's rows,
    or a scoped user's own organisation's), then the page of organisations (`by_org`)."""
    grouped = {
        (item.pop("dimension"), item.pop("value")): item
        for item in figures.values("dimension", "value").annotate(**_FIGURE_SUMS).order_by()
    }
    empty = dict.fromkeys(_FIGURE_SUMS)
    total_sums = grouped.get((ALL, ""), empty)
    by_org = by_org.filter(dimension=ALL)
    shown = by_org.order_by("organization__name", "organization_id")
    if page is not None:
        shown = shown[page.offset : page.offset + page.per_page]
    tables = [Table("organization", DIMENSIONS[0][1], _organization_rows(shown), None)]
    for key, title, _path in DIMENSIONS[1:]:
        labels = _labels(key, None)
        rows = {}
        for (dimension, value), sums in grouped.items():
            if dimension == key:
                typed = _typed(key, value)
                rows[typed] = _row(typed, str(labels.get(typed, typed)), sums)
        order = _order(key)
        ordered = [rows[k] for k in order if k in rows] + sorted(
            (r for k, r in rows.items() if k not in order), key=lambda r: r.label
        )
        tables.append(Table(key, title, ordered, None))
    for table in tables:
        table.total = _row(None, "合计", total_sums)
    largest = by_org.order_by("-approved", "organization__name")
    return tables, _organization_rows(largest[:CHART_ORGANIZATIONS])


def _days_between(later: str, earlier: str) -> str:
    """SQL for the days between two timestamp columns, on PostgreSQL and SQLite."""
    if connection.vendor == "postgresql":
        return f"EXTRACT(EPOCH FROM ({later} - {earlier})) / 86400.0"
    return f"(julianday({later}) - julianday({earlier}))"


def _history_sql(projects, columns: str) -> tuple[str, list]:
    """The history rows of `projects`, each with window columns computed per project.

    One pass over the rows with window functions (LEAD, a running MAX): the per-row
    correlated subqueries this replaces cost several times more at city scale."""
    project_sql, params = projects.order_by().values("pk").query.sql_with_params()
    table = ProjectHistory._meta.db_table
    return (
        f"SELECT h.transition, h.to_state, h.created_at, {columns} "
        f"FROM {table} h WHERE h.project_id IN ({project_sql})",
        list(params),
    )


def days_in_state(projects) -> list[tuple[str, float]]:
    """Average days a project spent in each state: from a history row to the next one."""
    inner, params = _history_sql(
        projects,
        "LEAD(h.created_at) OVER (PARTITION BY h.project_id ORDER BY h.seq) AS left_at",
    )
    sql = (
        f"SELECT to_state, AVG({_days_between('left_at', 'created_at')}) "
        f"FROM ({inner}) s WHERE left_at IS NOT NULL GROUP BY to_state"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        averages = {state: float(days) for state, days in cursor.fetchall()}
    return [
        (str(state.label), round(averages[state.value], 1))
        for state in State
        if state.value in averages
    ]


def history_figures(user, year: int) -> tuple[tuple[int, int], list[tuple[str, float]]]:
    """(first reviews, on time) and the days in each state of the user's visible projects of
    the year, from the yearly figures the event writer keeps (models.figures): one small
    query instead of two passes over the year's history. Same rule as first_review_counts
    and days_in_state (a test compares them after real transitions)."""
    rows = (
        HistoryFigure.objects.visible_to(user)
        .filter(year=year)
        .values("key")
        .annotate(n=Sum("count"), sum=Sum("total"))
        .order_by()
    )
    figures = {row["key"]: (row["n"], row["sum"]) for row in rows}
    reviews = figures.get(FIRST_REVIEW, (0, 0))
    days = []
    for state in State:
        count, micros = figures.get(days_key(state.value), (0, 0))
        if count:
            days.append((str(state.label), round(micros / count / 86_400_000_000, 1)))
    return (int(reviews[0]), int(reviews[1])), days


def year_report(user, year: int, page=None) -> YearReport:
    """The year's report for the user. `page` (the page parameter as typed, or None for
    every row, as the xlsx has them): the 按组织 table holds that page of organisations, by
    name, PER_PAGE to a page; its total is over all of them."""
    projects = Project.objects.visible_to(user).filter(year=year)
    district = sees_everything(user)
    figures = MoneyFigure.objects.visible_to(user).filter(year=year, count__gt=0)
    # The district's rows (organisation None) for those who see everything; a scoped user's
    # figures are its own organisation's rows (visible_to never shows the district's).
    by_org = figures.filter(organization__isnull=False)
    grouped = figures.filter(organization__isnull=True) if district else by_org
    pager = None
    if page is not None:
        pager = page_of(page, by_org.filter(dimension=ALL).count())
    tables, largest = _tables(grouped, by_org, pager)
    policy = FundingPolicy.objects.filter(year=year).first() if district else None
    (reviews, on_time), days = history_figures(user, year)
    due, filed = monthly_report_counts(projects)
    return YearReport(
        year=year,
        district=district,
        tables=tables,
        pool_total=policy.pool_total if policy else None,
        pool_committed=tables[0].total.committed if district else None,
        first_reviews=reviews,
        first_reviews_on_time=on_time,
        days_in_state=days,
        reports_due=due,
        reports_filed=filed,
        largest=largest,
        page=pager,
    )


# --- the disclosure (公示) ------------------------------------------------------------------


DISCLOSED_AMOUNTS = ("approved_amount", "settlement_amount", "disbursed", "loss_amount")


@dataclass
class Disclosure:
    organization: Organization
    year: int
    projects: list
    total: dict

    @property
    def total_cells(self) -> list[str]:
        return [format_cny(self.total[name]) for name in DISCLOSED_AMOUNTS]


def disclosure(user, organization_id: int, year: int) -> Disclosure:
    """The organisation's funded projects of the year, for the notice to party members."""
    organization = Organization.objects.visible_to(user).get(pk=organization_id)
    projects = list(
        Project.objects.visible_to(user)
        .filter(organization=organization, year=year, approved_amount__isnull=False)
        .select_related("leader")
        .annotate(disbursed=Coalesce(Sum("disbursements__amount"), Value(ZERO)))
        .order_by("number")
    )
    for project in projects:
        project.money_cells = [format_cny(getattr(project, name)) for name in DISCLOSED_AMOUNTS]
    total = {
        name: to_money(sum((getattr(p, name) or ZERO) for p in projects))
        for name in DISCLOSED_AMOUNTS
    }
    return Disclosure(organization, year, projects, total)
