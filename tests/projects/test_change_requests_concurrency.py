"""Two budget changes decided at the same moment cannot together overdraw the year's pool
(the FundingPolicy row is locked as in `approve`). Real concurrency: PostgreSQL only."""

import threading
from decimal import Decimal

import pytest
from django.db import connection

from projects.models import ChangeRequest, FundingPolicy
from projects.services import WorkflowError, apply_transition
from projects.services.change_requests import (
    change_request_approve,
    change_request_endorse,
    change_request_submit,
)
from tests.factories import BudgetLineFactory, ProjectFactory
from tests.projects.conftest import CHECKLIST_YES

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def running_project(org, applicant, reviewer, leader):
    project = ProjectFactory(organization=org, leader=applicant)
    BudgetLineFactory(project=project, quantity=Decimal("3"), unit_price=Decimal("1000.00"))
    for name, actor, decision in [
        ("submit", applicant, {}),
        ("org_approve", reviewer, {"opinion": "同意", **CHECKLIST_YES}),
        ("approve", leader, {"opinion": "同意", "grade": 3, "approved_amount": "2000.00"}),
        ("start", applicant, {}),
    ]:
        project = apply_transition(project, name, actor=actor, **decision)
    return project


def test_concurrent_budget_changes_do_not_overdraw(org_a, applicant, reviewer, leader, policy):
    changes = []
    for _ in range(2):
        project = running_project(org_a, applicant, reviewer, leader)
        change = change_request_submit(
            project=project, actor=applicant, kind="budget", reason="增加", new_amount="3000"
        )
        changes.append(change_request_endorse(change=change, actor=reviewer, opinion="上报"))
    # 4,000 committed; room for exactly one more +1,000.
    FundingPolicy.objects.filter(pk=policy.pk).update(pool_total=Decimal("5500.00"))

    barrier = threading.Barrier(2)
    outcomes = []

    def decide(change):
        try:
            barrier.wait()
            change_request_approve(change=change, actor=leader, opinion="同意")
            outcomes.append("ok")
        except WorkflowError as err:
            outcomes.append(str(err))
        finally:
            connection.close()

    threads = [threading.Thread(target=decide, args=(c,)) for c in changes]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert outcomes.count("ok") == 1
    assert any("剩余额度" in outcome for outcome in outcomes)
    policy.refresh_from_db()
    assert policy.remaining() == Decimal("500.00")
    assert policy.committed() == Decimal("5000.00")
    statuses = sorted(ChangeRequest.objects.values_list("status", flat=True))
    assert statuses == ["approved", "endorsed"]
