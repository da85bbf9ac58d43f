"""The five archived documents: for each, the template of its print page, its context (built
by the print page's own context builder, so the HTML and the PDF show the same thing) and its
data: what the document shows, as plain values for the XML attachment and the snapshot that
the verification page compares against.

Domain code is imported inside the functions: projects.services is being restructured, and
this module must not pin its import order.
"""

from dataclasses import dataclass
from decimal import Decimal

from django.utils import timezone

from projects.models.documents import IssuedDocument

Kind = IssuedDocument.Kind


def money(value) -> str:
    """A machine-readable amount ("1234.50", "" when unset): Decimal text, never a float."""
    if value is None:
        return ""
    return str(Decimal(value).quantize(Decimal("0.01")))


def when(value) -> str:
    """A date or a Beijing-time timestamp as text."""
    if value is None:
        return ""
    if hasattr(value, "hour"):
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")
    return value.isoformat()


@dataclass
class Subject:
    """What a document is about: a project, or an organisation's year (the 公示)."""

    kind: str
    project: object = None
    organization: object = None
    year: int | None = None

    @property
    def key(self) -> str:
        if self.kind == Kind.DISCLOSURE:
            return f"disclosure:{self.organization.pk}:{self.year}"
        return f"project:{self.project.pk}"

    @property
    def owner(self):
        return self.organization if self.project is None else self.project.organization

    def filename(self) -> str:
        label = Kind(self.kind).label
        if self.kind == Kind.DISCLOSURE:
            return f"{self.organization.name}{self.year}年度{label}.pdf"
        return f"{label}-{self.project.code}.pdf"


def _project_head(project) -> dict:
    # Not the project's state: a later step (e.g. 归档) does not change what a 结算单 or a
    # 验收意见 records, so it must not make the printed copy "superseded".
    return {
        "code": project.code,
        "title": project.title,
        "organization": project.organization.name,
        "leader": project.leader.display_name,
    }


# --- 项目申请书 ------------------------------------------------------------------------------


def application_context(project) -> dict:
    from projects.views.printing import application_rows

    return {"project": project, **application_rows(project)}


def application_data(project, context) -> tuple[list, dict]:
    data = {
        "project": _project_head(project),
        "requested_amount": money(project.requested_amount),
        "approved_amount": money(project.approved_amount),
        "header": [{"label": k, "value": str(v)} for k, v in context["header"]],
        "sections": [{"label": k, "value": v or ""} for k, v in context["sections"]],
        "budget": [
            dict(zip(("item", "description", "quantity", "unit_price", "amount"), row, strict=True))
            for row in context["budget"]
        ],
        "budget_total": context["budget_total"],
        "reviews": [
            {
                **dict(
                    zip(("kind", "decision", "opinion", "signature", "signed_at"), row, strict=True)
                ),
                "conditions": [{"label": k, "answer": v} for k, v in checks],
            }
            for row, (_label, checks) in zip(context["reviews"], context["conditions"], strict=True)
        ],
    }
    summary = [
        ("项目编号", project.code),
        ("项目名称", project.title),
        ("申报单位", project.organization.name),
        ("项目负责人", project.leader.display_name),
        ("申请金额", _cny(project.requested_amount)),
        ("核定金额", _cny(project.approved_amount)),
        ("审核记录", f"{len(context['reviews'])} 条"),
        ("当前状态", project.get_state_display()),
    ]
    return summary, data


# --- 验收意见 -------------------------------------------------------------------------------


def acceptance_context(project) -> dict:
    from projects.models import ReviewKind

    reviews = list(project.reviews.filter(kind=ReviewKind.ACCEPTANCE).order_by("signed_at", "pk"))
    return {
        "project": project,
        "reviews": reviews,
        "accepted": any(r.decision == "approve" for r in reviews),
        "title": f"验收意见 · {project.code}",
    }


def acceptance_data(project, context) -> tuple[list, dict]:
    reviews = [
        {
            "decision": r.get_decision_display(),
            "conclusion": r.get_conclusion_display() if r.conclusion else "",
            "opinion": r.opinion,
            "reviewer_name": r.reviewer_name,
            "reviewer_organization": r.reviewer_organization,
            "reviewer_title": r.reviewer_title,
            "reviewer_role": r.reviewer_role,
            "signed_at": when(r.signed_at),
        }
        for r in context["reviews"]
    ]
    data = {
        "project": _project_head(project),
        "approved_amount": money(project.approved_amount),
        "start_date": when(project.start_date),
        "end_date": when(project.end_date),
        "accepted": context["accepted"],
        "reviews": reviews,
    }
    last = reviews[-1] if reviews else None
    summary = [
        ("项目编号", project.code),
        ("项目名称", project.title),
        ("申报单位", project.organization.name),
        ("核定金额", _cny(project.approved_amount)),
        ("验收结论", (last["conclusion"] or last["decision"]) if last else "尚未验收"),
        ("签署", f"{last['reviewer_name']} {last['signed_at']}" if last else "—"),
    ]
    return summary, data


# --- 决算清单 -------------------------------------------------------------------------------


def final_accounts_context(project) -> dict:
    from projects.services.final_accounts import final_accounts_get

    return {
        "project": project,
        "accounts": final_accounts_get(project=project),
        "title": f"决算清单 · {project.code}",
    }


def final_accounts_data(project, context) -> tuple[list, dict]:
    from projects.money import to_chinese_capital

    accounts = context["accounts"]
    figures = ("budgeted", "actual", "invoiced", "qualified", "unqualified", "pending")
    data = {
        "project": _project_head(project),
        "approved_amount": money(project.approved_amount),
        "approved_amount_capital": to_chinese_capital(project.approved_amount or 0),
        "rows": [
            {
                "item": row.line.get_item_display(),
                "description": row.line.description,
                **{name: money(getattr(row, name)) for name in figures},
            }
            for row in accounts.rows
        ],
        "total": {name: money(getattr(accounts, name)) for name in figures},
        "complete": accounts.complete,
    }
    summary = [
        ("项目编号", project.code),
        ("项目名称", project.title),
        ("申报单位", project.organization.name),
        ("核定金额", _cny(project.approved_amount)),
        ("预算合计", _cny(accounts.budgeted)),
        ("实际支出合计", _cny(accounts.actual)),
        ("合格发票合计", _cny(accounts.qualified)),
    ]
    return summary, data


# --- 项目资金结算单 -------------------------------------------------------------------------


def settlement_context(project) -> dict:
    from projects.views.money import _settlement_context

    return _settlement_context(project)


def settlement_invoices(project) -> list:
    from projects.models.money import Invoice

    return list(
        Invoice.objects.filter(project=project).select_related("scan").order_by("issue_date", "pk")
    )


def settlement_data(project, context) -> tuple[list, dict]:
    invoices = context.get("invoices")
    if invoices is None:
        invoices = settlement_invoices(project)
    settled_by = context["settled_by"]
    disbursed = sum((d.amount for d in context["disbursements"]), Decimal("0.00"))
    data = {
        "project": _project_head(project),
        "approved_amount": money(project.approved_amount),
        "payable_limit": money(project.payable_limit),
        "qualified_total": money(context["qualified"]),
        "unqualified_total": money(context["unqualified"]),
        "settlement_amount": money(project.settlement_amount),
        "settlement_amount_capital": context["capital"] if context["is_final"] else "",
        "loss_amount": money(project.loss_amount),
        "is_final": context["is_final"],
        "disbursed_total": money(disbursed),
        "payment_approved_by": (
            project.payment_approved_by.display_name if project.payment_approved_by_id else ""
        ),
        "settled_by": settled_by.actor_name if settled_by else "",
        "settled_at": when(settled_by.created_at) if settled_by else "",
        "disbursements": [
            {
                "voucher_number": d.voucher_number,
                "voucher_date": when(d.voucher_date),
                "amount": money(d.amount),
                "method": d.get_method_display(),
                "payee_name": d.payee_name,
                "payee_bank": d.payee_bank,
                "payee_account": d.payee_account,
                "bank_serial": d.bank_serial,
                "reverses": d.reverses.voucher_number if d.reverses_id else "",
                "note": d.note,
            }
            for d in context["disbursements"]
        ],
        "invoices": [
            {
                "kind": i.get_kind_display(),
                "code": i.code,
                "number": i.number,
                "issue_date": when(i.issue_date),
                "seller_name": i.seller_name,
                "seller_tax_id": i.seller_tax_id,
                "amount": money(i.amount),
                "tax": money(i.tax),
                "total": money(i.total),
                "check_status": i.get_check_status_display(),
                "original": i.scan.original_name if i.scan_id else "",
                "original_sha256": i.scan.sha256 if i.scan_id else "",
            }
            for i in invoices
        ],
    }
    summary = [
        ("项目编号", project.code),
        ("项目名称", project.title),
        ("申报组织", project.organization.name),
        ("核定金额", _cny(project.approved_amount)),
        ("批准拨付限额", _cny(project.payable_limit)),
        ("结算金额", _cny(project.settlement_amount) if context["is_final"] else "尚未结算"),
        ("结算金额(大写)", context["capital"] if context["is_final"] else "—"),
        ("已拨付(净额)", _cny(disbursed)),
        ("结算日期", when(settled_by.created_at)[:10] if settled_by else "—"),
    ]
    return summary, data


# --- 党费使用情况公示 -----------------------------------------------------------------------


class _SystemReader:
    """The verification page recomputes a 公示 as the system, not as a visitor: it sees every
    organisation (scoping by equality: the organisation's own users see the same rows)."""

    is_authenticated = True
    is_active = True
    is_superuser = True
    organization_id = None


def disclosure_context(organization, year, user=None) -> dict:
    from projects.selectors import statistics

    notice = statistics.disclosure(user or _SystemReader(), organization.pk, year)
    return {
        "notice": notice,
        "today": timezone.localdate(),
        "title": f"{notice.organization.name}{notice.year}年度党费使用情况公示",
    }


def disclosure_data(organization, year, context) -> tuple[list, dict]:
    from projects.selectors.statistics import DISCLOSED_AMOUNTS

    notice = context["notice"]
    data = {
        "organization": notice.organization.name,
        "year": notice.year,
        "projects": [
            {
                "code": p.code,
                "title": p.title,
                "commended": p.is_commended,
                "leader": p.leader.display_name,
                "grade": p.get_grade_display() if p.grade else "",
                **{name: money(getattr(p, name)) for name in DISCLOSED_AMOUNTS},
                "state": p.get_state_display(),
            }
            for p in notice.projects
        ],
        "total": {name: money(notice.total[name]) for name in DISCLOSED_AMOUNTS},
    }
    summary = [
        ("党组织", notice.organization.name),
        ("年度", f"{notice.year}年度"),
        ("公示项目", f"{len(notice.projects)} 个"),
        ("核定金额合计", _cny(notice.total["approved_amount"])),
        ("已拨付合计", _cny(notice.total["disbursed"])),
    ]
    return summary, data


def _cny(value) -> str:
    from projects.money import format_cny

    return format_cny(value)


# --- the table of kinds ---------------------------------------------------------------------

TEMPLATES = {
    Kind.APPLICATION: "projects/print/application.html",
    Kind.ACCEPTANCE: "projects/print/acceptance.html",
    Kind.FINAL_ACCOUNTS: "projects/money/final_accounts.html",
    Kind.SETTLEMENT: "projects/money/settlement_sheet.html",
    Kind.DISCLOSURE: "projects/documents/disclosure.html",
}

_PROJECT_BUILDERS = {
    Kind.APPLICATION: (application_context, application_data),
    Kind.ACCEPTANCE: (acceptance_context, acceptance_data),
    Kind.FINAL_ACCOUNTS: (final_accounts_context, final_accounts_data),
    Kind.SETTLEMENT: (settlement_context, settlement_data),
}


def build_context(subject: Subject, user=None) -> dict:
    if subject.kind == Kind.DISCLOSURE:
        return disclosure_context(subject.organization, subject.year, user)
    return _PROJECT_BUILDERS[subject.kind][0](subject.project)


def build_data(subject: Subject, context: dict) -> tuple[list, dict]:
    """(summary rows for the verification page, full data for the XML and the snapshot)."""
    if subject.kind == Kind.DISCLOSURE:
        summary, data = disclosure_data(subject.organization, subject.year, context)
    else:
        summary, data = _PROJECT_BUILDERS[subject.kind][1](subject.project, context)
    title = Kind(subject.kind).label
    return [("文书", title), *summary], {"kind": subject.kind, "title": title, **data}
