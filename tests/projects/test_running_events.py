"""Hole 2 (running part): every write of the running area leaves exactly one signed event,
with what changed (before → after), and the whole chain still verifies."""

import pytest

from projects.models import ChangeRequest, ProjectHistory
from projects.services import events
from projects.services.change_requests import (
    change_request_approve,
    change_request_endorse,
    change_request_reject,
    change_request_submit,
    change_request_turn_down,
)
from projects.services.documents import document_upload
from projects.services.reports import (
    problem_report_answer,
    problem_report_forward,
    problem_report_submit,
    progress_report_read,
    progress_report_submit,
)
from projects.services.summaries import summary_report_save
from tests.projects.fixtures_running import *  # noqa: F403
from tests.projects.fixtures_running import PDF_BYTES, SUMMARY, upload

pytestmark = pytest.mark.django_db


def one_new_event(project, before_count, action):
    rows = list(ProjectHistory.objects.filter(project=project).order_by("seq"))
    assert len(rows) == before_count + 1, [r.transition for r in rows[before_count:]]
    row = rows[-1]
    assert row.transition == action
    assert row.actor_name and row.digest
    verification = events.verify()
    assert verification.ok, [str(b) for b in verification.breaks]
    return row


def count(project):
    return ProjectHistory.objects.filter(project=project).count()


def submit_change(project, applicant, **values):
    values = values or {"kind": "content", "new_content": "改为线上学习"}
    return change_request_submit(project=project, actor=applicant, reason="场地变化", **values)


def test_change_request_submit_is_an_event(in_progress, applicant):
    n = count(in_progress)
    change = submit_change(in_progress, applicant)
    row = one_new_event(in_progress, n, "change_request_submit")
    assert row.data["change_request"] == change.pk
    assert row.data["before"] == {"status": ""}
    assert row.data["after"]["status"] == ChangeRequest.Status.SUBMITTED
    assert row.opinion == "场地变化"


@pytest.mark.parametrize(
    "step,status",
    [("endorse", "endorsed"), ("turn_down", "turned_down")],
)
def test_org_decision_on_a_change_is_an_event(in_progress, applicant, reviewer, step, status):
    change = submit_change(in_progress, applicant)
    n = count(in_progress)
    service = {"endorse": change_request_endorse, "turn_down": change_request_turn_down}[step]
    service(change=change, actor=reviewer, opinion="项目部意见")
    row = one_new_event(in_progress, n, f"change_request_{step}")
    assert row.data["before"] == {"status": "submitted"}
    assert row.data["after"] == {"status": status}
    assert row.opinion == "项目部意见" and row.actor == reviewer


def test_leadership_reject_is_an_event(in_progress, applicant, reviewer, leader):
    change = change_request_endorse(
        change=submit_change(in_progress, applicant), actor=reviewer, opinion="上报"
    )
    n = count(in_progress)
    change_request_reject(change=change, actor=leader, opinion="不予变更")
    row = one_new_event(in_progress, n, "change_request_reject")
    assert row.data["before"] == {"status": "endorsed"}
    assert row.data["after"] == {"status": "rejected"}


def test_budget_change_approval_records_the_amounts(in_progress, applicant, reviewer, leader):
    change = change_request_endorse(
        change=submit_change(in_progress, applicant, kind="budget", new_amount="2500.00"),
        actor=reviewer,
        opinion="上报",
    )
    n = count(in_progress)
    change_request_approve(change=change, actor=leader, opinion="同意")
    row = one_new_event(in_progress, n, "change_request_approve")
    assert row.data["before"]["approved_amount"] == "3000.00"
    assert row.data["after"]["approved_amount"] == "2500.00"
    # The snapshot follows the project's new money, so verify_history agrees with the row.
    assert row.data["snapshot"]["approved_amount"] == "2500.00"


def test_progress_report_submit_and_read_are_events(in_progress, applicant, reviewer):
    n = count(in_progress)
    report = progress_report_submit(
        project=in_progress,
        actor=applicant,
        month=in_progress.start_date,
        progress="学习两次",
    )
    row = one_new_event(in_progress, n, "progress_report_submit")
    assert row.data["progress_report"] == report.pk
    progress_report_read(report=report, actor=reviewer, comment="已阅")
    row = one_new_event(in_progress, n + 1, "progress_report_read")
    assert row.data["before"] == {"read_by": None, "org_comment": ""}
    assert row.data["after"] == {"read_by": reviewer.pk, "org_comment": "已阅"}


def test_problem_report_submit_forward_answer_are_events(in_progress, applicant, reviewer, leader):
    n = count(in_progress)
    problem = problem_report_submit(project=in_progress, actor=applicant, description="场地紧张")
    one_new_event(in_progress, n, "problem_report_submit")
    problem = problem_report_forward(report=problem, actor=reviewer, comment="请协调")
    row = one_new_event(in_progress, n + 1, "problem_report_forward")
    assert row.data["after"] == {"forwarded": True, "org_comment": "请协调"}
    problem_report_answer(report=problem, actor=leader, answer="同意使用会议室")
    row = one_new_event(in_progress, n + 2, "problem_report_answer")
    assert row.data["before"] == {"answer": ""}
    assert row.data["after"] == {"answer": "同意使用会议室"}


def test_summary_save_is_an_event_with_what_changed(in_progress, applicant):
    n = count(in_progress)
    summary_report_save(project=in_progress, actor=applicant, **SUMMARY)
    row = one_new_event(in_progress, n, "summary_report_save")
    assert row.data["created"] is True and row.data["after"]["goals"] == SUMMARY["goals"]
    summary_report_save(
        project=in_progress, actor=applicant, **{**SUMMARY, "effect": "参与率 98%。"}
    )
    row = one_new_event(in_progress, n + 1, "summary_report_save")
    assert row.data["before"] == {"effect": SUMMARY["effect"]}
    assert row.data["after"] == {"effect": "参与率 98%。"}


def test_document_upload_is_an_event(media, in_progress, applicant):
    n = count(in_progress)
    document = document_upload(
        project=in_progress, actor=applicant, uploaded=upload("方案.pdf", PDF_BYTES)
    )
    row = one_new_event(in_progress, n, "document_upload")
    assert row.data["document"] == document.pk
    assert row.data["sha256"] == document.sha256 and row.data["name"] == "方案.pdf"
