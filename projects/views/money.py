"""Views of the money area, under /admin/ (staff login, scoped by Project.objects.visible_to):
the final accounts (决算清单), the settlement sheet (结算单), the pool ledger and the
sub-ledgers (分户账) as print-ready pages and xlsx; the invoice import with its preview and
template."""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import path, reverse
from django.utils import timezone
from openpyxl import Workbook

from accounts.models import Organization
from accounts.roles import sees_everything
from projects import permissions as perm
from projects.exchange.writer import add_sheet, workbook_response
from projects.models import Project, ProjectHistory
from projects.models.money import Disbursement
from projects.money import format_cny, to_chinese_capital
from projects.selectors.ledgers import pool_ledger, sub_ledger
from projects.services.errors import WorkflowError
from projects.services.final_accounts import final_accounts_get
from projects.services.invoice_imports import (
    invoice_import_confirm,
    invoice_import_preview,
    invoice_import_template,
)

MAX_UPLOAD = 5 * 1024 * 1024
MAX_ZIP_UPLOAD = 50 * 1024 * 1024  # the tax platform's zip: PDF, OFD and XML of each invoice


def _project(request, pk) -> Project:
    projects = Project.objects.visible_to(request.user).select_related(
        "organization", "leader", "payment_approved_by"
    )
    return get_object_or_404(projects, pk=pk)


def _wants_xlsx(request) -> bool:
    return request.GET.get("format") == "xlsx"


# --- final accounts -----------------------------------------------------------------------


def final_accounts_view(request, pk):
    project = _project(request, pk)
    accounts = final_accounts_get(project=project)
    if _wants_xlsx(request):
        workbook = Workbook()
        rows = [
            [
                f"{row.line.get_item_display()} {row.line.description}",
                row.budgeted,
                row.actual,
                row.invoiced,
                row.qualified,
                row.unqualified,
                row.pending,
            ]
            for row in accounts.rows
        ]
        rows.append(
            [
                "合计",
                accounts.budgeted,
                accounts.actual,
                accounts.invoiced,
                accounts.qualified,
                accounts.unqualified,
                accounts.pending,
            ]
        )
        add_sheet(
            workbook,
            "决算清单",
            ["预算明细", "预算金额", "实际支出", "发票金额", "合格", "不合格", "待审核"],
            rows,
            first=True,
        )
        return workbook_response(workbook, f"决算清单-{project.code}.xlsx")
    from projects.views.documents import print_verification

    context = {"project": project, "accounts": accounts, "title": f"决算清单 · {project.code}"}
    print_verification(request, "final_accounts", context, project=project)
    return render(request, "projects/money/final_accounts.html", context)


# --- settlement sheet ---------------------------------------------------------------------


def _settlement_context(project: Project) -> dict:
    qualified, unqualified = project.invoice_totals()
    settled_by = (
        ProjectHistory.objects.filter(project=project, transition="settle").order_by("-seq").first()
    )
    return {
        "project": project,
        "accounts": final_accounts_get(project=project),
        "qualified": qualified,
        "unqualified": unqualified,
        "capital": to_chinese_capital(project.settlement_amount or 0),
        "disbursements": list(
            Disbursement.objects.filter(project=project)
            .select_related("reverses", "prepared_by", "approved_by", "paid_by")
            .order_by("created_at", "pk")
        ),
        "settled_by": settled_by,
        "is_final": project.settlement_amount is not None,
        "title": f"结算单 · {project.code}",
    }


def settlement_sheet_view(request, pk):
    project = _project(request, pk)
    context = _settlement_context(project)
    if not _wants_xlsx(request):
        from projects.views.documents import print_verification

        print_verification(request, "settlement", context, project=project)
        return render(request, "projects/money/settlement_sheet.html", context)
    workbook = Workbook()
    rows = [
        ["项目编号", project.code],
        ["项目名称", project.title],
        ["申报组织", project.organization.name],
        ["项目负责人", project.leader.display_name],
        ["核定金额", project.approved_amount],
        ["批准拨付限额", project.payable_limit],
        ["合格发票合计", context["qualified"]],
        ["不合格发票合计(项目部自行承担)", context["unqualified"]],
        ["结算金额", project.settlement_amount],
        ["结算金额(大写)", context["capital"] if context["is_final"] else "尚未结算"],
    ]
    add_sheet(workbook, "结算单", ["项目", "内容"], rows, first=True)
    add_sheet(
        workbook,
        "拨付记录",
        ["支付凭证号", "凭证日期", "金额", "支付方式", "收款人", "开户银行", "银行账号", "冲销"],
        [
            [
                d.voucher_number,
                d.voucher_date,
                d.amount,
                d.get_method_display(),
                d.payee_name,
                d.payee_bank,
                d.payee_account,
                d.reverses.voucher_number if d.reverses_id else "",
            ]
            for d in context["disbursements"]
        ],
    )
    return workbook_response(workbook, f"结算单-{project.code}.xlsx")


# --- ledgers ------------------------------------------------------------------------------

LEDGER_HEADERS = [
    "核定金额",
    "占用额度",
    "结算金额",
    "已拨付",
    "结算释放",
    "终止释放",
    "待拨付",
    "票据损失",
]


def _ledger_figures(row) -> list:
    return [
        row.approved,
        row.committed,
        row.settled,
        row.disbursed,
        row.released_by_settlement,
        row.released_by_termination,
        row.outstanding,
        row.loss,
    ]


def pool_ledger_view(request, year):
    # The whole pool is not another organisation's object but a page a scoped role may not
    # use at all: 403 (DESIGN §5 keeps 404 for guessed ids of other organisations' rows).
    if not sees_everything(request.user):
        raise PermissionDenied
    wants_xlsx = _wants_xlsx(request)
    # The page shows 50 organisations at a time; the xlsx has them all.
    ledger = pool_ledger(year, page=None if wants_xlsx else request.GET.get("page", 1))
    if wants_xlsx:
        workbook = Workbook()
        add_sheet(
            workbook,
            f"{year}年度经费总账",
            ["项目", "金额"],
            [
                ["年度经费总额", ledger.pool_total],
                ["已占用(核定后未释放)", ledger.total.committed],
                ["已拨付", ledger.total.disbursed],
                ["已释放", ledger.total.released],
                ["剩余额度", ledger.remaining],
            ],
            first=True,
        )
        add_sheet(
            workbook,
            "分户汇总",
            ["党组织", *LEDGER_HEADERS],
            [[row.label, *_ledger_figures(row)] for row in [*ledger.rows, ledger.total]],
        )
        return workbook_response(workbook, f"年度经费总账-{year}.xlsx")
    return render(
        request,
        "projects/money/pool_ledger.html",
        {
            "ledger": ledger,
            "year": year,
            "title": f"{year}年度党员活动经费总账",
            "page": ledger.page,
            "page_query": "",
        },
    )


def sub_ledger_view(request, year, org_pk):
    organization = get_object_or_404(Organization.objects.visible_to(request.user), pk=org_pk)
    ledger = sub_ledger(organization, year)
    if _wants_xlsx(request):
        workbook = Workbook()
        add_sheet(
            workbook,
            "分户账",
            ["项目", "状态", *LEDGER_HEADERS],
            [[row.label, row.state_label, *_ledger_figures(row)] for row in ledger.rows]
            + [["合计", "", *_ledger_figures(ledger.total)]],
            first=True,
        )
        add_sheet(
            workbook,
            "拨付明细",
            ["记账时间", "项目", "支付凭证号", "凭证日期", "金额", "收款人", "冲销"],
            [
                [
                    timezone.localtime(e.created_at).strftime("%Y-%m-%d %H:%M"),
                    e.project.code,
                    e.voucher_number,
                    e.voucher_date,
                    e.amount,
                    e.payee_name,
                    e.reverses.voucher_number if e.reverses_id else "",
                ]
                for e in ledger.entries
            ],
        )
        return workbook_response(workbook, f"分户账-{organization.name}-{year}.xlsx")
    return render(
        request,
        "projects/money/sub_ledger.html",
        {
            "ledger": ledger,
            "year": year,
            "title": f"{organization.name} {year}年度分户账",
            "show_pool": sees_everything(request.user),
        },
    )


def pool_ledger_current(request):
    return HttpResponseRedirect(reverse("projects:pool_ledger", args=[timezone.localdate().year]))


# --- invoice import -----------------------------------------------------------------------


def invoice_import_template_view(request, pk):
    project = _project(request, pk)
    return workbook_response(
        invoice_import_template(project=project), f"发票导入模板-{project.code}.xlsx"
    )


def _chosen_line(project, value):
    value = str(value or "")
    if not value.isdigit():
        return None
    return project.budget_lines.filter(pk=value).first()


def invoice_import_view(request, pk):
    project = _project(request, pk)
    project_url = reverse("admin:projects_project_change", args=[project.pk])
    context = {
        "project": project,
        "title": f"导入发票 · {project.code}",
        "errors": [],
        "budget_lines": list(project.budget_lines.order_by("pk")),
    }
    if not perm.may_enter_invoices(project, request.user):
        context["errors"] = [f"项目当前状态为“{project.get_state_display()}”或您无权导入发票。"]
        return render(request, "projects/money/invoice_import.html", context, status=403)
    if request.method == "POST" and request.POST.get("token"):
        return _confirm_import(request, project, project_url, context)
    if request.method == "POST":
        upload = request.FILES.get("file")
        if upload is None:
            context["errors"] = ["请选择要导入的 Excel 文件。"]
        elif upload.size > (MAX_ZIP_UPLOAD if upload.name.lower().endswith(".zip") else MAX_UPLOAD):
            limit = 50 if upload.name.lower().endswith(".zip") else 5
            context["errors"] = [f"文件过大(最大 {limit} MB),请分批导入。"]
        elif not upload.name.lower().endswith((".xlsx", ".zip")):
            context["errors"] = ["只接受 Excel(.xlsx)发票清单或税务平台下载的发票 zip。"]
        else:
            # Parsed and validated once; the preview keeps the validated rows in the
            # database (this user and project, the file's SHA-256, expiring), so any app
            # process may confirm them without parsing the file again.
            result = invoice_import_preview(
                project=project,
                content=upload.read(),
                actor=request.user,
                filename=upload.name,
                budget_line=_chosen_line(project, request.POST.get("budget_line")),
            )
            context["result"] = result
            context["token"] = result.token
    return render(request, "projects/money/invoice_import.html", context)


def _confirm_import(request, project, project_url, context):
    try:
        result = invoice_import_confirm(
            project=project,
            token=request.POST.get("token", ""),
            sha256=request.POST.get("sha256", ""),
            actor=request.user,
        )
    except WorkflowError as exc:
        context["errors"] = exc.messages
        return render(request, "projects/money/invoice_import.html", context)
    if not result.ok or not result.created:
        context["result"] = result
        return render(request, "projects/money/invoice_import.html", context)
    messages.success(request, f"已导入 {result.created} 张发票。")
    return HttpResponseRedirect(project_url)


def _view(func):
    return admin.site.admin_view(func)


urlpatterns = [
    path(
        "projects/project/<int:pk>/money/final-accounts/",
        _view(final_accounts_view),
        name="final_accounts",
    ),
    path(
        "projects/project/<int:pk>/money/settlement-sheet/",
        _view(settlement_sheet_view),
        name="settlement_sheet",
    ),
    path(
        "projects/project/<int:pk>/money/invoice-import/",
        _view(invoice_import_view),
        name="invoice_import",
    ),
    path(
        "projects/project/<int:pk>/money/invoice-template/",
        _view(invoice_import_template_view),
        name="invoice_import_template",
    ),
    path("projects/ledger/", _view(pool_ledger_current), name="pool_ledger_current"),
    path("projects/ledger/<int:year>/", _view(pool_ledger_view), name="pool_ledger"),
    path(
        "projects/ledger/<int:year>/org/<int:org_pk>/",
        _view(sub_ledger_view),
        name="sub_ledger",
    ),
]

__all__ = ["format_cny", "urlpatterns"]
