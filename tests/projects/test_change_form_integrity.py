"""Issue 10, hole 1: the project change form can no longer undo a decision.

Outside draft/returned the page is read-only for everyone (no Save; a POST changes nothing);
where the application may be edited, the save locks the row, re-checks the state and the
permission, writes only the application's own fields and records the edit as an event.
"""

import threading
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client

from projects.models import Project, ProjectHistory, State
from projects.services import apply_transition, events
from tests.projects.conftest import CHECKLIST_YES
from tests.projects.test_project_admin import ADD_DATA

pytestmark = pytest.mark.django_db


def change_url(project):
    return f"/admin/projects/project/{project.pk}/change/"


def form_data(project, **overrides):
    """What the change form posts for a draft with its budget lines unchanged."""
    lines = list(project.budget_lines.order_by("pk"))
    data = {
        **{k: v for k, v in ADD_DATA.items() if not k.startswith("budget_lines")},
        "title": project.title,
        "budget_lines-TOTAL_FORMS": str(len(lines)),
        "budget_lines-INITIAL_FORMS": str(len(lines)),
        "budget_lines-MIN_NUM_FORMS": "0",
        "budget_lines-MAX_NUM_FORMS": "1000",
        "documents-TOTAL_FORMS": "0",
        "documents-INITIAL_FORMS": "0",
    }
    for i, line in enumerate(lines):
        data |= {
            f"budget_lines-{i}-id": str(line.pk),
            f"budget_lines-{i}-project": str(project.pk),
            f"budget_lines-{i}-item": line.item,
            f"budget_lines-{i}-description": line.description,
            f"budget_lines-{i}-quantity": str(line.quantity),
            f"budget_lines-{i}-unit_price": str(line.unit_price),
        }
    return data | overrides


@pytest.fixture
def reviewed(draft, applicant, reviewer, advance):
    return advance(
        draft,
        ("submit", applicant, {}),
        ("org_approve", reviewer, {"opinion": "同意上报", **CHECKLIST_YES}),
    )


@pytest.mark.parametrize("who", ["finance", "leader", "admin_user", "applicant"])
def test_page_is_read_only_outside_editable_states(client, reviewed, who, request):
    client.force_login(request.getfixturevalue(who))
    body = client.get(change_url(reviewed)).content.decode()
    assert 'name="_save"' not in body and 'name="title"' not in body
    response = client.post(change_url(reviewed), form_data(reviewed, title="改过"))
    assert response.status_code == 403
    reviewed.refresh_from_db()
    assert reviewed.title != "改过" and reviewed.state == State.LEADERSHIP_REVIEW


def test_stale_form_after_a_decision_changes_nothing(client, draft, applicant, reviewer):
    # The applicant opens the draft; meanwhile it is submitted and reviewed; the stale
    # form's Save must neither reopen the application nor touch its state or money.
    client.force_login(applicant)
    assert 'name="_save"' in client.get(change_url(draft)).content.decode()
    stale = form_data(draft, title="过期表单里的新名称")
    apply_transition(draft, "submit", actor=applicant)
    history = ProjectHistory.objects.filter(project=draft).count()
    response = client.post(change_url(draft), stale)
    assert response.status_code in (302, 403)
    draft.refresh_from_db()
    assert draft.state == State.ORG_REVIEW and draft.title != "过期表单里的新名称"
    assert ProjectHistory.objects.filter(project=draft).count() == history


def test_save_while_the_state_moves_on_is_refused_under_the_lock(draft, applicant):
    # The admin read the row in draft; the state changed before save_model took the lock.
    from projects.services import WorkflowError, application_update

    stale = Project.objects.get(pk=draft.pk)
    apply_transition(draft, "submit", actor=applicant)
    with pytest.raises(WorkflowError, match="申请书已不能修改"):
        application_update(stale, actor=applicant, values={"title": "改名"})
    draft.refresh_from_db()
    assert draft.title != "改名" and draft.state == State.ORG_REVIEW


def test_save_writes_only_the_application_and_records_it(client, draft, applicant):
    client.force_login(applicant)
    data = form_data(draft, title="新名称", purpose="新的目的")
    data["budget_lines-0-quantity"] = "4"
    response = client.post(change_url(draft), data)
    assert response.status_code == 302 and response.url == change_url(draft)
    draft.refresh_from_db()
    assert draft.title == "新名称" and draft.requested_amount == Decimal("4000.00")
    event = ProjectHistory.objects.filter(project=draft).last()
    assert event.transition == "application_update" and event.actor == applicant
    assert set(event.data["changed"]) >= {"title", "purpose"}
    assert event.data["requested_amount"] == {"before": "0.00", "after": "4000.00"}
    assert events.verify().ok


@pytest.mark.parametrize(
    "overrides, message",
    [
        (
            {
                "budget_lines-0-quantity": "99999999.99",
                "budget_lines-0-unit_price": "999999999999.99",
            },
            "超过系统可记录的最大金额",
        ),
        ({"budget_lines-0-quantity": "abc", "budget_lines-0-unit_price": "12"}, "数量须为数字"),
    ],
)
def test_bad_budget_lines_get_a_message_not_a_500(client, draft, applicant, overrides, message):
    client.force_login(applicant)
    response = client.post(change_url(draft), form_data(draft, **overrides))
    assert response.status_code == 200 and message in response.content.decode()
    draft.refresh_from_db()
    assert draft.budget_lines.get().quantity == Decimal("3")


def test_two_lines_whose_sum_overflows_are_refused(client, draft, applicant):
    client.force_login(applicant)
    data = form_data(draft, **{"budget_lines-0-quantity": "1"})
    data["budget_lines-0-unit_price"] = "999999999999.00"
    data |= {
        "budget_lines-TOTAL_FORMS": "2",
        "budget_lines-1-item": "venue",
        "budget_lines-1-description": "场地",
        "budget_lines-1-quantity": "1",
        "budget_lines-1-unit_price": "999999999999.00",
    }
    response = client.post(change_url(draft), data)
    assert response.status_code == 200
    assert "预算合计超过系统可记录的最大金额" in response.content.decode()
    assert draft.budget_lines.count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_save_racing_an_approval_never_undoes_it(policy, org_a, applicant, reviewer, leader):
    """Real parallel requests on PostgreSQL: a superuser's Save and the approval."""
    from accounts.models import User
    from tests.factories import BudgetLineFactory, ProjectFactory

    admin = User.objects.create_superuser("root2", "root2@example.org", "x")
    for _round in range(6):
        project = ProjectFactory(organization=org_a, leader=applicant)
        BudgetLineFactory(project=project, quantity=Decimal("3"), unit_price=Decimal("1000"))
        project = apply_transition(project, "submit", actor=applicant)
        project = apply_transition(
            project, "org_approve", actor=reviewer, opinion="同意", **CHECKLIST_YES
        )
        _save_and_approve_at_once(project, admin, leader)
        project.refresh_from_db()
        assert project.state == State.APPROVED and project.approved_amount == Decimal("3000.00")
        assert project.title != "并发保存"
    assert events.verify().ok


def _save_and_approve_at_once(project, admin, leader) -> None:
    barrier = threading.Barrier(2)
    posted = form_data(project, title="并发保存")

    def save():
        client = Client()
        client.force_login(admin)
        barrier.wait()
        client.post(change_url(project), posted)
        connection.close()

    def approve():
        barrier.wait()
        apply_transition(
            project, "approve", actor=leader, opinion="同意", grade=3, approved_amount="3000"
        )
        connection.close()

    threads = [threading.Thread(target=save), threading.Thread(target=approve)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
