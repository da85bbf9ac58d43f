"""Views of the printing area, under /admin/ (staff login, scoped by Project.objects.visible_to).

The application form (项目申请书) in the layout of the regulation's 附表 (三(二)1), with the
decisions so far and their signatures (Beijing time), as a print-ready page and as xlsx.
"""

from decimal import Decimal

from django.contrib import admin
from django.shortcuts import get_object_or_404, render
from django.urls import path
from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, Side

from projects.dates import format_date, format_datetime
from projects.exchange.writer import safe_value, style_cell, workbook_response
from projects.models import CHECKLIST, Project
from projects.money import ZERO, format_cny, to_money


def _project_for(request, pk: int) -> Project:
    # Another organisation's project does not exist for the user (404, never 403).
    return get_object_or_404(
        Project.objects.visible_to(request.user).select_related("organization", "leader"), pk=pk
    )


def _quantity(value: Decimal):
    """A quantity cell: 3 rather than 3.00; a fraction stays exact (never a float)."""
    return int(value) if value == value.to_integral_value() else value.normalize()


def application_values(project: Project) -> dict:
    """Everything the form prints, typed: amounts stay Decimal (numbers in the xlsx, ¥ on the
    page, see application_rows), times are Beijing time (projects.dates.format_datetime)."""
    header = [
        ("项目编号", project.code),
        ("项目名称", project.title),
        ("申报单位", str(project.organization)),
        ("项目负责人", f"{project.leader.display_name}({project.leader.title or '—'})"),
        ("立项支持类型", project.get_category_display()),
        ("党费使用范围", project.get_allowed_use_display() or "—"),
        ("项目来源", project.get_origin_display()),
        ("项目周期", project.get_term_display()),
        ("起止日期", f"{format_date(project.start_date)} 至 {format_date(project.end_date)}"),
        ("申报等级", project.get_proposed_grade_display()),
        ("申请金额", to_money(project.requested_amount or ZERO)),
        ("核定等级", project.get_grade_display() if project.grade else "—"),
        ("核定金额", to_money(project.approved_amount or ZERO)),
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
            _quantity(line.quantity),
            to_money(line.unit_price),
            to_money(line.amount),
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
            format_datetime(review.signed_at),
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
        "budget_total": project.budget_total(),
        "reviews": reviews,
        "conditions": conditions,
    }


def _shown(value):
    """A typed value as the page shows it: amounts as ¥1,234.50."""
    return format_cny(value) if isinstance(value, Decimal) else value


def application_rows(project: Project) -> dict:
    """The form as the page (and its PDF, projects.documents) shows it: amounts as ¥1,234.50."""
    values = application_values(project)
    return {
        **values,
        "header": [(label, _shown(value)) for label, value in values["header"]],
        "budget": [
            (item, text, quantity, format_cny(price), format_cny(amount))
            for item, text, quantity, price, amount in values["budget"]
        ],
        "budget_total": format_cny(values["budget_total"]),
    }


def application_print(request, pk: int):
    from projects.views.documents import print_verification

    project = _project_for(request, pk)
    context = {"project": project, **application_rows(project)}
    print_verification(request, "application", context, project=project)
    return render(request, "projects/print/application.html", context)


def application_xlsx(request, pk: int):
    """The same content as one sheet; every user text through the one neutraliser, amounts as
    numbers (money format), a Chinese file name (项目申请书-2026-0001.xlsx)."""
    project = _project_for(request, pk)
    rows = application_values(project)
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
        sheet.append([safe_value(value) for value in values])
        for cell in sheet[sheet.max_row]:
            style_cell(cell)
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
    return workbook_response(book, f"项目申请书-{project.code}.xlsx")


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
