"""Views of the reports area, under /admin/ (staff login, scoped by Project.objects.visible_to):
the year's statistics with charts, its xlsx, and the per-organisation disclosure (公示)."""

import os
import tempfile

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404
from django.shortcuts import render
from django.urls import path, reverse
from django.utils import timezone

from accounts.models import Organization
from projects import reports
from projects.dashboard import Panel, panel
from projects.exchange.writer import XLSX_CONTENT_TYPE
from projects.models import FundingPolicy, Project


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
    report = reports.year_report(request.user, year)
    organizations = Organization.objects.visible_to(request.user).filter(
        pk__in=Project.objects.visible_to(request.user).filter(year=year).values("organization")
    )
    context = {
        **admin.site.each_context(request),
        "title": f"{year}年度统计报表",
        "report": report,
        "years": _years(),
        "organizations": organizations,
    }
    return render(request, "projects/reports/year.html", context)


def year_xlsx(request, year: int):
    _require_view(request)
    report = reports.year_report(request.user, _year(request, year))
    handle, name = tempfile.mkstemp(suffix=".xlsx")
    os.close(handle)
    try:
        reports.write_report_xlsx(name, report)
        stream = open(name, "rb")  # noqa: SIM115 (closed by FileResponse)
    finally:
        os.unlink(name)
    return FileResponse(
        stream,
        as_attachment=True,
        filename=f"{report.year}年度统计报表.xlsx",
        content_type=XLSX_CONTENT_TYPE,
    )


def disclosure_view(request, year: int, organization_id: int):
    _require_view(request)
    try:
        notice = reports.disclosure(request.user, organization_id, _year(request, year))
    except Organization.DoesNotExist:
        raise Http404("没有这个组织") from None
    context = {
        **admin.site.each_context(request),
        "title": f"{notice.organization.name}{notice.year}年度党费使用情况公示",
        "notice": notice,
        "today": timezone.localdate(),
    }
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


@panel
def reports_panel(user):
    """A way in to the statistics from the index page, for anyone who may read projects."""
    if not user.has_perm("projects.view_project"):
        return None
    year = timezone.localdate().year
    return Panel(
        title="统计报表",
        rows=[
            {
                "text": f"{year}年度统计报表(图表、Excel、党费使用情况公示)",
                "url": reverse("projects:report_year"),
                "note": "",
                "overdue": False,
            }
        ],
    )
