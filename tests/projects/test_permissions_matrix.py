"""The full role × transition matrix (DESIGN.md §1, §3, §5): every transition, every role,
own and other organisation. The application transitions are applied for real; the later
ones are checked through the same predicate the service uses."""

from decimal import Decimal

import pytest

from accounts.roles import Role
from projects.models import Project, ProjectHistory, State
from projects.services import WorkflowError, apply_transition, available_transitions
from tests.factories import UserFactory
from tests.projects.conftest import CHECKLIST_YES

pytestmark = pytest.mark.django_db

ROLES = [
    "leader",  # the project's own leader (applicant of org A)
    "applicant_same_org",  # another applicant of org A
    "org_reviewer",
    "outsider_reviewer",
    "outsider_applicant",
    "leadership",
    "finance",
    "auditor",
]

# transition -> (source state, roles allowed)
MATRIX = {
    "submit": (State.DRAFT, {"leader", "org_reviewer"}),
    "withdraw": (State.ORG_REVIEW, {"leader"}),
    "org_approve": (State.ORG_REVIEW, {"org_reviewer"}),
    "org_return": (State.ORG_REVIEW, {"org_reviewer"}),
    "org_reject": (State.ORG_REVIEW, {"org_reviewer"}),
    "approve": (State.LEADERSHIP_REVIEW, {"leadership"}),
    "leadership_return": (State.LEADERSHIP_REVIEW, {"leadership"}),
    "reject": (State.LEADERSHIP_REVIEW, {"leadership"}),
    "start": (State.APPROVED, {"leader", "org_reviewer"}),
    "finish": (State.IN_PROGRESS, {"org_reviewer"}),
    "rectify": (State.ACCEPTANCE, {"leadership"}),
    "accept": (State.ACCEPTANCE, {"leadership"}),
    "request_settlement": (State.ACCEPTED, {"org_reviewer"}),
    "return_settlement": (State.SETTLEMENT_REVIEW, {"leadership"}),
    "approve_payment": (State.SETTLEMENT_REVIEW, {"leadership"}),
    "settle": (State.PAYMENT, {"finance"}),
    "close": (State.SETTLED, {"leadership"}),
    "terminate": (State.IN_PROGRESS, {"leadership"}),
}
APPLIED = ["submit", "withdraw", "org_approve", "org_return", "org_reject"]
APPLIED += ["approve", "leadership_return", "reject"]

DECISIONS = {
    "submit": {},
    "withdraw": {"opinion": "不再开展"},
    "org_approve": {"opinion": "同意", **CHECKLIST_YES},
    "org_return": {"opinion": "请修改", **CHECKLIST_YES},
    "org_reject": {"opinion": "不同意", **CHECKLIST_YES},
    "approve": {"opinion": "同意", "grade": 3, "approved_amount": "3000.00", **CHECKLIST_YES},
    "leadership_return": {"opinion": "请修改"},
    "reject": {"opinion": "不同意"},
}


@pytest.fixture
def actors(applicant, reviewer, outsider, outsider_applicant, leader, finance, auditor, org_a):
    return {
        "leader": applicant,
        "applicant_same_org": UserFactory(organization=org_a, roles=[Role.APPLICANT]),
        "org_reviewer": reviewer,
        "outsider_reviewer": outsider,
        "outsider_applicant": outsider_applicant,
        "leadership": leader,
        "finance": finance,
        "auditor": auditor,
    }


def _put_in(project, state) -> Project:
    # Test set-up only: place the project in the transition's source state directly.
    Project.objects.filter(pk=project.pk).update(state=state)
    return Project.objects.get(pk=project.pk)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("name", APPLIED)
def test_application_transitions_role_matrix(name, role, draft, actors, advance, reviewer):
    source, allowed = MATRIX[name]
    project = draft
    if source != State.DRAFT:
        project = advance(project, ("submit", actors["leader"], {}))
    if source == State.LEADERSHIP_REVIEW:
        project = advance(project, ("org_approve", reviewer, DECISIONS["org_approve"]))
    before = ProjectHistory.objects.filter(project=project).count()
    actor = actors[role]
    if role in allowed:
        result = apply_transition(project, name, actor=actor, **DECISIONS[name])
        assert result.state != source
        assert ProjectHistory.objects.filter(project=project).count() == before + 1
    else:
        with pytest.raises(WorkflowError) as err:
            apply_transition(project, name, actor=actor, **DECISIONS[name])
        assert "无权" in str(err.value)
        project.refresh_from_db()
        assert project.state == source
        assert ProjectHistory.objects.filter(project=project).count() == before


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("name", list(MATRIX))
def test_every_transition_offered_only_to_its_roles(name, role, draft, actors):
    source, allowed = MATRIX[name]
    project = _put_in(draft, source)
    offered = name in available_transitions(project, actors[role])
    assert offered == (role in allowed)


@pytest.mark.parametrize("name", ["org_approve", "org_return", "org_reject"])
def test_leader_who_is_also_org_reviewer_never_reviews_own_project(name, draft, org_a, advance):
    # Separation of duties (§5): the org reviewer leading the project cannot first-review it.
    double = UserFactory(organization=org_a, roles=[Role.APPLICANT, Role.ORG_REVIEWER])
    Project.objects.filter(pk=draft.pk).update(leader=double)
    draft.refresh_from_db()
    project = advance(draft, ("submit", double, {}))
    assert name not in available_transitions(project, double)
    with pytest.raises(WorkflowError):
        apply_transition(project, name, actor=double, **DECISIONS[name])


def test_leadership_member_never_approves_own_project(draft, leader, reviewer, advance):
    Project.objects.filter(pk=draft.pk).update(leader=leader)
    draft.refresh_from_db()
    project = advance(
        draft, ("submit", reviewer, {}), ("org_approve", reviewer, DECISIONS["org_approve"])
    )
    with pytest.raises(WorkflowError):
        apply_transition(project, "approve", actor=leader, **DECISIONS["approve"])


@pytest.mark.parametrize("name", APPLIED)
def test_wrong_state_is_refused(name, draft, leader, applicant, reviewer):
    source, allowed = MATRIX[name]
    wrong = State.APPROVED if source != State.APPROVED else State.DRAFT
    project = _put_in(draft, wrong)
    actor = {"leader": applicant, "org_reviewer": reviewer, "leadership": leader}[
        sorted(allowed)[0]
    ]
    with pytest.raises(WorkflowError) as err:
        apply_transition(project, name, actor=actor, **DECISIONS[name])
    assert "不能执行" in str(err.value)
    project.refresh_from_db()
    assert project.state == wrong


def test_inactive_user_is_refused(draft, applicant):
    applicant.is_active = False
    applicant.save()
    with pytest.raises(WorkflowError):
        apply_transition(draft, "submit", actor=applicant)


# --- the later transitions, applied for real (issue 10, hole 15) ------------------------

LATER = [name for name in MATRIX if name not in APPLIED and name != "withdraw"]
PATH = [
    (State.APPROVED, "start"),
    (State.IN_PROGRESS, "finish"),
    (State.ACCEPTANCE, "accept"),
    (State.ACCEPTED, "request_settlement"),
    (State.SETTLEMENT_REVIEW, "approve_payment"),
    (State.PAYMENT, "settle"),
    (State.SETTLED, None),
]


def later_decision(name, project) -> dict:
    from tests.projects.fixtures_money import settle_decision

    line = project.budget_lines.order_by("pk").first()
    return {
        "start": {},
        "finish": {"opinion": "活动已完成"},
        "rectify": {"opinion": "请整改"},
        "accept": {"opinion": "验收通过", "conclusion": "pass"},
        "request_settlement": {"opinion": "", "actual_amounts": {line.pk: "3000.00"}},
        "return_settlement": {"opinion": "请补充"},
        "approve_payment": {"opinion": "同意拨付", "payable_limit": "3000.00"},
        "settle": settle_decision(project),
        "close": {"opinion": "归档"},
        "terminate": {"opinion": "终止"},
    }[name]


def prepare(step, project, actors) -> None:
    """The side records a step's guard reads: the summary, the invoices, finance's checks."""
    from projects.models import Invoice, SummaryReport
    from tests.projects.fixtures_money import add_invoices, check_all

    if step == "finish":
        SummaryReport.objects.create(
            project=project,
            goals="目标",
            conduct="开展情况",
            self_assessment="自评",
            lessons="经验",
            participant_feedback="心得",
            effect="效果",
            author=actors["leader"],
        )
    elif step == "request_settlement":
        add_invoices(project, actors["leader"], Decimal("3000.00"))
    elif step == "settle":
        check_all(Invoice.objects.filter(project=project), actors["finance"])


def reach(source, project, actors, advance):
    """Drive a project along the real path to `source` (every step through the service)."""
    applicant, reviewer = actors["leader"], actors["org_reviewer"]
    leadership, finance = actors["leadership"], actors["finance"]
    project = advance(
        project,
        ("submit", applicant, {}),
        ("org_approve", reviewer, DECISIONS["org_approve"]),
        ("approve", leadership, DECISIONS["approve"]),
    )
    for _state, step in PATH:
        if project.state == source or step is None:
            break
        prepare(step, project, actors)
        actor = {
            "start": applicant,
            "finish": reviewer,
            "accept": leadership,
            "request_settlement": reviewer,
            "approve_payment": leadership,
            "settle": finance,
        }[step]
        project = advance(project, (step, actor, later_decision(step, project)))
    assert project.state == source
    return project


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("name", LATER)
def test_later_transitions_role_matrix_applied(name, role, draft, actors, advance):
    source, allowed = MATRIX[name]
    project = reach(source, draft, actors, advance)
    prepare(name, project, actors)
    before = ProjectHistory.objects.filter(project=project).count()
    actor = actors[role]
    if role in allowed:
        result = apply_transition(project, name, actor=actor, **later_decision(name, project))
        assert result.state != source
        rows = ProjectHistory.objects.filter(project=project).exclude(transition="archive_package")
        added = list(rows.order_by("seq"))[before:]
        assert added and added[-1].transition == name and added[-1].actor == actor
    else:
        with pytest.raises(WorkflowError) as err:
            apply_transition(project, name, actor=actor, **later_decision(name, project))
        assert "无权" in str(err.value)
        project.refresh_from_db()
        assert project.state == source
        assert ProjectHistory.objects.filter(project=project).count() == before
