from decimal import Decimal

import pytest

from projects.models.choices import CHECKLIST_FIELDS
from projects.services import apply_transition
from tests.factories import BudgetLineFactory, FundingPolicyFactory, ProjectFactory


@pytest.fixture
def policy(db):
    return FundingPolicyFactory()


@pytest.fixture
def draft(org_a, applicant, policy):
    """A complete draft of organisation A led by the applicant, with ¥3,000 of budget."""
    project = ProjectFactory(organization=org_a, leader=applicant)
    BudgetLineFactory(project=project, quantity=Decimal("3"), unit_price=Decimal("1000.00"))
    return project


@pytest.fixture
def advance():
    """Drive a project through named transitions with the given actors."""

    def run(project, *steps):
        for name, actor, decision in steps:
            project = apply_transition(project, name, actor=actor, **decision)
        return project

    return run


CHECKLIST_YES = dict.fromkeys(CHECKLIST_FIELDS, True)


@pytest.fixture
def approved(draft, applicant, reviewer, leader, advance):
    return advance(
        draft,
        ("submit", applicant, {}),
        ("org_approve", reviewer, {"opinion": "同意上报", **CHECKLIST_YES}),
        ("approve", leader, {"opinion": "同意立项", "grade": 3, "approved_amount": "3000.00"}),
    )
