"""The year's figures (统计报表), read side: by organisation, grade, category and state; the
first-review on-time rate; average days in each state (from the history); monthly-report
compliance; and the annual disclosure to party members (党费使用情况公示) per organisation.

Every figure is one aggregate query over the user's visible projects (accounts.scoping), so a
report costs the same number of queries for 10 projects or 100,000 (asserted in tests).

Scope (issue 10, hole 14): leadership, finance and the auditor (accounts.roles.sees_everything)
read the district's pool; a scoped role (applicant, org_reviewer) reads only its own
organisation's figures, and never the district pool or a "remaining" computed from a part of
it (`YearReport.district` is False, `pool_total` None). The labels live in the view.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db import connection
from django.db.models import (
    Count,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce

from accounts.models import Organization
from accounts.roles import sees_everything
from projects.models import (
    Disbursement,
    FundingPolicy,
    HistoryFigure,
    Project,
    ProjectHistory,
    State,
)
from projects.models.choices import Category, Grade
from projects.models.figures import FIRST_REVIEW, days_key
from projects.money import ZERO, format_cny, to_money

# The one definition of each obligation (monthly reports; first reviews: models.figures).
from projects.selectors.obligations import monthly_report_counts

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


def _tables(projects, disbursements) -> list[Table]:
    """The four tables (DIMENSIONS) from two grouped queries: the projects and their
    payments grouped by all four dimensions at once, folded here into one table each (one
    pass over the year's projects and one over its payments, not four of each)."""
    paths = [path for _key, _title, path in DIMENSIONS]
    sums = list(
        projects.values(*paths)
        .annotate(
            n=Count("pk"),
            applied=Sum("requested_amount"),
            approved=Sum("approved_amount"),
            losses=Sum("loss_amount"),
            committed=Sum("committed_amount"),
        )
        .order_by()
    )
    paid = list(
        disbursements.values(*(f"project__{path}" for path in paths))
        .annotate(total=Sum("amount"))
        .order_by()
    )
    return [_table(key, title, path, sums, paid) for key, title, path in DIMENSIONS]


def _table(key: str, title: str, path: str, sums: list[dict], paid: list[dict]) -> Table:
    labels = _labels(key, None)
    rows: dict = {}
    for item in sums:
        value = item[path]
        row = rows.get(value)
        if row is None:
            row = rows[value] = Row(key=value, label=str(labels.get(value, value)))
        row.count += item["n"]
        row.applied += to_money(item["applied"] or 0)
        row.approved += to_money(item["approved"] or 0)
        row.losses += to_money(item["losses"] or 0)
        row.committed += to_money(item["committed"] or 0)
    for item in paid:
        value = item[f"project__{path}"]
        if value in rows:
            rows[value].disbursed += to_money(item["total"] or 0)
    order = _order(key)
    ordered = [rows[k] for k in order if k in rows] + sorted(
        (r for k, r in rows.items() if k not in order), key=lambda r: r.label
    )
    total = Row(key=None, label="合计")
    for row in ordered:
        total.count += row.count
        for name in ("applied", "approved", "disbursed", "losses", "committed"):
            setattr(total, name, getattr(total, name) + getattr(row, name))
    return Table(key, title, ordered, total)


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


def year_report(user, year: int) -> YearReport:
    projects = Project.objects.visible_to(user).filter(year=year)
    disbursements = Disbursement.objects.filter(project__in=projects)
    tables = _tables(projects, disbursements)
    district = sees_everything(user)
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
