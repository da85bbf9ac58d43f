"""The running area's admin pages: every save goes through the services, bad input is a form
error (nothing saved, no 500), the to-do panels and the filter, query counts per page."""

import datetime
from decimal import Decimal

import pytest
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from projects.admin.running import MissingMonthlyReportFilter
from projects.models import ChangeRequest, Document, ProgressReport, Project
from projects.services.change_requests import change_request_endorse, change_request_submit
from projects.services.reports import problem_report_submit
from tests.factories import PASSWORD
from tests.projects.fixtures_running import *  # noqa: F403
from tests.projects.fixtures_running import EXE_BYTES, PDF_BYTES, upload

pytestmark = pytest.mark.django_db


def login(client, user):
    client.login(username=user.username, password=PASSWORD)
    return client


def test_progress_report_added_and_read_through_admin(client, in_progress, applicant, reviewer):
    login(client, applicant)
    this_month = timezone.localdate().replace(day=1)
    data = {"project": in_progress.pk, "month": this_month.isoformat(), "progress": "学习两次"}
    response = client.post(reverse("admin:projects_progressreport_add"), data)
    assert response.status_code == 302
    report = ProgressReport.objects.get()
    assert report.author == applicant and report.month == this_month
    # The same month again: a form error, nothing saved.
    response = client.post(reverse("admin:projects_progressreport_add"), data)
    assert response.status_code == 200 and "已经提交过" in response.content.decode()
    assert ProgressReport.objects.count() == 1
    # A month outside the period.
    data["month"] = "2001-01-01"
    response = client.post(reverse("admin:projects_progressreport_add"), data)
    assert "不在项目实施期" in response.content.decode()
    # The org reviewer reads and comments.
    client.logout()
    login(client, reviewer)
    url = reverse("admin:projects_progressreport_change", args=[report.pk])
    assert client.post(url, {"org_comment": "很好"}).status_code == 302
    report.refresh_from_db()
    assert report.read_by == reviewer and report.org_comment == "很好"


def test_outsider_cannot_see_reports(client, in_progress, applicant, outsider):
    report = ProgressReport.objects.create(
        project=in_progress,
        month=timezone.localdate().replace(day=1),
        progress="p",
        author=applicant,
    )
    login(client, outsider)
    url = reverse("admin:projects_progressreport_change", args=[report.pk])
    assert client.get(url).status_code in (302, 404)
    assert (
        report.project.code
        not in client.get(reverse("admin:projects_progressreport_changelist")).content.decode()
    )


def test_change_request_decided_through_admin(client, in_progress, applicant, reviewer, leader):
    login(client, applicant)
    response = client.post(
        reverse("admin:projects_changerequest_add"),
        {"project": in_progress.pk, "kind": "budget", "reason": "人数增加", "new_amount": "9000"},
    )
    assert response.status_code == 302
    change = ChangeRequest.objects.get()
    client.logout()
    login(client, reviewer)
    url = reverse("admin:projects_changerequest_change", args=[change.pk])
    assert client.post(url, {"decision": "endorse", "opinion": "同意上报"}).status_code == 302
    client.logout()
    login(client, leader)
    # Over the grade-3 cap: refused with the cap message, nothing changed.
    response = client.post(url, {"decision": "approve", "opinion": "同意"}, follow=True)
    assert "上限" in response.content.decode()
    change.refresh_from_db()
    in_progress.refresh_from_db()
    assert change.status == ChangeRequest.Status.ENDORSED
    assert in_progress.approved_amount == Decimal("3000.00")
    assert client.post(url, {"decision": "reject", "opinion": "超出上限"}).status_code == 302
    change.refresh_from_db()
    assert change.status == ChangeRequest.Status.REJECTED


def test_decision_missing_opinion_is_a_form_error(client, in_progress, applicant, reviewer):
    change = change_request_submit(
        project=in_progress, actor=applicant, kind="content", reason="r", new_content="c"
    )
    login(client, reviewer)
    url = reverse("admin:projects_changerequest_change", args=[change.pk])
    response = client.post(url, {"decision": "endorse", "opinion": ""})
    assert response.status_code == 200
    change.refresh_from_db()
    assert change.status == ChangeRequest.Status.SUBMITTED


def test_document_upload_through_admin(client, media, in_progress, applicant):
    login(client, applicant)
    url = reverse("admin:projects_document_add")
    bad = {"project": in_progress.pk, "kind": "other", "file": upload("报告.pdf", EXE_BYTES)}
    response = client.post(url, bad)
    assert response.status_code == 200 and "不是允许的类型" in response.content.decode()
    assert not Document.objects.exists()
    good = {"project": in_progress.pk, "kind": "photo", "file": upload("报告.pdf", PDF_BYTES)}
    assert client.post(url, good).status_code == 302
    doc = Document.objects.get()
    assert doc.uploaded_by == applicant and doc.content_type == "application/pdf"
    page = client.get(reverse("admin:projects_document_change", args=[doc.pk]))
    assert reverse("projects:document_download", args=[doc.pk]) in page.content.decode()


def test_summary_report_through_admin(client, in_progress, applicant):
    from tests.projects.fixtures_running import SUMMARY

    login(client, applicant)
    response = client.post(
        reverse("admin:projects_summaryreport_add"), {"project": in_progress.pk, **SUMMARY}
    )
    assert response.status_code == 302
    missing = {**SUMMARY, "lessons": ""}
    summary = in_progress.summary_report
    url = reverse("admin:projects_summaryreport_change", args=[summary.pk])
    assert client.post(url, missing).status_code == 200
    assert client.post(url, {**SUMMARY, "lessons": "更早准备"}).status_code == 302
    summary.refresh_from_db()
    assert summary.lessons == "更早准备"


def overdue_project(project):
    start = timezone.localdate().replace(day=1) - datetime.timedelta(days=40)
    Project.objects.filter(pk=project.pk).update(start_date=start)
    return project


def test_filter_lists_projects_with_overdue_reports(in_progress, approved, reviewer):
    overdue_project(in_progress)
    request = RequestFactory().get("/")
    request.user = reviewer
    flt = MissingMonthlyReportFilter(request, {"monthly_report": ["overdue"]}, Project, None)
    assert list(flt.queryset(request, Project.objects.all())) == [in_progress]


def make_running_projects(count, org, leader_user):
    start = timezone.localdate().replace(day=1) - datetime.timedelta(days=70)
    for n in range(count):
        project = Project.objects.create(
            code=f"2026-8{n:03d}",
            year=timezone.localdate().year,
            title=f"批量项目{n}",
            category="training",
            organization=org,
            leader=leader_user,
            proposed_grade=3,
            start_date=start,
            end_date=start + datetime.timedelta(days=200),
            state="in_progress",
        )
        ChangeRequest.objects.create(
            project=project,
            kind="content",
            reason="r",
            new_content="c",
            requested_by=leader_user,
        )
        problem_report_submit(project=project, actor=leader_user, description="问题")


@pytest.mark.parametrize("who", ["reviewer", "leader", "applicant"])
def test_index_panels_constant_queries(
    client, who, request, in_progress, applicant, reviewer, org_a, django_assert_max_num_queries
):
    overdue_project(in_progress)
    change = change_request_submit(
        project=in_progress, actor=applicant, kind="content", reason="r", new_content="c"
    )
    change_request_endorse(change=change, actor=reviewer, opinion="上报")
    user = request.getfixturevalue(who)
    login(client, user)
    with django_assert_max_num_queries(30) as small:
        response = client.get(reverse("admin:index"))
    content = response.content.decode()
    assert "逾期未报的月度进展报告" in content and in_progress.code in content
    if who == "leader":
        assert "待处理的变更申请" in content and "活动内容变更" in content
    make_running_projects(25, org_a, applicant)
    with django_assert_max_num_queries(len(small.captured_queries)):
        client.get(reverse("admin:index"))


@pytest.mark.parametrize(
    "model", ["progressreport", "problemreport", "changerequest", "summaryreport", "document"]
)
def test_changelists_constant_queries(
    client, model, in_progress, applicant, leader, org_a, django_assert_max_num_queries
):
    login(client, leader)
    url = reverse(f"admin:projects_{model}_changelist")
    with django_assert_max_num_queries(30) as small:
        assert client.get(url).status_code == 200
    make_running_projects(25, org_a, applicant)
    with django_assert_max_num_queries(len(small.captured_queries)):
        assert client.get(url).status_code == 200


def test_project_page_queries_do_not_grow(
    client, in_progress, applicant, leader, django_assert_max_num_queries
):
    login(client, leader)
    url = reverse("admin:projects_project_change", args=[in_progress.pk])
    with django_assert_max_num_queries(80) as small:
        assert client.get(url).status_code == 200
    for n in range(10):
        problem_report_submit(project=in_progress, actor=applicant, description=f"问题{n}")
        change_request_submit(
            project=in_progress, actor=applicant, kind="content", reason="r", new_content="c"
        )
    with django_assert_max_num_queries(len(small.captured_queries)):
        assert client.get(url).status_code == 200
