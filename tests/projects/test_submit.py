"""submit and withdraw (DESIGN.md §3; 三(二)1-2): guards, deadline, nothing changed on refusal."""

import datetime

import pytest
from django.utils import timezone

from projects.models import Project, ProjectHistory, State
from projects.services import WorkflowError, apply_transition

pytestmark = pytest.mark.django_db


def _refused(project, actor, expected: str):
    with pytest.raises(WorkflowError) as err:
        apply_transition(project, "submit", actor=actor)
    assert expected in str(err.value)
    project.refresh_from_db()
    assert project.state == State.DRAFT
    assert project.submitted_at is None
    assert not ProjectHistory.objects.filter(project=project).exists()


def test_submit_sets_one_week_deadline_and_requested_amount(draft, applicant, settings):
    project = apply_transition(draft, "submit", actor=applicant)
    assert project.state == State.ORG_REVIEW
    # 三(二)2: 项目部在接到项目申请报告一周内须完成初审.
    assert project.first_review_deadline == timezone.localdate() + datetime.timedelta(days=7)
    assert str(project.requested_amount) == "3000.00"
    row = ProjectHistory.objects.get(project=project)
    assert row.data["first_review_deadline"] == project.first_review_deadline.isoformat()
    assert row.actor_name == applicant.display_name


def test_org_reviewer_may_submit_for_the_leader(draft, reviewer):
    assert apply_transition(draft, "submit", actor=reviewer).state == State.ORG_REVIEW


@pytest.mark.parametrize("section", ["leader_profile", "purpose", "content", "plan"])
def test_missing_section_is_refused(draft, applicant, section):
    Project.objects.filter(pk=draft.pk).update(**{section: "  "})
    _refused(draft, applicant, "申请书各部分")


def test_missing_expected_outcome_is_refused(draft, applicant):
    Project.objects.filter(pk=draft.pk).update(expected_outcome="")
    _refused(draft, applicant, "预期目标")


def test_missing_dates_are_refused(draft, applicant):
    Project.objects.filter(pk=draft.pk).update(start_date=None)
    _refused(draft, applicant, "起止日期")


def test_no_budget_line_is_refused_unless_grade_4(draft, applicant):
    draft.budget_lines.all().delete()
    _refused(draft, applicant, "至少需要一条预算明细")
    Project.objects.filter(pk=draft.pk).update(proposed_grade=4)
    assert apply_transition(draft, "submit", actor=applicant).state == State.ORG_REVIEW


def test_self_planned_without_allowed_use_is_refused(draft, applicant):
    Project.objects.filter(pk=draft.pk).update(category="self_planned", allowed_use="")
    _refused(draft, applicant, "党费使用范围")


def test_resubmit_after_return(draft, applicant, reviewer, advance):
    project = advance(
        draft,
        ("submit", applicant, {}),
        ("org_return", reviewer, {"opinion": "请补充活动计划"}),
    )
    assert project.state == State.RETURNED
    project = apply_transition(project, "submit", actor=applicant)
    assert project.state == State.ORG_REVIEW


@pytest.mark.parametrize("source", ["draft", "org_review", "returned"])
def test_leader_withdraws(source, draft, applicant, reviewer, advance):
    project = draft
    if source != "draft":
        project = advance(project, ("submit", applicant, {}))
    if source == "returned":
        project = advance(project, ("org_return", reviewer, {"opinion": "改"}))
    project = apply_transition(project, "withdraw", actor=applicant, opinion="改期")
    assert project.state == State.WITHDRAWN


def test_submit_twice_is_refused_the_second_time(draft, applicant):
    apply_transition(draft, "submit", actor=applicant, expected_state=State.DRAFT)
    with pytest.raises(WorkflowError) as err:
        apply_transition(draft, "submit", actor=applicant, expected_state=State.DRAFT)
    assert "已过期" in str(err.value)
    assert ProjectHistory.objects.filter(project=draft).count() == 1


def test_end_before_start_is_refused_by_the_database(draft, applicant):
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        Project.objects.filter(pk=draft.pk).update(
            end_date=draft.start_date - datetime.timedelta(days=1)
        )
