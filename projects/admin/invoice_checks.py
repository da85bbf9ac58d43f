"""Finance's check of an invoice as two buttons, 合格 and 不合格, on each row of the invoice
list and on the invoice page (issue 11, finding 8), instead of a bulk-action dropdown.

合格 is a submit button of the page's own form (the changelist and the change form both
carry the CSRF token) posting to the check view through `formaction`, so no form is nested
inside another. 不合格 opens a small page that asks for the reason. A decided invoice shows
改判 instead (the existing recheck view). Every decision is one `invoice_check` call.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseNotAllowed, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.http import url_has_allowed_host_and_scheme, urlencode

from projects import permissions as perm
from projects.models.money import Invoice
from projects.money import format_cny
from projects.services.errors import WorkflowError
from projects.services.invoices import invoice_check


class UnqualifiedForm(forms.Form):
    reason = forms.CharField(
        label="不合格原因",
        max_length=200,
        widget=forms.Textarea({"rows": 3}),
        help_text="不合格票据造成的损失由项目部自行承担(三(四))。",
        error_messages={"required": "请填写不合格原因。"},
    )


def check_buttons(invoice: Invoice, user, *, back: str = "") -> str:
    """The buttons finance uses on this invoice, or "" for who may not check it."""
    if not perm.may_check_invoices(invoice.project, user):
        return ""
    if invoice.check_status != Invoice.CheckStatus.PENDING:
        url = reverse("admin:projects_invoice_recheck", args=[invoice.pk])
        return format_html('<a class="button check-button" href="{}">改判</a>', url)
    url = reverse("admin:projects_invoice_check", args=[invoice.pk])
    suffix = "?" + urlencode({"next": back}) if back else ""
    number = f"{invoice.code} {invoice.number}".strip()
    return format_html(
        '<span class="check-buttons">'
        '<button type="submit" class="primary-button check-button" formmethod="post"'
        ' formaction="{}{}" formnovalidate name="conclusion" value="qualified"'
        ' aria-label="发票 {} 合格">合格</button> '
        '<a class="button danger-button check-button" href="{}{}"'
        ' aria-label="发票 {} 不合格">不合格</a></span>',
        url,
        suffix,
        number,
        url,
        suffix,
        number,
    )


def check_column(request):
    """A changelist column bound to this request (list_display callables get only the row)."""

    @admin.display(description="财务审核")
    def check(obj):
        return check_buttons(obj, request.user, back=request.get_full_path()) or "—"

    return check


def _next_url(request, invoice) -> str:
    target = request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return reverse("admin:projects_invoice_change", args=[invoice.pk])


def check_urls(model_admin) -> list:
    view = model_admin.admin_site.admin_view

    def check_view(request, pk):
        invoice = get_object_or_404(
            model_admin.get_queryset(request).select_related("project"), pk=pk
        )
        back = _next_url(request, invoice)
        if not perm.may_check_invoices(invoice.project, request.user):
            project = invoice.project
            moved_on = project.state not in perm.INVOICE_CHECK_STATES
            if request.method == "GET" and moved_on and perm.is_finance(project, request.user):
                # A link from an earlier page: the project has moved on (settled) since.
                model_admin.message_user(
                    request,
                    f"项目当前为“{project.get_state_display()}”,发票不能再审核。",
                    messages.WARNING,
                )
                return HttpResponseRedirect(
                    reverse("admin:projects_invoice_change", args=[invoice.pk])
                )
            raise PermissionDenied
        conclusion = request.POST.get("conclusion")
        if request.method == "POST" and conclusion == "qualified":
            return _decide(model_admin, request, invoice, back, qualified=True, reason="")
        form = UnqualifiedForm(request.POST if request.method == "POST" else None)
        if request.method == "POST" and conclusion != "unqualified":
            return HttpResponseNotAllowed(["GET"])
        if form.is_bound and form.is_valid():
            return _decide(
                model_admin,
                request,
                invoice,
                back,
                qualified=False,
                reason=form.cleaned_data["reason"],
            )
        number = f"{invoice.code} {invoice.number}".strip()
        return TemplateResponse(
            request,
            "admin/projects/money/invoice_unqualified.html",
            {
                **model_admin.admin_site.each_context(request),
                "title": f"发票 {number} 不合格",
                "invoice": invoice,
                "form": form,
                "back": back,
                "total": format_cny(invoice.total),
                "opts": model_admin.model._meta,
            },
        )

    return [path("<int:pk>/check/", view(check_view), name="projects_invoice_check")]


def _decide(model_admin, request, invoice, back, *, qualified, reason):
    try:
        invoice_check(invoice=invoice, actor=request.user, qualified=qualified, reason=reason)
    except WorkflowError as exc:
        for message in exc.messages:
            model_admin.message_user(request, message, messages.ERROR)
    else:
        word = "合格" if qualified else "不合格"
        number = f"{invoice.code} {invoice.number}".strip()
        model_admin.message_user(request, f"发票 {number} 已审核为{word}。", messages.SUCCESS)
    return HttpResponseRedirect(back)
