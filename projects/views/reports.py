"""Views of the reports area, under /admin/ (staff login, scoped by Project.objects.visible_to):
the year's statistics with charts, its xlsx, and the per-organisation disclosure (公示).

The figures come from projects.selectors.statistics; this module only labels and draws them:
the district (leadership, finance, auditor) sees the year's pool, an organisation sees its
own totals labelled as its own (本组织…), never the district pool."""

from decimal import Decimal

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import render
from django.urls import path
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from openpyxl import Workbook

from accounts.models import Organization
from projects.exchange.writer import add_sheet, file_response
from projects.models import FundingPolicy
from projects.money import format_cny
from projects.selectors import statistics


def _year(request, year=None) -> int:
    raw = year if year is not None else request.GET.get("year")
    try:
        value = int(raw) if raw not in (None, "") else timezone.localdate().year
    except (TypeError, ValueError):
        raise Http404("年度无效") from None
    if not 2000 <= value <= 2100:
        raise Http404("年度无效")
    return value


def _require_view(request) -> None:
    if not request.user.has_perm("projects.view_project"):
        raise PermissionDenied


def _years() -> list[int]:
    this_year = timezone.localdate().year
    policy_years = set(FundingPolicy.objects.values_list("year", flat=True))
    return sorted(policy_years | {this_year}, reverse=True)


def year_view(request):
    _require_view(request)
    year = _year(request)
    report = statistics.year_report(request.user, year, page=request.GET.get("page", 1))
    context = {
        **admin.site.each_context(request),
        "title": f"{year}年度统计报表",
        "report": report,
        "facts": facts(report),
        "charts": charts_of(report),
        "years": _years(),
        "page": report.page,
        "page_query": f"year={report.year}&",
    }
    return render(request, "projects/reports/year.html", context)


def year_xlsx(request, year: int):
    _require_view(request)
    report = statistics.year_report(request.user, _year(request, year))
    book = report_workbook(report)
    return file_response(book.save, f"{report.year}年度统计报表.xlsx")


def disclosure_view(request, year: int, organization_id: int):
    _require_view(request)
    try:
        notice = statistics.disclosure(request.user, organization_id, _year(request, year))
    except Organization.DoesNotExist:
        raise Http404("没有这个组织") from None
    context = {
        **admin.site.each_context(request),
        "title": f"{notice.organization.name}{notice.year}年度党费使用情况公示",
        "notice": notice,
        "today": timezone.localdate(),
    }
    from projects.views.documents import print_verification

    print_verification(
        request, "disclosure", context, organization=notice.organization, year=notice.year
    )
    return render(request, "projects/reports/disclosure.html", context)


urlpatterns = [
    path("reports/", admin.site.admin_view(year_view), name="report_year"),
    path("reports/<int:year>/xlsx/", admin.site.admin_view(year_xlsx), name="report_year_xlsx"),
    path(
        "reports/<int:year>/disclosure/<int:organization_id>/",
        admin.site.admin_view(disclosure_view),
        name="report_disclosure",
    ),
]


# --- the figures, labelled --------------------------------------------------------------------


def percent_text(rate: float | None) -> str:
    return "—" if rate is None else f"{rate * 100:.1f}%"


def summary(report: statistics.YearReport) -> list[tuple[str, object, str]]:
    """(label, typed value, kind) of the year's key figures, as this user may read them.

    kind: "money", "percent", "count" or "text"."""
    if report.district:
        money = [
            ("年度经费总额", report.pool_total, "text" if report.pool_total is None else "money"),
            ("已占用额度", report.pool_committed, "money"),
            ("剩余额度", report.pool_remaining, "money"),
        ]
    else:
        total = report.total
        money = [
            ("本组织项目数", total.count, "count"),
            ("本组织申请合计", total.applied, "money"),
            ("本组织核定合计", total.approved, "money"),
            ("本组织已拨付", total.disbursed, "money"),
        ]
    return [
        *money,
        ("初审决定数", report.first_reviews, "count"),
        ("按期初审数", report.first_reviews_on_time, "count"),
        ("初审按期率", report.on_time_rate, "percent"),
        ("应交月度进展报告", report.reports_due, "count"),
        ("已交月度进展报告", report.reports_filed, "count"),
        ("月度进展报告提交率", report.compliance_rate, "percent"),
    ]


# The counts behind the two rates are notes under the rates, not boxes of their own.
_NOTE_ONLY = {"初审决定数", "按期初审数", "应交月度进展报告", "已交月度进展报告"}


def _figure(value, kind: str) -> str:
    if value is None and kind == "text":
        return "未设定"
    if kind == "money":
        return format_cny(value)
    if kind == "percent":
        return percent_text(value)
    return str(value)


def facts(report: statistics.YearReport) -> list[tuple[str, str, str]]:
    """(label, figure, note) for the boxes at the top of the page."""
    notes = {
        "初审按期率": f"{report.first_reviews_on_time}/{report.first_reviews} 次",
        "月度进展报告提交率": f"{report.reports_filed}/{report.reports_due} 份",
    }
    return [
        (label, _figure(value, kind), notes.get(label, ""))
        for label, value, kind in summary(report)
        if label not in _NOTE_ONLY
    ]


def charts_of(report: statistics.YearReport) -> dict:
    # A city has hundreds of organisations: the chart shows the largest (from the figures);
    # the table has them all, a page at a time.
    return {
        "organization": money_bars(report.largest),
        "state": count_bars([(r.label, r.count) for r in report.tables[3].rows]),
        "days": count_bars(report.days_in_state, unit="天"),
    }


TABLE_HEADERS = ["分组", "项目数", "申请金额", "核定金额", "已拨付", "票据不合格损失", "待拨付"]


def report_workbook(report: statistics.YearReport) -> Workbook:
    """The year's report as a workbook through the one xlsx helper (typed, neutralised)."""
    book = Workbook()
    rows = [("年度", report.year)]
    rows += [(label, value) for label, value, _kind in summary(report) if value is not None]
    sheet = add_sheet(book, "概况", ["项目", "数值"], rows, first=True)
    sheet.column_dimensions["A"].width = 24
    sheet.column_dimensions["B"].width = 18
    percents = {label for label, _v, kind in summary(report) if kind == "percent"}
    for label_cell, value_cell in sheet.iter_rows(min_row=2):
        if label_cell.value in percents:
            value_cell.number_format = "0.0%"
    for table in report.tables:
        body = [row.cells() for row in [*table.rows, table.total]]
        add_sheet(book, table.title, TABLE_HEADERS, body)
    add_sheet(book, "各状态平均停留天数", ["状态", "平均天数"], report.days_in_state)
    return book


# --- charts: inline SVG drawn on the server (no script, no CDN) ------------------------------

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


def money_bars(rows: list[statistics.Row]) -> str:
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
