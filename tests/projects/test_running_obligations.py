"""Hole 8: one definition of the monthly-report obligation and of first-review punctuality,
and every place that shows them (panels, the list filter, reminders, statistics) agrees."""

import datetime
import random

import pytest
from django.utils import timezone

from projects.models import ProgressReport, Project, ProjectHistory, State
from projects.reminders import collect
from projects.selectors.dashboard import missing_reports_panel
from projects.selectors.obligations import (
    add_months,
    first_review_counts,
    first_review_on_time,
    monthly_report_counts,
    monthly_status,
    monthly_status_for,
    overdue_reports_queryset,
)
from projects.selectors.statistics import year_report
from tests.factories import PASSWORD, ProjectFactory

pytestmark = pytest.mark.django_db

D = datetime.date


def running_project(org, leader, start, end, *, state=State.IN_PROGRESS, reports=()):
    project = ProjectFactory(organization=org, leader=leader, start_date=start, end_date=end)
    Project.objects.filter(pk=project.pk).update(state=state)
    for month in reports:
        ProgressReport.objects.create(project=project, month=month, progress="进展", author=leader)
    project.refresh_from_db()
    return project


# --- the case of the issue: 1 Feb to 3 Mar ------------------------------------------------


def test_first_of_february_to_third_of_march_owes_reports_everywhere(org_a, applicant):
    today = D(2026, 4, 10)
    project = running_project(org_a, applicant, D(2026, 2, 1), D(2026, 3, 3))
    feb, mar = D(2026, 2, 1), D(2026, 3, 1)

    # The Python rule.
    assert monthly_status(project, today).overdue == [feb, mar]
    # The SQL rule (dashboard panel and list filter).
    assert list(overdue_reports_queryset(Project.objects.all(), today)) == [project]
    # The statistics: two reports due, none filed (the old 31-day rule said none due).
    assert monthly_report_counts(Project.objects.all(), today) == (2, 0)
    # The reminders.
    keys = {item.key for item in collect(today)[applicant]}
    assert {f"progress:{project.pk}:2026-02", f"progress:{project.pk}:2026-03"} <= keys


def test_panel_filter_and_statistics_agree_on_a_project_running_now(
    client, org_a, applicant, leader
):
    today = timezone.localdate()
    start = add_months(today.replace(day=1), -2)  # the 1st, two months ago
    end = add_months(start, 1).replace(day=3)  # the 3rd of the next month
    late = running_project(org_a, applicant, start, end)
    filed = running_project(org_a, applicant, start, end, reports=[start, add_months(start, 1)])
    assert client.login(username=leader.username, password=PASSWORD)
    page = client.get("/admin/projects/project/", {"monthly_report": "overdue"})
    assert page.status_code == 200
    listed = {p.pk for p in page.context["cl"].result_list}
    assert listed == {late.pk}
    panel = missing_reports_panel(leader)
    assert [row["text"] for row in panel.rows] == [f"{late.code} {late.title}"]
    report = year_report(leader, today.year)
    assert (report.reports_due, report.reports_filed) == (4, 2)
    assert filed.pk not in {p.pk for p in overdue_reports_queryset(Project.objects.all())}


# --- property: the Python rule, the SQL rule and the statistics over many ranges ------------


def generated_ranges(rng: random.Random, n: int):
    """Random plans around month ends and leap years, plus the edge cases by hand."""
    edges = [
        (D(2024, 1, 31), D(2024, 2, 29)),
        (D(2024, 1, 31), D(2024, 3, 1)),
        (D(2025, 1, 31), D(2025, 2, 28)),
        (D(2025, 1, 31), D(2025, 3, 1)),
        (D(2026, 2, 1), D(2026, 3, 1)),
        (D(2026, 2, 1), D(2026, 3, 2)),
        (D(2026, 2, 1), D(2026, 3, 3)),
        (D(2026, 3, 31), D(2026, 4, 30)),
        (D(2026, 3, 30), D(2026, 4, 30)),
        (D(2026, 12, 15), D(2027, 1, 16)),
        (D(2026, 5, 5), D(2026, 5, 5)),
    ]
    yield from edges
    base = D(2025, 10, 1)
    for _ in range(n - len(edges)):
        start = base + datetime.timedelta(days=rng.randrange(0, 400))
        length = rng.choice([0, 15, 28, 29, 30, 31, 32, 45, 59, 60, 61, 90, 200, 400])
        yield start, start + datetime.timedelta(days=length + rng.randrange(-2, 3))


def test_python_rule_sql_rule_and_statistics_agree_over_generated_ranges(org_a, applicant):
    rng = random.Random(20260303)
    states = [State.IN_PROGRESS] * 4 + [State.APPROVED, State.ACCEPTANCE, State.CLOSED]
    built, reports = [], []
    for start, end in generated_ranges(rng, 120):
        end = max(start, end)
        project = ProjectFactory.build(
            organization=org_a,
            leader=applicant,
            start_date=start,
            end_date=end,
            state=rng.choice(states),
        )
        months, month = [], start.replace(day=1)
        while month <= end.replace(day=1):
            if rng.random() < 0.5:
                months.append(month)
            month = add_months(month, 1)
        built.append(project)
        reports.append(months)
    projects = Project.objects.bulk_create(built)
    ProgressReport.objects.bulk_create(
        ProgressReport(project=project, month=month, progress="进展", author=applicant)
        for project, months in zip(projects, reports, strict=True)
        for month in months
    )
    everything = Project.objects.filter(pk__in=[p.pk for p in projects])
    for today in [D(2025, 12, 31), D(2026, 1, 1), D(2026, 3, 3), D(2026, 7, 31), D(2027, 2, 1)]:
        this_month = today.replace(day=1)
        statuses = monthly_status_for(everything, today)
        python_overdue = {pk for pk, status in statuses.items() if status.overdue}
        sql_overdue = set(overdue_reports_queryset(everything, today).values_list("pk", flat=True))
        assert sql_overdue == python_overdue, today
        # The statistics, project by project: due = months over or filed; filed = filed.
        for project in projects:
            status = statuses[project.pk]
            filed = [m for m in status.submitted if m <= this_month]
            expected = (len(status.overdue) + len(filed), len(filed))
            one = Project.objects.filter(pk=project.pk)
            assert monthly_report_counts(one, today) == expected, (project.start_date, today)
        # And in total: what the statistics say is missing is what the dashboards list.
        due, filed_total = monthly_report_counts(everything, today)
        assert due - filed_total == sum(len(s.overdue) for s in statuses.values())


# --- first review on time: a Beijing local date, not 8 × 24 hours -------------------------


def beijing(*args) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime(*args))


def event(project, seq, name, at, data=None):
    ProjectHistory.objects.create(
        actor=project.leader,
        global_seq=ProjectHistory.objects.count() + 1,
        key_id="test",
        project=project,
        seq=seq,
        transition=name,
        from_state="",
        to_state="",
        actor_name="x",
        actor_organization="x",
        actor_roles="x",
        created_at=at,
        data=data or {},
        digest="-",
    )


@pytest.mark.parametrize(
    "decided_at,on_time",
    [
        # Submitted 1 March 23:00 Beijing: deadline 8 March (ORG_REVIEW_DAYS = 7).
        ((2026, 3, 8, 23, 30), True),  # the deadline day, late evening: on time
        ((2026, 3, 9, 7, 30), False),  # 9 March in Beijing (still 8 March in UTC): late
        ((2026, 3, 9, 8, 0), False),  # within 8 × 24 hours of submitting, yet a day late
    ],
)
def test_first_review_on_time_is_the_beijing_date(org_a, applicant, settings, decided_at, on_time):
    settings.ORG_REVIEW_DAYS = 7
    project = ProjectFactory(organization=org_a, leader=applicant)
    event(project, 1, "submit", beijing(2026, 3, 1, 23, 0), {"first_review_deadline": "2026-03-08"})
    event(project, 2, "org_approve", beijing(*decided_at))
    assert first_review_on_time(beijing(*decided_at), D(2026, 3, 8)) is on_time
    assert first_review_counts(Project.objects.filter(pk=project.pk)) == (1, int(on_time))


def test_first_review_counts_follow_each_resubmission(org_a, applicant, settings):
    settings.ORG_REVIEW_DAYS = 7
    project = ProjectFactory(organization=org_a, leader=applicant)
    event(project, 1, "submit", beijing(2026, 3, 1, 9), {"first_review_deadline": "2026-03-08"})
    event(project, 2, "org_return", beijing(2026, 3, 8, 18))  # on time
    event(project, 3, "submit", beijing(2026, 3, 20, 9), {"first_review_deadline": "2026-03-27"})
    event(project, 4, "org_approve", beijing(2026, 3, 28, 9))  # a day late
    assert first_review_counts(Project.objects.filter(pk=project.pk)) == (2, 1)


def test_submitting_sets_the_deadline_the_statistics_read(draft, applicant, reviewer):
    from projects.services import apply_transition
    from tests.projects.conftest import CHECKLIST_YES

    project = apply_transition(draft, "submit", actor=applicant)
    submit = ProjectHistory.objects.get(project=project, transition="submit")
    assert submit.data["first_review_deadline"] == project.first_review_deadline.isoformat()
    apply_transition(project, "org_approve", actor=reviewer, opinion="同意", **CHECKLIST_YES)
    # Decided today, well before the deadline: on time, and the model agrees nothing is late.
    assert first_review_counts(Project.objects.filter(pk=project.pk)) == (1, 1)
    assert not project.is_overdue_first_review
