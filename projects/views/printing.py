"""Views of the printing area, under /admin/ (staff login, scoped by Project.objects.visible_to).

The application form (项目申请书) in the layout of the regulation's 附表 (三(二)1), with the
decisions so far and their signatures, as a print-ready page and as xlsx.
"""

from io import BytesIO

from django.contrib import admin
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import path
from django.utils import timezone
from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, Side

from projects.models import CHECKLIST, Project
from projects.money import format_cny

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _project_for(request, pk: int) -> Project:
    # Another organisation's project does not exist for the user (404, never 403).
    return get_object_or_404(
        Project.objects.visible_to(request.user).select_related("organization", "leader"), pk=pk
    )


def application_rows(project: Project) -> dict:
    """Everything the form prints, as plain text rows shared by the page and the xlsx."""
    header = [
        ("项目编号", project.code),
        ("项目名称", project.title),
        ("申报单位", str(project.organization)),
        ("项目负责人", f"{project.leader.display_name}({project.leader.title or '—'})"),
        ("立项支持类型", project.get_category_display()),
        ("党费使用范围", project.get_allowed_use_display() or "—"),
        ("项目来源", project.get_origin_display()),
        ("项目周期", project.get_term_display()),
        (
            "起止日期",
            f"{project.start_date or '—'} 至 {project.end_date or '—'}",
        ),
        ("申报等级", project.get_proposed_grade_display()),
        ("申请金额", format_cny(project.requested_amount)),
        ("核定等级", project.get_grade_display() if project.grade else "—"),
        ("核定金额", format_cny(project.approved_amount)),
        ("当前状态", project.get_state_display()),
    ]
    sections = [
        ("负责人简介", project.leader_profile),
        ("活动目的", project.purpose),
        ("活动内容", project.content),
        ("活动计划", project.plan),
        ("预期目标", project.expected_outcome),
    ]
    budget = [
        (
            line.get_item_display(),
            line.description,
            str(line.quantity),
            format_cny(line.unit_price),
            format_cny(line.amount),
        )
        for line in project.budget_lines.all()
    ]
    review_list = list(project.reviews.all())
    reviews = [
        (
            review.get_kind_display(),
            review.get_decision_display(),
            review.opinion,
            f"{review.reviewer_name}({review.reviewer_organization}"
            f"{' · ' + review.reviewer_title if review.reviewer_title else ''},"
            f"{review.reviewer_role})",
            timezone.localtime(review.signed_at).strftime("%Y-%m-%d %H:%M"),
        )
        for review in review_list
    ]
    # The six conditions (regulation 三(二)1) each review answered, in the reviews' order.
    conditions = [
        (
            f"{review.get_kind_display()} · {review.reviewer_name}",
            [
                (label, "是" if getattr(review, name) else "否")
                for name, label in CHECKLIST
                if getattr(review, name) is not None
            ],
        )
        for review in review_list
    ]
    return {
        "header": header,
        "sections": sections,
        "budget": budget,
        "budget_total": format_cny(project.budget_total()),
        "reviews": reviews,
        "conditions": conditions,
    }


def application_print(request, pk: int):
    project = _project_for(request, pk)
    context = {"project": project, **application_rows(project)}
    from projects.views.documents import print_verification

    print_verification(request, "application", context, project=project)
    return render(request, "projects/print/application.html", context)


def application_xlsx(request, pk: int):
    project = _project_for(request, pk)
    rows = application_rows(project)
    book = Workbook()
    sheet = book.active
    sheet.title = "项目申请书"
    thin = Side(style="thin")
    box = Border(left=thin, right=thin, top=thin, bottom=thin)
    wrap = Alignment(wrap_text=True, vertical="top")
    sheet.column_dimensions["A"].width = 16
    for column in "BCDE":
        sheet.column_dimensions[column].width = 22

    def line(*values, bold=False):
        sheet.append(list(values))
        for cell in sheet[sheet.max_row]:
            cell.border, cell.alignment = box, wrap
            if bold:
                cell.font = Font(bold=True)

    sheet.append(["党费项目申请书"])
    sheet["A1"].font = Font(bold=True, size=16)
    for label, value in rows["header"]:
        line(label, value)
    sheet.append([])
    for label, value in rows["sections"]:
        line(label, value)
    sheet.append([])
    line("预算科目", "用途说明", "数量", "单价", "金额", bold=True)
    for budget_line in rows["budget"]:
        line(*budget_line)
    line("合计", "", "", "", rows["budget_total"], bold=True)
    sheet.append([])
    line("审核类型", "决定", "意见", "签名", "签署时间", bold=True)
    for review in rows["reviews"]:
        line(*review)
    out = BytesIO()
    book.save(out)
    response = HttpResponse(out.getvalue(), content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="application-{project.code}.xlsx"'
    return response


urlpatterns: list = [
    path(
        "projects/project/<int:pk>/application/print/",
        admin.site.admin_view(application_print),
        name="application_print",
    ),
    path(
        "projects/project/<int:pk>/application/xlsx/",
        admin.site.admin_view(application_xlsx),
        name="application_xlsx",
    ),
]
