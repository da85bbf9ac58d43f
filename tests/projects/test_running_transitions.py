"""start, finish, rectify, accept, close and terminate: allowed and refused per role and
organisation, wrong states, and the records each writes (DESIGN.md §3 from `approved`)."""

from decimal import Decimal

import pytest

from projects.models import ProjectHistory, Review, State
from projects.services import WorkflowError, apply_transition
from tests.projects.fixtures_running import *  # noqa: F403

pytestmark = pytest.mark.django_db

ROLES = ["applicant", "org_reviewer", "outsider", "leadership", "finance", "auditor"]

# transition, fixture giving a project in its source state, decision, roles allowed, target
CASES = [
    ("start", "approved", {}, {"applicant", "org_reviewer"}, State.IN_PROGRESS),
    ("finish", "with_summary", {"opinion": "同意"}, {"org_reviewer"}, State.ACCEPTANCE),
    ("rectify", "in_acceptance", {"opinion": "补充材料"}, {"leadership"}, State.IN_PROGRESS),
    (
        "accept",
        "in_acceptance",
        {"opinion": "验收合格", "conclusion": "excellent"},
        {"leadership"},
        State.ACCEPTED,
    ),
    ("close", "grade4_accepted", {"opinion": "归档"}, {"leadership"}, State.CLOSED),
    ("terminate", "in_progress", {"opinion": "无法开展"}, {"leadership"}, State.TERMINATED),
]


@pytest.fixture
def with_summary(in_progress, applicant):
    from projects.services.summaries import summary_report_save
    from tests.projects.fixtures_running import SUMMARY

    summary_report_save(project=in_progress, actor=applicant, **SUMMARY)
    return in_progress


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("name,fixture,decision,allowed,target", CASES, ids=[c[0] for c in CASES])
def test_permission_matrix(request, role_users, role, name, fixture, decision, allowed, target):
    project = request.getfixturevalue(fixture)
    actor = role_users[role]
    before = ProjectHistory.objects.filter(project=project).count()
    if role in allowed:
        project = apply_transition(project, name, actor=actor, **decision)
        assert project.state == target
        # close also records its archive package's digest (issue 13), after the step's event.
        steps = ProjectHistory.objects.filter(project=project).exclude(transition="archive_package")
        assert steps.count() == before + 1
    else:
        with pytest.raises(WorkflowError) as err:
            apply_transition(project, name, actor=actor, **decision)
        assert "无权" in str(err.value)
        project.refresh_from_db()
        assert ProjectHistory.objects.filter(project=project).count() == before


@pytest.mark.parametrize("name", ["finish", "rectify", "accept", "close"])
def test_wrong_state_is_refused(approved, leader, reviewer, name):
    actor = reviewer if name == "finish" else leader
    with pytest.raises(WorkflowError) as err:
        apply_transition(approved, name, actor=actor, opinion="x", conclusion="pass")
    assert "不能执行" in str(err.value)
    approved.refresh_from_db()
    assert approved.state == State.APPROVED


def test_finish_needs_the_summary_report(in_progress, reviewer):
    with pytest.raises(WorkflowError) as err:
        apply_transition(in_progress, "finish", actor=reviewer, opinion="同意")
    assert "总结报告" in str(err.value)
    in_progress.refresh_from_db()
    assert in_progress.state == State.IN_PROGRESS


def test_leader_who_is_reviewer_cannot_finish_own_project(in_progress, reviewer, applicant):
    from projects.models import Project

    Project.objects.filter(pk=in_progress.pk).update(leader=reviewer)
    in_progress.refresh_from_db()
    with pytest.raises(WorkflowError):
        apply_transition(in_progress, "finish", actor=reviewer, opinion="同意")


def test_fail_goes_back_with_rectify_and_signs_a_review(in_acceptance, leader):
    with pytest.raises(WorkflowError) as err:
        apply_transition(in_acceptance, "accept", actor=leader, opinion="不合格", conclusion="fail")
    assert "整改" in str(err.value)
    project = apply_transition(in_acceptance, "rectify", actor=leader, opinion="补充照片")
    assert project.state == State.IN_PROGRESS
    review = Review.objects.get(project=project, kind="acceptance")
    assert review.conclusion == "fail" and review.reviewer == leader


def test_accept_records_conclusion(in_acceptance, leader):
    apply_transition(in_acceptance, "accept", actor=leader, opinion="很好", conclusion="excellent")
    review = Review.objects.get(project=in_acceptance, kind="acceptance")
    assert review.conclusion == "excellent" and review.opinion == "很好"


def test_opinion_required(in_acceptance, leader):
    with pytest.raises(WorkflowError) as err:
        apply_transition(in_acceptance, "rectify", actor=leader, opinion="  ")
    assert "整改意见" in str(err.value)


def test_close_with_money_must_settle_first(accepted, leader):
    with pytest.raises(WorkflowError) as err:
        apply_transition(accepted, "close", actor=leader, opinion="归档")
    assert "结算" in str(err.value)
    accepted.refresh_from_db()
    assert accepted.state == State.ACCEPTED


def test_close_grade4_directly_and_commend(grade4_accepted, leader):
    project = apply_transition(
        grade4_accepted, "close", actor=leader, opinion="归档", is_commended=True
    )
    assert project.state == State.CLOSED and project.is_commended and project.closed_at
    close = ProjectHistory.objects.filter(project=project, transition="close").last()
    assert close.data["is_commended"] is True


@pytest.mark.parametrize("fixture", ["approved", "in_progress", "in_acceptance"])
def test_terminate_releases_the_pool(request, fixture, leader, policy):
    project = request.getfixturevalue(fixture)
    assert policy.remaining() == Decimal("97000.00")
    project = apply_transition(project, "terminate", actor=leader, opinion="无法继续")
    assert project.state == State.TERMINATED
    assert project.committed_amount == 0
    assert policy.remaining() == Decimal("100000.00")


def test_terminate_refused_after_acceptance(accepted, leader):
    with pytest.raises(WorkflowError):
        apply_transition(accepted, "terminate", actor=leader, opinion="x")


def test_doubled_request_is_refused(approved, applicant):
    apply_transition(approved, "start", actor=applicant, expected_state=State.APPROVED)
    with pytest.raises(WorkflowError) as err:
        apply_transition(approved, "start", actor=applicant, expected_state=State.APPROVED)
    assert "过期" in str(err.value)
    assert ProjectHistory.objects.filter(project=approved, transition="start").count() == 1
