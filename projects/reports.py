"""统计报表: the year's figures by organisation, grade, category and state; the first-review
on-time rate; average days in each state (from the history); monthly-report compliance;
and the annual disclosure to party members (党费使用情况公示) per organisation.

Every figure is one aggregate query over the user's visible projects (accounts.scoping), so a
report costs the same number of queries for 10 projects or 100,000 (asserted in tests).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from django.db import connection
from django.db.models import (
    Count,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from accounts.models import Organization
from projects.models import Disbursement, FundingPolicy, Project, ProjectHistory, State
from projects.models.choices import Category, Grade
from projects.money import ZERO, format_cny, to_money

# The one definition of each obligation (monthly reports, first-review punctuality).
from projects.selectors.obligations import first_review_counts, monthly_report_counts

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

    @property
    def remaining(self) -> Decimal:
        """What the group still holds in the pool and has not been paid (待拨付)."""
        return to_money(self.committed - self.disbursed)

    def money_cells(self) -> list[str]:
        amounts = (self.applied, self.approved, self.disbursed, self.losses, self.remaining)
        return [format_cny(value) for value in amounts]


@dataclass
class Table:
    key: str
    title: str
    rows: list[Row]
    total: Row


@dataclass
class YearReport:
    year: int
    tables: list[Table]
    pool_total: Decimal | None
    pool_committed: Decimal
    first_reviews: int
    first_reviews_on_time: int
    days_in_state: list[tuple[str, float]]
    reports_due: int
    reports_filed: int
    charts: dict = field(default_factory=dict)

    @property
    def on_time_rate(self) -> float | None:
        return self.first_reviews_on_time / self.first_reviews if self.first_reviews else None

    @property
    def compliance_rate(self) -> float | None:
        return min(1.0, self.reports_filed / self.reports_due) if self.reports_due else None

    @property
    def pool_remaining(self) -> Decimal | None:
        return None if self.pool_total is None else to_money(self.pool_total - self.pool_committed)

    def facts(self) -> list[tuple[str, str, str]]:
        """(label, figure, note) for the boxes at the top of the page."""
        return [
            ("年度经费总额", format_cny(self.pool_total) if self.pool_total else "未设定", ""),
            ("已占用额度", format_cny(self.pool_committed), ""),
            ("剩余额度", format_cny(self.pool_remaining), ""),
            (
                "初审按期率",
                percent_text(self.on_time_rate),
                f"{self.first_reviews_on_time}/{self.first_reviews} 次",
            ),
            (
                "月度进展报告提交率",
                percent_text(self.compliance_rate),
                f"{self.reports_filed}/{self.reports_due} 份",
            ),
        ]


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


def _table(key: str, title: str, path: str, projects, disbursements) -> Table:
    sums = projects.values(path).annotate(
        n=Count("pk"),
        applied=Sum("requested_amount"),
        approved=Sum("approved_amount"),
        losses=Sum("loss_amount"),
        committed=Sum("committed_amount"),
    )
    paid = {
        row[f"project__{path}"]: row["total"]
        for row in disbursements.values(f"project__{path}").annotate(total=Sum("amount"))
    }
    labels = _labels(key, None)
    rows = {}
    for item in sums.order_by():
        value = item[path]
        rows[value] = Row(
            key=value,
            label=str(labels.get(value, value)),
            count=item["n"],
            applied=to_money(item["applied"] or 0),
            approved=to_money(item["approved"] or 0),
            disbursed=to_money(paid.get(value) or 0),
            losses=to_money(item["losses"] or 0),
            committed=to_money(item["committed"] or 0),
        )
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


def year_report(user, year: int) -> YearReport:
    projects = Project.objects.visible_to(user).filter(year=year)
    disbursements = Disbursement.objects.filter(project__in=projects)
    tables = [_table(key, title, path, projects, disbursements) for key, title, path in DIMENSIONS]
    policy = FundingPolicy.objects.filter(year=year).first()
    reviews, on_time = first_review_counts(projects)
    due, filed = monthly_report_counts(projects)
    report = YearReport(
        year=year,
        tables=tables,
        pool_total=policy.pool_total if policy else None,
        pool_committed=tables[0].total.committed,
        first_reviews=reviews,
        first_reviews_on_time=on_time,
        days_in_state=days_in_state(projects),
        reports_due=due,
        reports_filed=filed,
    )
    # A city has hundreds of organisations: the chart shows the largest; the table has all.
    largest = sorted(tables[0].rows, key=lambda r: r.approved, reverse=True)[:CHART_ORGANIZATIONS]
    report.charts = {
        "organization": money_bars(largest),
        "state": count_bars([(r.label, r.count) for r in tables[3].rows]),
        "days": count_bars(report.days_in_state, unit="天"),
    }
    return report


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
        .order_by("code")
    )
    for project in projects:
        project.money_cells = [format_cny(getattr(project, name)) for name in DISCLOSED_AMOUNTS]
    total = {
        name: to_money(sum((getattr(p, name) or ZERO) for p in projects))
        for name in DISCLOSED_AMOUNTS
    }
    return Disclosure(organization, year, projects, total)


# --- charts: inline SVG drawn on the server (no script, no CDN) ----------------------------

BAR_HEIGHT = 18
LABEL_WIDTH = 170
CHART_WIDTH = 420


def _svg(height: int, body) -> str:
    return format_html(
        '<svg class="report-chart" role="img" viewBox="0 0 {} {}" width="100%" '
        'xmlns="http://www.w3.org/2000/svg" font-size="12">{}</svg>',
        LABEL_WIDTH + CHART_WIDTH + 110,
        height,
        body,
    )


def count_bars(items: list[tuple[str, float]], unit: str = "个") -> str:
    """One horizontal bar per item; the longest bar spans the chart."""
    if not items:
        return ""
    top = max(value for _label, value in items) or 1
    parts = []
    for i, (label, value) in enumerate(items):
        y = i * (BAR_HEIGHT + 6) + 4
        width = max(1, int(CHART_WIDTH * value / top))
        parts.append(
            format_html(
                '<text x="{}" y="{}" text-anchor="end">{}</text>'
                '<rect x="{}" y="{}" width="{}" height="{}" fill="#417690">'
                "<title>{}:{}{}</title></rect>"
                '<text x="{}" y="{}">{}{}</text>',
                LABEL_WIDTH - 6,
                y + 13,
                label,
                LABEL_WIDTH,
                y,
                width,
                BAR_HEIGHT,
                label,
                value,
                unit,
                LABEL_WIDTH + width + 4,
                y + 13,
                value,
                unit,
            )
        )
    return _svg(len(items) * (BAR_HEIGHT + 6) + 8, mark_safe("".join(parts)))


def money_bars(rows: list[Row]) -> str:
    """Approved (light) and disbursed (dark) per organisation, on one money scale."""
    if not rows:
        return ""
    top = max(max(r.approved, r.disbursed) for r in rows) or Decimal(1)
    step = BAR_HEIGHT * 2 + 10
    parts = []
    for i, row in enumerate(rows):
        y = i * step + 4
        approved = max(1, int(CHART_WIDTH * row.approved / top))
        paid = max(1, int(CHART_WIDTH * row.disbursed / top)) if row.disbursed else 0
        parts.append(
            format_html(
                '<text x="{}" y="{}" text-anchor="end">{}</text>'
                '<rect x="{}" y="{}" width="{}" height="{}" fill="#9fc3d6">'
                "<title>核定 {}</title></rect>"
                '<text x="{}" y="{}">核定 {}</text>'
                '<rect x="{}" y="{}" width="{}" height="{}" fill="#264b5d">'
                "<title>已拨付 {}</title></rect>"
                '<text x="{}" y="{}">已拨付 {}</text>',
                LABEL_WIDTH - 6,
                y + BAR_HEIGHT + 4,
                row.label,
                LABEL_WIDTH,
                y,
                approved,
                BAR_HEIGHT,
                format_cny(row.approved),
                LABEL_WIDTH + approved + 4,
                y + 13,
                format_cny(row.approved),
                LABEL_WIDTH,
                y + BAR_HEIGHT,
                paid,
                BAR_HEIGHT,
                format_cny(row.disbursed),
                LABEL_WIDTH + paid + 4,
                y + BAR_HEIGHT + 13,
                format_cny(row.disbursed),
            )
        )
    return _svg(len(rows) * step + 8, mark_safe("".join(parts)))


# --- xlsx ---------------------------------------------------------------------------------

TABLE_HEADERS = ["分组", "项目数", "申请金额", "核定金额", "已拨付", "票据不合格损失", "待拨付"]


def table_rows(table: Table) -> list[tuple]:
    return [
        (r.label, r.count, r.applied, r.approved, r.disbursed, r.losses, r.remaining)
        for r in [*table.rows, table.total]
    ]


def write_report_xlsx(path: str, report: YearReport) -> None:
    import xlsxwriter

    workbook = xlsxwriter.Workbook(path, {"strings_to_formulas": False})
    bold = workbook.add_format({"bold": True})
    money = workbook.add_format({"num_format": "#,##0.00"})
    percent = workbook.add_format({"num_format": "0.0%"})
    summary = workbook.add_worksheet("概况")
    summary.set_column(0, 0, 24)
    summary.set_column(1, 1, 18)
    facts = [
        ("年度", report.year, None),
        ("年度经费总额", report.pool_total, money),
        ("已占用额度", report.pool_committed, money),
        ("剩余额度", report.pool_remaining, money),
        ("初审决定数", report.first_reviews, None),
        ("按期初审数", report.first_reviews_on_time, None),
        ("初审按期率", report.on_time_rate, percent),
        ("应交月度进展报告", report.reports_due, None),
        ("已交月度进展报告", report.reports_filed, None),
        ("进展报告按月提交率", report.compliance_rate, percent),
    ]
    for r, (label, value, fmt) in enumerate(facts):
        summary.write_string(r, 0, label, bold)
        if value is not None:
            summary.write_number(r, 1, value, fmt) if fmt else summary.write(r, 1, value)
    for table in report.tables:
        sheet = workbook.add_worksheet(table.title)
        sheet.set_column(0, 0, 28)
        sheet.set_column(1, 6, 14)
        sheet.write_row(0, 0, TABLE_HEADERS, bold)
        for r, row in enumerate(table_rows(table), start=1):
            sheet.write_string(r, 0, row[0])
            sheet.write_number(r, 1, row[1])
            for c, value in enumerate(row[2:], start=2):
                sheet.write_number(r, c, value, money)
    days = workbook.add_worksheet("各状态平均停留天数")
    days.write_row(0, 0, ["状态", "平均天数"], bold)
    for r, (label, value) in enumerate(report.days_in_state, start=1):
        days.write_string(r, 0, label)
        days.write_number(r, 1, value)
    workbook.close()


def percent_text(rate: float | None) -> str:
    return "—" if rate is None else f"{rate * 100:.1f}%"


__all__ = [
    "disclosure",
    "format_html_join",
    "percent_text",
    "write_report_xlsx",
    "year_report",
]
