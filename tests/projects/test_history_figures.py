"""The statistics' yearly figures (models.figures) kept by the one event writer: after a
sequence of real transitions they equal the from-scratch computation over the history, the
statistics read them, and the chain still verifies. Runs on SQLite and PostgreSQL."""

import datetime

import pytest
from django.utils import timezone

from projects.models import HistoryFigure, Project, ProjectHistory
from projects.models.figures import FIRST_REVIEW, days_key
from projects.selectors import statistics
from projects.selectors.obligations import first_review_counts
from projects.services import apply_transition, events, figures
from tests.factories import BudgetLineFactory, ProjectFactory
from tests.projects.conftest import CHECKLIST_YES

pytestmark = pytest.mark.django_db
APPROVE = {"opinion": "同意上报", **CHECKLIST_YES}
RETURN = {"opinion": "请补充。", **CHECKLIST_YES}


@pytest.fixture
def clock(monkeypatch):
    """Beijing days pass between decisions (the first-review rule reads the day)."""
    moment = [timezone.now() - datetime.timedelta(days=40)]
    monkeypatch.setattr(timezone, "now", lambda: moment[0])

    def advance(days, hours=0):
        moment[0] += datetime.timedelta(days=days, hours=hours)

    return advance


def stored():
    return {
        (f.year, f.organization_id, f.key): [f.count, f.total] for f in HistoryFigure.objects.all()
    }


def test_figures_equal_a_from_scratch_computation_after_real_transitions(
    clock, org_a, org_b, applicant, reviewer, outsider_applicant, outsider, leader, policy
):
    a = ProjectFactory(organization=org_a, leader=applicant)
    b = ProjectFactory(organization=org_b, leader=outsider_applicant)
    for project in (a, b):
        BudgetLineFactory(project=project)
    a = apply_transition(a, "submit", actor=applicant)
    clock(3)
    a = apply_transition(a, "org_return", actor=reviewer, **RETURN)
    b = apply_transition(b, "submit", actor=outsider_applicant)
    clock(1, hours=5)
    a = apply_transition(a, "submit", actor=applicant)
    b = apply_transition(b, "org_approve", actor=outsider, **APPROVE)
    clock(9)  # past the 7-day first review of the resubmission
    a = apply_transition(a, "org_approve", actor=reviewer, **APPROVE)

    kept = stored()
    assert kept == figures.compute(figures.history_rows(ProjectHistory))
    year = a.year
    # a: returned in 3 days (on time), approved 9 days after resubmission (late);
    # b: approved 1 day 5 hours after submission (on time).
    assert kept[(year, org_a.pk, FIRST_REVIEW)] == [2, 1]
    assert kept[(year, org_b.pk, FIRST_REVIEW)] == [1, 1]
    assert kept[(year, org_a.pk, days_key("returned"))] == [1, (24 + 5) * 3600 * 10**6]

    # The statistics read the figures and agree with the history-pass definitions.
    projects = Project.objects.filter(year=year)
    report = statistics.year_report(leader, year)
    assert (report.first_reviews, report.first_reviews_on_time) == first_review_counts(projects)
    assert report.days_in_state == statistics.days_in_state(projects)
    scoped = statistics.year_report(reviewer, year)
    assert (scoped.first_reviews, scoped.first_reviews_on_time) == (2, 1)

    # Rebuilding from scratch (the data migration's path) gives the same rows.
    figures.rebuild()
    assert stored() == kept
    assert events.verify().ok
