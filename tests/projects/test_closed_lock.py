"""三(五) 归档 and DESIGN.md §5: a closed project and everything under it is read-only for
everyone, superusers included, through every interface of the running area."""

import pytest
from django.urls import reverse

from projects.models import ChangeRequest, Document, ProblemReport, ProgressReport, SummaryReport
from projects.services import WorkflowError
from projects.services.change_requests import change_request_submit
from projects.services.documents import document_upload
from projects.services.reports import (
    problem_report_answer,
    problem_report_forward,
    problem_report_submit,
    progress_report_read,
)
from projects.services.summaries import summary_report_save
from tests.factories import PASSWORD, UserFactory
from tests.projects.fixtures_running import *  # noqa: F403
from tests.projects.fixtures_running import PDF_BYTES, SUMMARY, upload

pytestmark = pytest.mark.django_db


@pytest.fixture
def superuser(work_committee):
    return UserFactory(username="root", organization=work_committee, is_superuser=True)


@pytest.fixture
def closed_with_records(grade4_accepted, applicant, reviewer, leader, media):
    project = grade4_accepted
    ProgressReport.objects.create(
        project=project, month=project.start_date.replace(day=1), progress="p", author=applicant
    )
    ProblemReport.objects.create(project=project, description="问题", author=applicant)
    ChangeRequest.objects.create(
        project=project, kind="content", reason="r", new_content="c", requested_by=applicant
    )
    document_upload(project=project, actor=applicant, uploaded=upload("a.pdf", PDF_BYTES))
    from projects.services import apply_transition

    return apply_transition(project, "close", actor=leader, opinion="归档")


@pytest.mark.parametrize("who", ["applicant", "reviewer", "leader", "superuser"])
def test_services_refuse_everyone(request, closed_with_records, who):
    actor = request.getfixturevalue(who)
    project = closed_with_records
    problem = ProblemReport.objects.get()
    attempts = [
        lambda: problem_report_submit(project=project, actor=actor, description="x"),
        lambda: problem_report_forward(report=problem, actor=actor),
        lambda: problem_report_answer(report=problem, actor=actor, answer="x"),
        lambda: progress_report_read(report=ProgressReport.objects.get(), actor=actor),
        lambda: change_request_submit(
            project=project, actor=actor, kind="content", reason="r", new_content="x"
        ),
        lambda: summary_report_save(project=project, actor=actor, **SUMMARY),
        lambda: document_upload(project=project, actor=actor, uploaded=upload("b.pdf", PDF_BYTES)),
    ]
    for attempt in attempts:
        with pytest.raises(WorkflowError) as err:
            attempt()
        assert "归档" in str(err.value)
    assert Document.objects.count() == 1 and ProblemReport.objects.count() == 1
    assert SummaryReport.objects.get().conduct == SUMMARY["conduct"]


@pytest.mark.parametrize(
    "model", ["progressreport", "problemreport", "changerequest", "summaryreport", "document"]
)
def test_admin_pages_are_read_only_for_superuser(client, closed_with_records, superuser, model):
    from django.apps import apps

    obj = apps.get_model("projects", model).objects.get()
    client.login(username="root", password=PASSWORD)
    url = reverse(f"admin:projects_{model}_change", args=[obj.pk])
    page = client.get(url)
    assert page.status_code == 200
    assert b'name="_save"' not in page.content
    before = {f.name: getattr(obj, f.name) for f in obj._meta.concrete_fields}
    response = client.post(
        url,
        {"org_comment": "x", "answer": "x", "decision": "endorse", "opinion": "x", "goals": "x"},
    )
    assert response.status_code == 403
    obj.refresh_from_db()
    assert {f.name: getattr(obj, f.name) for f in obj._meta.concrete_fields} == before
    delete = client.post(reverse(f"admin:projects_{model}_delete", args=[obj.pk]), {"post": "yes"})
    assert delete.status_code == 403
    assert obj.__class__.objects.filter(pk=obj.pk).exists()


def test_closed_project_is_not_offered_in_add_forms(client, closed_with_records, superuser):
    client.login(username="root", password=PASSWORD)
    response = client.post(
        reverse("admin:projects_problemreport_add"),
        {"project": closed_with_records.pk, "description": "新问题"},
    )
    assert response.status_code == 200
    assert "选择一个有效的选项" in response.content.decode()
    assert ProblemReport.objects.count() == 1


def test_project_page_inlines_are_read_only(client, closed_with_records, superuser):
    client.login(username="root", password=PASSWORD)
    page = client.get(reverse("admin:projects_project_change", args=[closed_with_records.pk]))
    assert page.status_code == 200
    content = page.content.decode()
    assert "a.pdf" in content and "问题" in content
    assert "progress_reports-0-progress" not in content  # no editable inline inputs
