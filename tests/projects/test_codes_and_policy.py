"""Issue 10, holes 4 and 6: project codes under load; the year's pool has a guard."""

from decimal import Decimal

import pytest
from django.core import mail

from projects.models import FundingPolicy, Project, ProjectHistory
from projects.services import WorkflowError, apply_transition, events, project_create
from projects.services.policy import policy_save
from tests.projects.test_money_concurrency import race

MINIMAL = {"title": "并发新建", "category": "training", "proposed_grade": 3}


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_twenty_parallel_creators_all_get_their_own_code(org_a, applicant):
    results = race(
        lambda i: project_create(actor=applicant, organization=org_a, leader=applicant, **MINIMAL),
        count=20,
    )
    failures = [r for r in results if not isinstance(r, Project)]
    assert failures == []
    numbers = sorted(r.number for r in results)
    assert numbers == list(range(1, 21))
    assert len({r.code for r in results}) == 20
    assert events.verify().ok


@pytest.mark.django_db
def test_new_codes_follow_an_imported_number(org_a, applicant):
    from projects.services.projects import project_number_reserve

    project_number_reserve(2031, 500)
    project = project_create(
        actor=applicant, organization=org_a, leader=applicant, year=2031, **MINIMAL
    )
    assert project.code == "2031-0501"


# --- the pool's guard (hole 4) ---------------------------------------------------------


@pytest.fixture
def approved_3000(approved):
    return approved  # grade 3, ¥3,000 committed under the policy fixture


@pytest.mark.django_db
def test_pool_cannot_fall_below_what_is_committed(approved_3000, policy, leader):
    with pytest.raises(WorkflowError, match="低于已核定占用的 ¥3,000.00"):
        policy_save(actor=leader, year=policy.year, values={"pool_total": Decimal("2999.99")})
    policy.refresh_from_db()
    assert policy.pool_total == Decimal("100000.00")


@pytest.mark.django_db
def test_cap_cannot_fall_below_an_approval_made_under_it(approved_3000, policy, leader):
    with pytest.raises(WorkflowError, match="三级项目上限"):
        policy_save(actor=leader, year=policy.year, values={"grade3_cap": Decimal("2000")})
    saved = policy_save(actor=leader, year=policy.year, values={"grade3_cap": Decimal("3000")})
    assert saved.grade3_cap == Decimal("3000")
    event = ProjectHistory.objects.order_by("global_seq").last()
    assert event.transition == "policy_update" and event.project is None
    assert event.data["after"]["grade3_cap"] == "3000.00"
    assert event.data["before"]["grade3_cap"] != "3000.00"
    assert events.verify().ok


@pytest.mark.django_db
def test_policy_admin_refuses_and_never_deletes(client, admin_user, approved_3000, policy):
    client.force_login(admin_user)
    url = f"/admin/projects/fundingpolicy/{policy.pk}/change/"
    page = client.get(url).content.decode()
    assert "已核定占用" in page and "¥3,000.00" in page and "剩余可核定" in page
    response = client.post(
        url,
        {
            "pool_total": "100",
            "grade1_cap": "50000",
            "grade2_cap": "20000",
            "grade3_cap": "10000",
            "note": "",
        },
    )
    assert response.status_code == 200 and "低于已核定占用的" in response.content.decode()
    policy.refresh_from_db()
    assert policy.pool_total == Decimal("100000.00")
    assert client.post(f"/admin/projects/fundingpolicy/{policy.pk}/delete/", {"post": "yes"})
    assert FundingPolicy.objects.filter(pk=policy.pk).exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_lowering_the_pool_races_an_approval_and_never_overdraws(
    org_a, applicant, reviewer, leader, policy
):
    from tests.factories import BudgetLineFactory, ProjectFactory
    from tests.projects.conftest import CHECKLIST_YES

    for _round in range(4):
        project = ProjectFactory(organization=org_a, leader=applicant)
        BudgetLineFactory(project=project, quantity=Decimal("1"), unit_price=Decimal("5000"))
        project = apply_transition(project, "submit", actor=applicant)
        project = apply_transition(
            project, "org_approve", actor=reviewer, opinion="同意", **CHECKLIST_YES
        )
        committed = policy.committed()

        def step(i, project=project, committed=committed):
            if i == 0:
                return apply_transition(
                    project,
                    "approve",
                    actor=leader,
                    opinion="同意",
                    grade=3,
                    approved_amount="5000",
                )
            return policy_save(
                actor=leader, year=policy.year, values={"pool_total": committed + 1000}
            )

        race(step, count=2)
        policy.refresh_from_db()
        assert policy.remaining() >= 0
    assert events.verify().ok


@pytest.mark.django_db
def test_mail_shows_beijing_time(approved, settings, leader, applicant):
    # A signature made at 07:30 on 3 March Beijing time is 23:30 on 2 March in UTC.
    import datetime
    from zoneinfo import ZoneInfo

    from projects.notifications import notify_next_actors

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    applicant.email = "a@example.org"
    applicant.save()
    row = ProjectHistory.objects.filter(project=approved).last()
    row.created_at = datetime.datetime(2026, 3, 3, 7, 30, tzinfo=ZoneInfo("Asia/Shanghai"))
    mail.outbox = []
    notify_next_actors(row)
    assert "2026-03-03 07:30" in mail.outbox[0].body
