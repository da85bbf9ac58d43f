"""The project's admin: transition forms at the contract URL, the django-fsm admin holes
closed, read-only by state, the add form, dashboards, and constant query counts."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from projects.models import BudgetLine, Project, ProjectHistory, Review, State
from projects.services import apply_transition, events
from projects.services import transitions as transitions_module
from tests.factories import BudgetLineFactory, ProjectFactory
from tests.projects.conftest import CHECKLIST_YES

pytestmark = pytest.mark.django_db

YES_POST = {name: "yes" for name in CHECKLIST_YES}


def url(project, name):
    return f"/admin/projects/project/{project.pk}/transition/{name}/"


def change_url(project):
    return f"/admin/projects/project/{project.pk}/change/"


@pytest.fixture
def submitted(draft, applicant):
    return apply_transition(draft, "submit", actor=applicant)


@pytest.fixture
def reviewed(submitted, reviewer):
    return apply_transition(
        submitted, "org_approve", actor=reviewer, opinion="同意", **CHECKLIST_YES
    )


# --- transition forms ----------------------------------------------------------------------


def test_change_page_offers_the_users_transitions(client, draft, applicant):
    client.force_login(applicant)
    body = client.get(change_url(draft)).content.decode()
    assert url(draft, "submit") in body and url(draft, "withdraw") in body
    assert url(draft, "approve") not in body


def test_submit_through_its_form(client, draft, applicant):
    client.force_login(applicant)
    assert client.get(url(draft, "submit")).status_code == 200
    response = client.post(url(draft, "submit"), {"expected_state": "draft", "opinion": ""})
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.state == State.ORG_REVIEW


def test_org_approve_form_needs_checklist_and_opinion(client, submitted, reviewer):
    client.force_login(reviewer)
    response = client.post(url(submitted, "org_approve"), {"expected_state": "org_review"})
    assert response.status_code == 200
    assert "请对这一项作出判断" in response.content.decode()
    response = client.post(
        url(submitted, "org_approve"),
        {"expected_state": "org_review", "opinion": "同意上报", **YES_POST},
    )
    assert response.status_code == 302
    submitted.refresh_from_db()
    assert submitted.state == State.LEADERSHIP_REVIEW


def test_approve_form_over_pool_reshown_nothing_changed(client, reviewed, leader, policy):
    policy.pool_total = Decimal("1000.00")
    policy.save()
    client.force_login(leader)
    page = client.get(url(reviewed, "approve")).content.decode()
    assert "年度经费剩余" in page and "¥1,000.00" in page
    data = {"expected_state": "leadership_review", "opinion": "同意", "grade": "3"}
    response = client.post(
        url(reviewed, "approve"), {**data, **YES_POST, "approved_amount": "3000"}
    )
    assert response.status_code == 200
    assert "剩余额度" in response.content.decode()
    reviewed.refresh_from_db()
    assert reviewed.state == State.LEADERSHIP_REVIEW and reviewed.approved_amount is None


@pytest.mark.parametrize("amount", ["abc", "1.234", "-3", ""])
def test_approve_form_bad_amount(client, reviewed, leader, amount):
    client.force_login(leader)
    data = {"expected_state": "leadership_review", "opinion": "同意", "grade": "3"}
    response = client.post(
        url(reviewed, "approve"), {**data, **YES_POST, "approved_amount": amount}
    )
    assert response.status_code == 200
    reviewed.refresh_from_db()
    assert reviewed.state == State.LEADERSHIP_REVIEW


def test_unknown_transition_is_404(client, draft, applicant):
    client.force_login(applicant)
    assert client.get(url(draft, "explode")).status_code == 404
    assert client.get(url(draft, "save")).status_code == 404


def test_other_organisations_project_is_404(client, submitted, outsider):
    client.force_login(outsider)
    assert client.get(url(submitted, "org_approve")).status_code == 404
    assert client.post(url(submitted, "org_approve"), {"opinion": "x"}).status_code == 404
    assert client.get(change_url(submitted)).status_code in (302, 404)
    submitted.refresh_from_db()
    assert submitted.state == State.ORG_REVIEW


def test_wrong_role_is_refused_with_message(client, submitted, applicant):
    client.force_login(applicant)
    response = client.post(
        url(submitted, "org_approve"),
        {"expected_state": "org_review", "opinion": "自己批准", **YES_POST},
    )
    assert response.status_code == 200
    assert "您无权" in response.content.decode()
    submitted.refresh_from_db()
    assert submitted.state == State.ORG_REVIEW
    assert not Review.objects.exists()


def test_auditor_cannot_transition(client, submitted, auditor):
    client.force_login(auditor)
    response = client.post(
        url(submitted, "withdraw"), {"expected_state": "org_review", "opinion": "x"}
    )
    assert response.status_code in (200, 403)
    submitted.refresh_from_db()
    assert submitted.state == State.ORG_REVIEW


def test_double_clicked_form_applies_once(client, submitted, reviewer):
    client.force_login(reviewer)
    data = {"expected_state": "org_review", "opinion": "请修改", **YES_POST}
    assert client.post(url(submitted, "org_return"), data).status_code == 302
    response = client.post(url(submitted, "org_return"), data)
    assert response.status_code == 200
    assert "状态" in response.content.decode()
    assert ProjectHistory.objects.filter(project=submitted, transition="org_return").count() == 1


def test_stale_form_is_refused(client, submitted, reviewer, applicant):
    client.force_login(reviewer)
    # The leader resubmits after a return meanwhile: same state name, but the form the
    # reviewer holds says "draft" - what they saw - and is refused.
    response = client.post(
        url(submitted, "org_approve"),
        {"expected_state": "draft", "opinion": "同意", **YES_POST},
    )
    assert response.status_code == 200
    assert "已过期" in response.content.decode()
    submitted.refresh_from_db()
    assert submitted.state == State.ORG_REVIEW


# --- the holes of django-fsm-2's FSMAdminMixin stay closed (regression) -----------------


@pytest.mark.parametrize("user_fixture", ["applicant", "reviewer", "leader"])
def test_fsm_transition_to_post_on_change_view_changes_nothing(
    client, reviewed, request, user_fixture
):
    # FSMAdminMixin would apply `_fsm_transition_to` without checking the user's
    # transition permission; here no change-view POST changes the state, for anyone.
    client.force_login(request.getfixturevalue(user_fixture))
    client.post(change_url(reviewed), {"_fsm_transition_to": "approve", "opinion": "x"})
    client.post(change_url(reviewed), {"_fsm_transition_to": "reject"})
    reviewed.refresh_from_db()
    assert reviewed.state == State.LEADERSHIP_REVIEW
    assert not Review.objects.filter(project=reviewed, kind="leadership").exists()


def test_failure_inside_a_transition_rolls_everything_back(client, reviewed, leader, monkeypatch):
    # FSMAdminMixin swallows errors without rolling back; here a failure after the state,
    # review and history were written leaves none of them behind.
    from django.core.exceptions import ValidationError

    real_record = events.record
    before = ProjectHistory.objects.filter(project=reviewed).count()

    def explode(**kwargs):
        real_record(**kwargs)  # the event is written, then the step fails after it
        raise ValidationError("模拟的附带记录写入失败。")

    monkeypatch.setattr(transitions_module.events, "record", explode)
    client.force_login(leader)
    data = {"expected_state": "leadership_review", "opinion": "同意", "grade": "3"}
    response = client.post(
        url(reviewed, "approve"), {**data, **YES_POST, "approved_amount": "3000"}
    )
    assert response.status_code == 200
    assert "模拟的附带记录写入失败" in response.content.decode()
    reviewed.refresh_from_db()
    assert reviewed.state == State.LEADERSHIP_REVIEW
    assert reviewed.approved_amount is None and reviewed.committed_amount == 0
    assert not Review.objects.filter(project=reviewed, kind="leadership").exists()
    assert ProjectHistory.objects.filter(project=reviewed).count() == before


# --- the application form -----------------------------------------------------------------

ADD_DATA = {
    "title": "新的党员学习项目",
    "category": "training",
    "allowed_use": "",
    "origin": "self_planned",
    "term": "short",
    "start_date": "2026-03-01",
    "end_date": "2026-04-30",
    "participants": "30",
    "proposed_grade": "3",
    "leader_profile": "简介",
    "purpose": "目的",
    "content": "内容",
    "plan": "计划",
    "expected_outcome": "目标",
    "budget_lines-TOTAL_FORMS": "2",
    "budget_lines-INITIAL_FORMS": "0",
    "budget_lines-MIN_NUM_FORMS": "0",
    "budget_lines-MAX_NUM_FORMS": "1000",
    "budget_lines-0-item": "materials",
    "budget_lines-0-description": "学习资料",
    "budget_lines-0-quantity": "20",
    "budget_lines-0-unit_price": "15.50",
    "budget_lines-1-item": "venue",
    "budget_lines-1-description": "场地",
    "budget_lines-1-quantity": "1",
    "budget_lines-1-unit_price": "500",
}


def test_applicant_adds_application_with_budget_lines(client, applicant, org_a, policy):
    client.force_login(applicant)
    assert client.get("/admin/projects/project/add/").status_code == 200
    response = client.post("/admin/projects/project/add/", ADD_DATA)
    assert response.status_code == 302, response.content.decode()[:3000]
    project = Project.objects.get(title="新的党员学习项目")
    assert project.code == f"{timezone.localdate().year}-0001"
    assert project.leader == applicant and project.organization == org_a
    assert project.state == State.DRAFT
    assert project.requested_amount == Decimal("810.00")
    assert sorted(project.budget_lines.values_list("amount", flat=True)) == [
        Decimal("310.00"),
        Decimal("500.00"),
    ]


@pytest.mark.parametrize(
    "change, message",
    [
        ({"end_date": "2026-02-01"}, "结束日期不得早于开始日期"),
        ({"budget_lines-0-unit_price": "-1"}, ""),
        ({"budget_lines-0-unit_price": "abc"}, "单价须为数字金额"),
        ({"budget_lines-0-unit_price": "1.234"}, "两位小数"),
        ({"category": "self_planned"}, "党费使用范围"),
    ],
)
def test_bad_application_input_creates_nothing(client, applicant, policy, change, message):
    client.force_login(applicant)
    response = client.post("/admin/projects/project/add/", {**ADD_DATA, **change})
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Project.objects.exists() and not BudgetLine.objects.exists()


def test_application_read_only_after_submission(client, submitted, applicant):
    client.force_login(applicant)
    body = client.get(change_url(submitted)).content.decode()
    assert 'name="title"' not in body
    assert 'name="budget_lines-0-quantity"' not in body
    client.post(change_url(submitted), {"title": "偷偷改名", "budget_lines-TOTAL_FORMS": "0"})
    submitted.refresh_from_db()
    assert submitted.title != "偷偷改名"


def test_application_editable_in_draft(client, draft, applicant):
    client.force_login(applicant)
    body = client.get(change_url(draft)).content.decode()
    assert 'name="title"' in body and 'name="budget_lines-0-quantity"' in body


def test_closed_project_read_only_for_superuser(client, approved, admin_user):
    Project.objects.filter(pk=approved.pk).update(state=State.CLOSED)
    client.force_login(admin_user)
    body = client.get(change_url(approved)).content.decode()
    assert 'name="title"' not in body and 'name="_save"' not in body


# --- changelist, dashboard, query counts --------------------------------------------------


def test_changelist_marks_and_filters_overdue(client, submitted, draft, leader):
    Project.objects.filter(pk=submitted.pk).update(
        first_review_deadline=timezone.localdate() - datetime.timedelta(days=2)
    )
    other = ProjectFactory(organization=submitted.organization, title="未逾期项目")
    client.force_login(leader)
    body = client.get("/admin/projects/project/").content.decode()
    assert "已逾期" in body
    body = client.get("/admin/projects/project/?overdue=yes").content.decode()
    assert submitted.title in body and other.title not in body


def test_changelist_search_by_leader(client, draft, leader, applicant):
    client.force_login(leader)
    body = client.get(f"/admin/projects/project/?q={applicant.first_name}").content.decode()
    assert draft.title in body


def test_dashboards(client, submitted, reviewer, leader, applicant, draft):
    Project.objects.filter(pk=submitted.pk).update(
        first_review_deadline=timezone.localdate() - datetime.timedelta(days=1)
    )
    client.force_login(reviewer)
    body = client.get("/admin/").content.decode()
    assert "待我初审的项目" in body and submitted.title in body and "初审已逾期" in body
    client.force_login(leader)
    body = client.get("/admin/").content.decode()
    assert "年度经费总额" in body and "¥100,000.00" in body and "初审已逾期" in body


def _many_projects(org, leader, count):
    year = timezone.localdate().year
    Project.objects.bulk_create(
        [
            Project(
                code=f"{year}-9{n:03d}",
                year=year,
                title=f"批量项目{n}",
                category="training",
                organization=org,
                leader=leader,
                proposed_grade=3,
                state=State.ORG_REVIEW if n % 2 else State.DRAFT,
                first_review_deadline=timezone.localdate() - datetime.timedelta(days=n % 3),
            )
            for n in range(count)
        ]
    )


@pytest.mark.parametrize("count", [5, 500])
def test_changelist_queries_constant(
    client, leader, applicant, org_a, count, django_assert_max_num_queries
):
    _many_projects(org_a, applicant, count)
    client.force_login(leader)
    with django_assert_max_num_queries(11):
        assert client.get("/admin/projects/project/").status_code == 200


@pytest.mark.parametrize("count", [5, 500])
def test_changelist_queries_constant_for_scoped_user(
    client, reviewer, applicant, org_a, count, django_assert_max_num_queries
):
    _many_projects(org_a, applicant, count)
    client.force_login(reviewer)
    with django_assert_max_num_queries(11):
        assert (
            client.get("/admin/projects/project/?overdue=yes&state=org_review").status_code == 200
        )


@pytest.mark.parametrize("lines", [3, 60])
def test_change_page_queries_constant(
    client, approved, leader, lines, django_assert_max_num_queries
):
    BudgetLineFactory.create_batch(lines, project=approved)
    for _ in range(lines):
        events.record(project=approved, actor=leader, action="note")
    client.force_login(leader)
    with django_assert_max_num_queries(18):
        assert client.get(change_url(approved)).status_code == 200


@pytest.mark.parametrize("lines", [3, 60])
def test_draft_change_page_queries_constant(
    client, draft, applicant, lines, django_assert_max_num_queries
):
    BudgetLineFactory.create_batch(lines, project=draft)
    client.force_login(applicant)
    with django_assert_max_num_queries(13):
        assert client.get(change_url(draft)).status_code == 200


@pytest.mark.parametrize("count", [5, 500])
@pytest.mark.parametrize("user_fixture", ["leader", "reviewer", "applicant"])
def test_dashboard_queries_constant(
    client, request, applicant, org_a, policy, count, user_fixture, django_assert_max_num_queries
):
    _many_projects(org_a, applicant, count)
    client.force_login(request.getfixturevalue(user_fixture))
    with django_assert_max_num_queries(16):
        assert client.get("/admin/").status_code == 200


def test_org_reviewer_names_a_leader_of_their_own_org_only(
    client, reviewer, applicant, outsider_applicant, policy
):
    client.force_login(reviewer)
    page = client.get("/admin/projects/project/add/").content.decode()
    assert 'name="leader"' in page and 'name="organization"' not in page
    response = client.post(
        "/admin/projects/project/add/", {**ADD_DATA, "leader": str(outsider_applicant.pk)}
    )
    assert response.status_code == 200 and not Project.objects.exists()
    response = client.post(
        "/admin/projects/project/add/", {**ADD_DATA, "leader": str(applicant.pk)}
    )
    assert response.status_code == 302
    project = Project.objects.get()
    assert project.leader == applicant and project.organization == reviewer.organization


def test_leadership_and_auditor_cannot_add(client, leader, auditor):
    for user in (leader, auditor):
        client.force_login(user)
        assert client.get("/admin/projects/project/add/").status_code == 403


def test_codes_are_allocated_in_sequence(client, applicant, policy):
    client.force_login(applicant)
    for n in range(2):
        client.post("/admin/projects/project/add/", {**ADD_DATA, "title": f"项目{n}"})
    year = timezone.localdate().year
    assert sorted(Project.objects.values_list("code", flat=True)) == [
        f"{year}-0001",
        f"{year}-0002",
    ]


def test_prohibited_budget_lines_flagged_to_reviewers(client, reviewed, leader):
    from projects.models import ProhibitedItem

    ProhibitedItem.objects.create(keyword="宴请")
    BudgetLineFactory(project=reviewed, description="结业宴请")
    client.force_login(leader)
    for page in (change_url(reviewed), url(reviewed, "approve")):
        body = client.get(page).content.decode()
        assert "禁止列支事项" in body and "结业宴请" in body


def test_project_page_reads_its_budget_lines_once(client, reviewed, leader):
    """The prohibited-item check uses the rows the budget inline read (issue 15)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from projects.models import ProhibitedItem

    ProhibitedItem.objects.create(keyword="宴请")
    BudgetLineFactory(project=reviewed, description="结业宴请")
    client.force_login(leader)
    with CaptureQueriesContext(connection) as queries:
        body = client.get(change_url(reviewed)).content.decode()
    assert "禁止列支事项" in body and "结业宴请" in body
    table = '"projects_budgetline"."id"'
    assert sum(1 for q in queries if q["sql"].startswith("SELECT " + table)) == 1


def test_reviewer_dashboard_lists_overdue_first(client, org_a, applicant, reviewer, policy):
    today = timezone.localdate()
    fresh = ProjectFactory(organization=org_a, leader=applicant, title="按期项目")
    late = ProjectFactory(organization=org_a, leader=applicant, title="逾期项目")
    BudgetLineFactory(project=fresh)
    BudgetLineFactory(project=late)
    for project in (fresh, late):
        apply_transition(project, "submit", actor=applicant)
    Project.objects.filter(pk=late.pk).update(first_review_deadline=today - datetime.timedelta(1))
    client.force_login(reviewer)
    body = client.get("/admin/").content.decode()
    assert body.index("逾期项目") < body.index("按期项目")
    assert 'class="overdue"' in body


def test_records_of_a_running_project_appear_only_once_it_is_approved(
    client, approved, applicant, org_a, reviewer
):
    draft = ProjectFactory(organization=org_a, leader=applicant)
    client.force_login(reviewer)
    draft_page = client.get(f"/admin/projects/project/{draft.pk}/change/").content.decode()
    approved_page = client.get(f"/admin/projects/project/{approved.pk}/change/").content.decode()
    # Documents (application scans) belong to the application; invoices and reports do not.
    assert 'id="documents-group"' in draft_page
    assert 'id="invoices-group"' not in draft_page
    assert 'id="progress_reports-group"' not in draft_page
    assert 'id="invoices-group"' in approved_page
    assert 'id="progress_reports-group"' in approved_page
