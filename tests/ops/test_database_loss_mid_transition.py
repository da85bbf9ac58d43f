"""The database connection dies in the middle of a transition (after the project row is
locked and updated, the review and the history row written, before the commit): nothing of it
is kept, the user gets the 503 page, and the same request succeeds when retried.

PostgreSQL only: the backend serving the request is terminated with pg_terminate_backend from
a second connection, as a database restart or failover would do.
"""

import time
from decimal import Decimal

import psycopg
import pytest
from django.core.management import call_command
from django.db import OperationalError, connection

from config.middleware import UNAVAILABLE_MESSAGE
from projects.models import FundingPolicy, Project, ProjectHistory, Review
from projects.services import apply_transition, transitions
from tests.factories import PASSWORD
from tests.projects.conftest import CHECKLIST_YES

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def terminate_own_backend() -> None:
    """Kill the server process behind Django's connection, from outside, and wait for it."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    params = connection.get_connection_params()
    keep = {k: params[k] for k in ("host", "port", "user", "password", "dbname") if params.get(k)}
    with psycopg.connect(**keep, autocommit=True) as killer:
        killer.execute("SELECT pg_terminate_backend(%s)", [pid])
        for _ in range(100):
            alive = killer.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", [pid])
            if alive.fetchone() is None:
                return
            time.sleep(0.05)
    raise AssertionError("后端进程未终止")


@pytest.fixture
def cut_database_once(monkeypatch):
    """Kill the connection the first time `name` has written its state, review and event
    (just after its event is recorded, inside the transaction)."""

    def install(name: str) -> list[bool]:
        fired: list[bool] = []
        real_record = transitions.events.record

        def record_then_cut(**kwargs):
            row = real_record(**kwargs)
            if kwargs.get("action") == name and not fired:
                fired.append(True)
                terminate_own_backend()
            return row

        monkeypatch.setattr(transitions.events, "record", record_then_cut)
        return fired

    return install


def footprint(project):
    return (
        Project.objects.filter(pk=project.pk).values_list("state", "committed_amount").get(),
        Review.objects.filter(project=project).count(),
        ProjectHistory.objects.filter(project=project).count(),
    )


def in_leadership_review(draft, applicant, reviewer, advance):
    return advance(
        draft,
        ("submit", applicant, {}),
        ("org_approve", reviewer, {"opinion": "同意上报", **CHECKLIST_YES}),
    )


def test_a_transition_cut_mid_way_leaves_nothing_and_the_retry_succeeds(
    draft, applicant, reviewer, leader, advance, cut_database_once
):
    project = in_leadership_review(draft, applicant, reviewer, advance)
    before = footprint(project)
    pool_before = FundingPolicy.objects.get(year=project.year).remaining()
    fired = cut_database_once("approve")
    decision = {"opinion": "同意立项", "grade": 3, "approved_amount": "3000.00"}

    with pytest.raises(OperationalError):
        apply_transition(project, "approve", actor=leader, **decision)
    assert fired

    # Nothing half-done: state, pool, signed review and history are as before.
    assert footprint(project) == before
    assert FundingPolicy.objects.get(year=project.year).remaining() == pool_before

    project = apply_transition(project, "approve", actor=leader, **decision)
    assert project.state == "approved"
    assert project.approved_amount == Decimal("3000.00")
    assert footprint(project)[1:] == (before[1] + 1, before[2] + 1)
    call_command("verify_history")


@pytest.mark.urls("tests.ops.urls_faults")
def test_through_http_the_user_sees_the_503_page_and_the_retry_succeeds(
    client, draft, applicant, reviewer, advance, cut_database_once
):
    project = advance(draft, ("submit", applicant, {}))
    before = footprint(project)
    fired = cut_database_once("org_approve")
    assert client.login(username=reviewer.username, password=PASSWORD)
    form = {"opinion": "同意上报", **{name: "on" for name in CHECKLIST_YES}}
    url = f"/test-faults/{project.pk}/org_approve/"

    response = client.post(url, form)
    assert fired
    assert response.status_code == 503
    assert UNAVAILABLE_MESSAGE in response.content.decode()
    assert footprint(project) == before

    # The user presses the button again: a new connection, the transition applies once.
    response = client.post(url, form)
    assert response.status_code == 302
    project.refresh_from_db()
    assert project.state == "leadership_review"
    assert footprint(project)[1:] == (before[1] + 1, before[2] + 1)
    # A doubled request after success is refused, not applied twice.
    assert client.post(url, form).status_code == 409
    call_command("verify_history")
