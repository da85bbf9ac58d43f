from decimal import Decimal

import pytest
from django.core.management import call_command

from projects.models import Project, ProjectHistory, Review, State
from projects.services import WorkflowError, apply_transition

pytestmark = pytest.mark.django_db


def test_application_reaches_approved_with_signed_history(approved, leader, policy):
    assert approved.state == State.APPROVED
    assert approved.grade == 3
    assert approved.approved_amount == Decimal("3000.00")
    assert approved.committed_amount == Decimal("3000.00")
    assert policy.remaining() == Decimal("97000.00")
    history = list(ProjectHistory.objects.filter(project=approved).order_by("seq"))
    assert [h.transition for h in history] == ["submit", "org_approve", "approve"]
    assert history[2].actor == leader and history[2].actor_title == "副书记"
    assert Review.objects.filter(project=approved).count() == 2
    call_command("verify_history")


def test_wrong_role_is_refused_and_nothing_changes(draft, reviewer):
    with pytest.raises(WorkflowError) as err:
        apply_transition(
            draft, "approve", actor=reviewer, opinion="x", grade=3, approved_amount="1"
        )
    assert "不能执行" in str(err.value)
    draft.refresh_from_db()
    assert draft.state == State.DRAFT
    assert not ProjectHistory.objects.exists()


def test_project_codes_continue_past_9999_and_sort_by_number(org_a, applicant):
    from projects.models import ProjectCodeCounter
    from projects.services import project_create

    ProjectCodeCounter.objects.create(year=2031, last_number=9999)
    first = project_create(
        actor=applicant, organization=org_a, leader=applicant, year=2031, **MINIMAL
    )
    second = project_create(
        actor=applicant, organization=org_a, leader=applicant, year=2032, **MINIMAL
    )
    assert (first.code, first.number) == ("2031-10000", 10000)
    assert second.code == "2032-0001"
    older = project_create(
        actor=applicant, organization=org_a, leader=applicant, year=2031, **MINIMAL
    )
    # Lists sort by (year, number): 2031-10001 comes before 2031-10000 in the newest-first
    # order, and both after 2031-9999 would as text.
    codes = list(Project.objects.filter(year=2031).values_list("code", flat=True))
    assert codes == [older.code, first.code] == ["2031-10001", "2031-10000"]


MINIMAL = {"title": "编号测试", "category": "training", "proposed_grade": 3}
