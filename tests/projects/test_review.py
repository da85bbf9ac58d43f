"""The org's first review (三(二)2): signed decision with the six-condition checklist,
separation of duties, the one-week deadline and its overdue marking."""

import datetime

import pytest
from django.core import mail
from django.utils import timezone

from projects.models import Project, Review, State
from projects.models.choices import CHECKLIST
from projects.services import WorkflowError, apply_transition
from tests.projects.conftest import CHECKLIST_YES

pytestmark = pytest.mark.django_db


@pytest.fixture
def submitted(draft, applicant):
    return apply_transition(draft, "submit", actor=applicant)


def test_org_approve_signs_review_with_checklist(submitted, reviewer):
    project = apply_transition(
        submitted, "org_approve", actor=reviewer, opinion="同意上报", **CHECKLIST_YES
    )
    assert project.state == State.LEADERSHIP_REVIEW
    review = Review.objects.get(project=project)
    assert review.kind == "first" and review.decision == "approve"
    assert review.reviewer_name == reviewer.display_name
    assert review.reviewer_organization == str(reviewer.organization)
    assert review.reviewer_title == "支部书记"
    assert review.reviewer_role == "项目部(基层党组织)"
    assert review.signed_at is not None
    assert review.cond_goals is True and review.cond_argument is True


@pytest.mark.parametrize("field", ["cond_budget", "cond_feasible"])
def test_approval_with_a_condition_not_met_is_refused_and_points_to_return(
    field, submitted, reviewer
):
    """二(二): the six conditions are what a project must meet; 不符合 cannot pass."""
    checklist = {**CHECKLIST_YES, field: False}
    with pytest.raises(WorkflowError) as err:
        apply_transition(submitted, "org_approve", actor=reviewer, opinion="同意", **checklist)
    assert "退回修改" in str(err.value)
    label = dict(CHECKLIST)[field]
    assert label in str(err.value)
    submitted.refresh_from_db()
    assert submitted.state == State.ORG_REVIEW
    assert not Review.objects.exists()


def test_return_with_conditions_not_met_is_allowed(submitted, reviewer):
    checklist = {**CHECKLIST_YES, "cond_budget": False}
    project = apply_transition(
        submitted, "org_return", actor=reviewer, opinion="预算不准确", **checklist
    )
    assert project.state == State.RETURNED
    assert Review.objects.get(project=project).cond_budget is False


@pytest.mark.parametrize("name", ["org_approve", "org_return", "org_reject"])
def test_opinion_is_required(name, submitted, reviewer):
    with pytest.raises(WorkflowError) as err:
        apply_transition(submitted, name, actor=reviewer, opinion="  ")
    assert "请填写" in str(err.value)
    submitted.refresh_from_db()
    assert submitted.state == State.ORG_REVIEW
    assert not Review.objects.exists()


def test_org_return_and_reject(submitted, reviewer, applicant, advance):
    project = apply_transition(submitted, "org_return", actor=reviewer, opinion="预算偏高")
    assert project.state == State.RETURNED
    project = advance(project, ("submit", applicant, {}))
    project = apply_transition(project, "org_reject", actor=reviewer, opinion="不属使用范围")
    assert project.state == State.REJECTED


def test_outsider_cannot_review(submitted, outsider):
    with pytest.raises(WorkflowError):
        apply_transition(submitted, "org_approve", actor=outsider, opinion="同意")


def test_overdue_first_review(submitted):
    assert not submitted.is_overdue_first_review
    Project.objects.filter(pk=submitted.pk).update(
        first_review_deadline=timezone.localdate() - datetime.timedelta(days=1)
    )
    submitted.refresh_from_db()
    assert submitted.is_overdue_first_review
    assert list(Project.objects.overdue_first_review()) == [submitted]


def test_submission_mails_the_org_reviewers(
    draft, applicant, reviewer, outsider, leader, mailoutbox, django_capture_on_commit_callbacks
):
    for user in (reviewer, outsider, leader, applicant):
        user.email = f"{user.username}@example.org"
        user.save()
    with django_capture_on_commit_callbacks(execute=True):
        apply_transition(draft, "submit", actor=applicant)
    # Only the org reviewer of the project's own organisation acts next.
    assert [m.to for m in mailoutbox] == [["bob@example.org"]]
    assert draft.code in mailoutbox[0].subject


def test_first_review_mails_leadership_and_return_mails_leader(
    submitted, applicant, reviewer, leader, django_capture_on_commit_callbacks
):
    for user in (reviewer, leader, applicant):
        user.email = f"{user.username}@example.org"
        user.save()
    with django_capture_on_commit_callbacks(execute=True):
        apply_transition(submitted, "org_approve", actor=reviewer, opinion="同意")
    assert mail.outbox[-1].to == ["dora@example.org"]
    with django_capture_on_commit_callbacks(execute=True):
        apply_transition(submitted, "leadership_return", actor=leader, opinion="补充")
    assert mail.outbox[-1].to == ["alice@example.org"]
    assert "补充" in mail.outbox[-1].body


def test_failed_mail_never_undoes_the_decision(
    draft, applicant, reviewer, settings, django_capture_on_commit_callbacks
):
    # A broken mail server after the commit: the submission stands, the error is logged.
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", 1
    reviewer.email = "bob@example.org"
    reviewer.save()
    with django_capture_on_commit_callbacks(execute=True):
        apply_transition(draft, "submit", actor=applicant)
    draft.refresh_from_db()
    assert draft.state == State.ORG_REVIEW
