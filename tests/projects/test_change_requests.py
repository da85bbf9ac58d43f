"""Change requests (三(三)4): submitted → endorsed / turned down by the org → approved /
rejected by leadership; an approved change is applied atomically, within the caps and the
pool exactly as `approve`, and written to the project's history."""

import datetime
from decimal import Decimal

import pytest
from django.core.management import call_command

from accounts.roles import Role
from projects.models import ChangeRequest, Project, ProjectHistory
from projects.services import WorkflowError
from projects.services.change_requests import (
    change_request_approve,
    change_request_endorse,
    change_request_reject,
    change_request_submit,
    change_request_turn_down,
)
from tests.factories import UserFactory
from tests.projects.fixtures_running import *  # noqa: F403

pytestmark = pytest.mark.django_db
Status = ChangeRequest.Status


def submit_budget(project, actor, amount):
    return change_request_submit(
        project=project, actor=actor, kind="budget", reason="参加人数增加", new_amount=amount
    )


def decide(change, reviewer, leader):
    change = change_request_endorse(change=change, actor=reviewer, opinion="同意上报")
    return change_request_approve(change=change, actor=leader, opinion="同意变更")


def test_content_change_applied_and_in_history(in_progress, applicant, reviewer, leader):
    change = change_request_submit(
        project=in_progress,
        actor=applicant,
        kind="content",
        reason="场地变化",
        new_content="改为线上学习",
    )
    assert change.status == Status.SUBMITTED
    change = decide(change, reviewer, leader)
    assert change.status == Status.APPROVED and change.decided_by == leader
    in_progress.refresh_from_db()
    assert in_progress.content == "改为线上学习"
    row = ProjectHistory.objects.filter(project=in_progress).last()
    assert row.transition == "change_request_approve" and row.actor == leader
    assert row.data["after"] == {"status": "approved", "content": "改为线上学习"}
    assert row.data["before"] == {"status": "endorsed", "content": "组织专题学习。"}
    call_command("verify_history")


def test_schedule_and_leader_changes(in_progress, applicant, reviewer, leader, org_a):
    new_end = in_progress.end_date + datetime.timedelta(days=30)
    change = change_request_submit(
        project=in_progress,
        actor=applicant,
        kind="schedule",
        reason="延期",
        new_start_date=in_progress.start_date,
        new_end_date=new_end,
    )
    decide(change, reviewer, leader)
    successor = UserFactory(organization=org_a, roles=[Role.APPLICANT])
    change = change_request_submit(
        project=in_progress, actor=applicant, kind="leader", reason="调动", new_leader=successor
    )
    decide(change, reviewer, leader)
    in_progress.refresh_from_db()
    assert in_progress.end_date == new_end and in_progress.leader == successor


def test_budget_change_within_caps_moves_the_pool(in_progress, applicant, reviewer, leader, policy):
    change = decide(submit_budget(in_progress, applicant, "2500.00"), reviewer, leader)
    in_progress.refresh_from_db()
    assert in_progress.approved_amount == Decimal("2500.00")
    assert in_progress.committed_amount == Decimal("2500.00")
    assert policy.remaining() == Decimal("97500.00")
    assert change.status == Status.APPROVED


@pytest.mark.parametrize(
    "amount,message",
    [("5000.01", "上限"), ("3000.01", "申请金额"), ("-1", "负数")],
)
def test_budget_change_over_cap_is_refused_atomically(
    in_progress, applicant, reviewer, leader, policy, amount, message
):
    change = change_request_endorse(
        change=submit_budget(in_progress, applicant, amount), actor=reviewer, opinion="上报"
    )
    with pytest.raises(WorkflowError) as err:
        change_request_approve(change=change, actor=leader, opinion="同意")
    assert message in str(err.value)
    change.refresh_from_db()
    in_progress.refresh_from_db()
    assert change.status == Status.ENDORSED and change.decided_by is None
    assert in_progress.approved_amount == Decimal("3000.00")
    assert not ProjectHistory.objects.filter(transition="change_request_approve").exists()


def test_budget_change_beyond_pool_is_refused(in_progress, applicant, reviewer, leader, policy):
    policy.pool_total = Decimal("3200.00")
    policy.save()
    Project.objects.filter(pk=in_progress.pk).update(requested_amount=Decimal("4000.00"))
    change = change_request_endorse(
        change=submit_budget(in_progress, applicant, "3500.00"), actor=reviewer, opinion="上报"
    )
    with pytest.raises(WorkflowError) as err:
        change_request_approve(change=change, actor=leader, opinion="同意")
    assert "剩余额度" in str(err.value)


def test_turned_down_and_rejected_change_nothing(in_progress, applicant, reviewer, leader):
    first = submit_budget(in_progress, applicant, "1000")
    first = change_request_turn_down(change=first, actor=reviewer, opinion="无必要")
    assert first.status == Status.TURNED_DOWN and first.org_by == reviewer
    with pytest.raises(WorkflowError):
        change_request_approve(change=first, actor=leader, opinion="同意")
    second = change_request_endorse(
        change=submit_budget(in_progress, applicant, "1000"), actor=reviewer, opinion="上报"
    )
    second = change_request_reject(change=second, actor=leader, opinion="不同意")
    assert second.status == Status.REJECTED
    in_progress.refresh_from_db()
    assert in_progress.approved_amount == Decimal("3000.00")


@pytest.mark.parametrize("who", ["applicant", "outsider", "leader", "auditor"])
def test_only_own_org_reviewer_endorses(request, in_progress, applicant, who):
    change = submit_budget(in_progress, applicant, "1000")
    with pytest.raises(WorkflowError):
        change_request_endorse(change=change, actor=request.getfixturevalue(who), opinion="x")
    change.refresh_from_db()
    assert change.status == Status.SUBMITTED


@pytest.mark.parametrize("who", ["applicant", "reviewer", "outsider", "finance", "auditor"])
def test_only_leadership_decides(request, in_progress, applicant, reviewer, who):
    change = change_request_endorse(
        change=submit_budget(in_progress, applicant, "1000"), actor=reviewer, opinion="上报"
    )
    with pytest.raises(WorkflowError):
        change_request_approve(change=change, actor=request.getfixturevalue(who), opinion="x")


@pytest.mark.parametrize("who", ["reviewer", "outsider", "outsider_applicant", "leader"])
def test_only_the_leader_submits(request, in_progress, who):
    with pytest.raises(WorkflowError):
        submit_budget(in_progress, request.getfixturevalue(who), "1000")
    assert not ChangeRequest.objects.exists()


def test_bad_requests_are_refused(in_progress, applicant, outsider_applicant):
    cases = [
        ({"kind": "content", "new_content": " "}, "活动内容"),
        (
            {
                "kind": "schedule",
                "new_start_date": datetime.date(2026, 5, 2),
                "new_end_date": datetime.date(2026, 5, 1),
            },
            "不得早于",
        ),
        ({"kind": "leader", "new_leader": outsider_applicant}, "本组织"),
        ({"kind": "budget"}, "核定金额"),
        ({"kind": "nonsense"}, "变更类型"),
    ]
    for values, message in cases:
        with pytest.raises(WorkflowError) as err:
            change_request_submit(project=in_progress, actor=applicant, reason="r", **values)
        assert message in str(err.value)
    assert not ChangeRequest.objects.exists()


def test_change_request_on_closed_project_is_refused(closed, applicant):
    with pytest.raises(WorkflowError) as err:
        change_request_submit(
            project=closed, actor=applicant, kind="content", reason="r", new_content="x"
        )
    assert "归档" in str(err.value)


def test_change_request_after_acceptance_is_refused(accepted, applicant):
    with pytest.raises(WorkflowError) as err:
        change_request_submit(
            project=accepted, actor=applicant, kind="content", reason="r", new_content="x"
        )
    assert "已立项或实施中" in str(err.value)


def test_endorsed_change_refused_when_project_has_moved_on(
    in_progress, applicant, reviewer, leader
):
    change = change_request_endorse(
        change=submit_budget(in_progress, applicant, "1000"), actor=reviewer, opinion="上报"
    )
    from projects.services import apply_transition

    apply_transition(in_progress, "terminate", actor=leader, opinion="终止")
    with pytest.raises(WorkflowError):
        change_request_approve(change=change, actor=leader, opinion="同意")
    in_progress.refresh_from_db()
    assert in_progress.approved_amount == Decimal("3000.00")
    assert in_progress.committed_amount == 0


def test_submitted_change_cannot_be_endorsed_after_termination(
    in_progress, applicant, reviewer, leader
):
    from projects.services import apply_transition

    change = submit_budget(in_progress, applicant, "1000")
    apply_transition(in_progress, "terminate", actor=leader, opinion="终止")
    with pytest.raises(WorkflowError) as err:
        change_request_endorse(change=change, actor=reviewer, opinion="上报")
    assert "已终止" in str(err.value)
    change.refresh_from_db()
    assert change.status == Status.SUBMITTED
