"""demo_data: the running area's projects, driven through the services, idempotent."""

import pytest
from django.core.management import call_command

from projects.models import ChangeRequest, Project, ProjectHistory, State
from projects.selectors.obligations import monthly_status
from tests.projects.fixtures_running import *  # noqa: F403

pytestmark = pytest.mark.django_db


def test_demo_running_projects(media, capsys):
    call_command("demo_data")
    states = set(Project.objects.values_list("state", flat=True))
    assert {
        State.IN_PROGRESS,
        State.ACCEPTANCE,
        State.ACCEPTED,
        State.CLOSED,
        State.TERMINATED,
    } <= states
    running = Project.objects.get(state=State.IN_PROGRESS, title__contains="读书班")
    status = monthly_status(running)
    assert len(status.overdue) == 1 and len(status.submitted) >= 3
    assert running.problem_reports.count() == 2
    assert set(running.change_requests.values_list("status", flat=True)) == {
        ChangeRequest.Status.APPROVED,
        ChangeRequest.Status.ENDORSED,
        ChangeRequest.Status.SUBMITTED,
    }
    closed = Project.objects.get(state=State.CLOSED)
    assert closed.is_commended and closed.approved_amount == 0 and closed.grade == 4
    assert Project.objects.get(state=State.ACCEPTANCE).summary_report
    counts = (Project.objects.count(), ProjectHistory.objects.count())
    call_command("demo_data")
    assert (Project.objects.count(), ProjectHistory.objects.count()) == counts
    call_command("verify_history")
