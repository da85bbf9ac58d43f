"""A link is drawn only when the permission behind it passes (issue 11, finding 6): for each
role, every same-site link on the project page and the lists it uses answers neither 403 nor
404 (the test client; the browser days follow links too)."""

import re
from decimal import Decimal

import pytest
from django.urls import reverse

from projects.services import apply_transition
from tests.projects import fixtures_money
from tests.projects.fixtures_money import (
    add_invoices,
    check_all,
    request_and_approve,
    settle_decision,
)

pytestmark = pytest.mark.django_db
accepted = fixtures_money.accepted

ROLES = ["applicant", "reviewer", "leader", "finance", "auditor"]
HREF = re.compile(r'<a\b[^>]*\bhref="([^"#]+)')
SKIP = ("/admin/logout/", "/accounts/logout/")


RECORD_PAGE = re.compile(r"^/admin/projects/\w+/\d+/change/$")


def broken_links(client, pages) -> list[str]:
    """Follow every link of the pages, and the links of the record pages they lead to."""
    pages, seen, broken = list(pages), set(), []
    for page in pages:
        response = client.get(page)
        assert response.status_code == 200, (page, response.status_code)
        for href in HREF.findall(response.content.decode()):
            href = href.replace("&amp;", "&")
            if not href.startswith("/") or href.startswith(SKIP) or href in seen:
                continue
            seen.add(href)
            status = client.get(href).status_code
            if status in (403, 404) or status >= 500:
                broken.append(f"{page} → {href}: {status}")
            elif status == 200 and RECORD_PAGE.match(href) and href not in pages:
                pages.append(href)
    return broken


def sweep(client, request, project) -> list[str]:
    broken = []
    invoices = list(project.invoices.values_list("pk", flat=True))
    for role in ROLES:
        user = request.getfixturevalue(role)
        client.force_login(user)
        pages = [
            reverse("admin:index"),
            reverse("admin:projects_project_changelist"),
            reverse("admin:projects_project_change", args=[project.pk]),
            reverse("admin:projects_invoice_changelist"),
            *[reverse("admin:projects_invoice_change", args=[pk]) for pk in invoices],
            reverse("admin:projects_disbursement_changelist"),
        ]
        broken += [f"{role}: {line}" for line in broken_links(client, pages)]
    return broken


def test_no_link_ends_in_403_or_404_while_invoices_are_entered(
    client, request, accepted, applicant, finance
):
    invoices = add_invoices(accepted, applicant, Decimal("1000.00"), Decimal("500.00"))
    check_all(invoices[:1], finance)
    broken = sweep(client, request, accepted)
    assert broken == [], "\n".join(broken)
    # ...and who may enter invoices still gets the links
    client.force_login(applicant)
    page = client.get(reverse("admin:projects_project_change", args=[accepted.pk]))
    text = page.content.decode()
    assert "录入发票" in text and "从 Excel 导入发票" in text and "下载导入模板" in text
    # the person who checked is named in plain text, not linked to the user admin
    checked = reverse("admin:projects_invoice_change", args=[invoices[0].pk])
    text = client.get(checked).content.decode()
    assert finance.display_name in text and "/admin/accounts/user/" not in text
    client.force_login(finance)
    page = client.get(reverse("admin:projects_project_change", args=[accepted.pk]))
    assert "录入发票" not in page.content.decode()


def test_no_link_ends_in_403_or_404_after_settlement(
    client, request, accepted, applicant, reviewer, leader, finance, advance
):
    invoices = add_invoices(accepted, applicant, Decimal("1000.00"))
    check_all(invoices, finance)
    project = request_and_approve(
        accepted, reviewer=reviewer, leader=leader, limit="1000.00", advance=advance
    )
    project = apply_transition(project, "settle", actor=finance, **settle_decision(project))
    broken = sweep(client, request, project)
    assert broken == [], "\n".join(broken)
    record = reverse("admin:projects_disbursement_record", args=[project.pk])
    client.force_login(finance)
    page = client.get(reverse("admin:projects_project_change", args=[project.pk]))
    assert f'href="{record}"' in page.content.decode()


RUNNING_LISTS = [
    "progressreport",
    "problemreport",
    "changerequest",
    "summaryreport",
    "document",
    "disbursement",
]


def test_no_link_ends_in_403_or_404_in_the_running_area(
    client, request, approved, applicant, reviewer, leader
):
    """Reports, problems, change requests, the summary and attachments name their people in
    plain text: a link to the user admin would end in 403/404 for most roles (finding 6)."""
    import datetime

    from django.utils import timezone

    from projects.services import change_requests, documents, reports, summaries
    from tests.projects.fixtures_running import PDF_BYTES, SUMMARY, upload

    project = apply_transition(approved, "start", actor=applicant)
    month = max(timezone.localdate(), project.start_date).replace(day=1)
    progress = reports.progress_report_submit(
        project=project, actor=applicant, month=month, progress="学习两次"
    )
    reports.progress_report_read(report=progress, actor=reviewer, comment="已阅")
    problem = reports.problem_report_submit(project=project, actor=applicant, description="场地")
    reports.problem_report_forward(report=problem, actor=reviewer, comment="请领导小组协调")
    change_requests.change_request_submit(
        project=project,
        actor=applicant,
        kind="schedule",
        reason="场地调整",
        new_start_date=project.start_date,
        new_end_date=project.end_date + datetime.timedelta(days=7),
    )
    documents.document_upload(project=project, actor=applicant, uploaded=upload("a.pdf", PDF_BYTES))
    summaries.summary_report_save(project=project, actor=applicant, **SUMMARY)

    broken = []
    for role in ROLES:
        client.force_login(request.getfixturevalue(role))
        pages = [
            reverse("admin:projects_project_change", args=[project.pk]),
            *[reverse(f"admin:projects_{name}_changelist") for name in RUNNING_LISTS],
        ]
        broken += [f"{role}: {line}" for line in broken_links(client, pages)]
        # Every person is a full name in plain text, on the lists, the records and inlines.
        for page in pages:
            text = client.get(page).content.decode()
            assert "/admin/accounts/user/" not in text, (role, page)
            if "changelist" not in page and "/project/" in page:
                assert applicant.display_name in text and reviewer.display_name in text
    assert broken == [], "\n".join(broken)
    client.force_login(leader)
    text = client.get(reverse("admin:projects_progressreport_changelist")).content.decode()
    assert reviewer.display_name in text and f"({reviewer.username})" not in text
