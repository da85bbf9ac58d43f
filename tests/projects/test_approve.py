"""Leadership re-review (二(三), 三(二)3): grade and amount within the cap, the request and
the year's pool; grade 4 gets no money; two approvals at once cannot overdraw the pool."""

import threading
from decimal import Decimal

import pytest
from django.db import connection

from projects.forms import ApproveForm
from projects.models import FundingPolicy, ProjectHistory, Review, State
from projects.services import WorkflowError, apply_transition
from tests.factories import BudgetLineFactory, ProjectFactory
from tests.projects.conftest import CHECKLIST_YES

pytestmark = pytest.mark.django_db


@pytest.fixture
def reviewed(draft, applicant, reviewer, advance):
    return advance(
        draft,
        ("submit", applicant, {}),
        ("org_approve", reviewer, {"opinion": "同意上报", **CHECKLIST_YES}),
    )


def _approve(project, leader, grade, amount):
    return apply_transition(
        project, "approve", actor=leader, opinion="同意立项", grade=grade, approved_amount=amount
    )


def _refused(project, leader, grade, amount, expected):
    with pytest.raises(WorkflowError) as err:
        _approve(project, leader, grade, amount)
    assert expected in str(err.value)
    project.refresh_from_db()
    assert project.state == State.LEADERSHIP_REVIEW
    assert project.approved_amount is None and project.committed_amount == 0
    assert not Review.objects.filter(project=project, kind="leadership").exists()


def test_approve_records_grade_amount_and_commitment(reviewed, leader, policy):
    project = _approve(reviewed, leader, 3, "2500.00")
    assert project.state == State.APPROVED
    assert (project.grade, project.approved_amount) == (3, Decimal("2500.00"))
    assert policy.remaining() == Decimal("97500.00")
    review = Review.objects.get(project=project, kind="leadership")
    assert review.grade == 3 and review.amount == Decimal("2500.00")
    assert review.reviewer_title == "副书记"
    history = ProjectHistory.objects.filter(project=project).last()
    assert history.data["grade"] == 3 and history.data["approved_amount"] == "2500.00"
    assert history.data["snapshot"]["approved_amount"] == "2500.00"
    assert history.data["snapshot"]["state"] == "approved"


def test_over_grade_cap_is_refused(reviewed, leader, policy):
    FundingPolicy.objects.filter(pk=policy.pk).update(grade3_cap=Decimal("2000.00"))
    _refused(reviewed, leader, 3, "2000.01", "上限")


def test_over_requested_is_refused(reviewed, leader):
    _refused(reviewed, leader, 2, "3000.01", "申请金额")


def test_over_pool_is_refused(reviewed, leader, policy):
    FundingPolicy.objects.filter(pk=policy.pk).update(pool_total=Decimal("2999.99"))
    _refused(reviewed, leader, 3, "3000.00", "剩余额度")


def test_grade_4_gets_no_money(reviewed, leader):
    _refused(reviewed, leader, 4, "1.00", "四级")
    assert _approve(reviewed, leader, 4, "0").approved_amount == Decimal("0.00")


def test_negative_is_refused(reviewed, leader):
    _refused(reviewed, leader, 3, "-1", "负数")


def test_no_policy_for_the_year_is_refused(reviewed, leader, policy):
    policy.delete()
    _refused(reviewed, leader, 3, "100", "经费政策")


def test_opinion_required(reviewed, leader):
    with pytest.raises(WorkflowError):
        apply_transition(reviewed, "approve", actor=leader, opinion="", grade=3, approved_amount=1)


def test_leadership_return_and_reject(reviewed, leader, applicant, reviewer, advance):
    project = apply_transition(reviewed, "leadership_return", actor=leader, opinion="请修改")
    assert project.state == State.RETURNED
    project = advance(
        project,
        ("submit", applicant, {}),
        ("org_approve", reviewer, {"opinion": "同意", **CHECKLIST_YES}),
    )
    assert apply_transition(project, "reject", actor=leader, opinion="否").state == State.REJECTED


@pytest.mark.parametrize(
    "amount, message",
    [
        ("abc", "请输入数字金额"),
        ("12.345", "两位小数"),
        ("-5", "负数"),
        ("99999", "超过"),
    ],
)
def test_approve_form_bad_amounts(reviewed, leader, amount, message):
    data = {"expected_state": State.LEADERSHIP_REVIEW, "opinion": "同意", "grade": "3"}
    data.update({name: "yes" for name in CHECKLIST_YES}, approved_amount=amount)
    form = ApproveForm(data, project=reviewed, actor=leader, transition="approve")
    assert not form.is_valid()
    assert message in str(form.errors)


def test_approve_form_shows_caps_and_pool(reviewed, leader):
    rows = dict(ApproveForm(project=reviewed, actor=leader, transition="approve").help_rows())
    assert rows["申请金额"] == "¥3,000.00"
    assert rows["年度经费剩余"] == "¥100,000.00"


def _leadership_review_project(org, leader_user, reviewer, amount):
    project = ProjectFactory(organization=org, leader=leader_user)
    BudgetLineFactory(project=project, quantity=Decimal("1"), unit_price=amount)
    apply_transition(project, "submit", actor=leader_user)
    return apply_transition(project, "org_approve", actor=reviewer, opinion="同意")


def _race(first, second, leader, leader2) -> dict:
    barrier = threading.Barrier(2)
    outcomes = {}

    def approve(project, actor):
        try:
            barrier.wait()
            _approve(project, actor, 3, "3000.00")
            outcomes[project.pk] = "ok"
        except WorkflowError as exc:
            outcomes[project.pk] = str(exc)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=approve, args=(first, leader)),
        threading.Thread(target=approve, args=(second, leader2)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_approvals_at_once_cannot_overdraw_the_pool(
    org_a, applicant, reviewer, leader, leader2, policy
):
    # Each round leaves room for one more ¥3,000 approval (¥5,000 free); two race for it:
    # exactly one may win. Several rounds, so a missing lock cannot pass by luck.
    for round_number in range(4):
        FundingPolicy.objects.filter(pk=policy.pk).update(
            pool_total=Decimal("3000.00") * round_number + Decimal("5000.00")
        )
        first, second = (
            _leadership_review_project(org_a, applicant, reviewer, Decimal("3000.00"))
            for _ in range(2)
        )
        outcomes = _race(first, second, leader, leader2)
        assert list(outcomes.values()).count("ok") == 1, outcomes
        assert any("剩余额度" in value for value in outcomes.values())
        policy.refresh_from_db()
        assert policy.committed() == Decimal("3000.00") * (round_number + 1)
        assert policy.remaining() >= 0


def test_leadership_approval_with_a_condition_not_met_is_refused(reviewed, leader):
    """二(二) holds in the service path too, not only in the form."""
    checklist = {**CHECKLIST_YES, "cond_budget": False}
    with pytest.raises(WorkflowError) as err:
        apply_transition(
            reviewed,
            "approve",
            actor=leader,
            opinion="同意立项",
            grade=3,
            approved_amount=Decimal("3000.00"),
            **checklist,
        )
    assert "严谨准确的财务预算" in str(err.value) and "退回修改" in str(err.value)
    reviewed.refresh_from_db()
    assert reviewed.state == State.LEADERSHIP_REVIEW
    assert reviewed.approved_amount is None and reviewed.committed_amount == 0
    assert not Review.objects.filter(kind="leadership").exists()
