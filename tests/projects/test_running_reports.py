"""Progress reports and problem reports (三(一)5, 三(三)1, 3): the monthly obligation across
month boundaries, bad months refused, and who wrote / read / forwarded / answered."""

import datetime

import pytest
from django.utils import timezone

from projects.models import ProblemReport, ProgressReport, Project
from projects.selectors.obligations import (
    add_months,
    monthly_status,
    monthly_status_for,
    owes_monthly_reports,
    projects_with_overdue_reports,
)
from projects.services import WorkflowError
from projects.services.reports import (
    problem_report_answer,
    problem_report_forward,
    problem_report_submit,
    progress_report_read,
    progress_report_submit,
)
from tests.projects.fixtures_running import *  # noqa: F403
from tests.projects.fixtures_running import month

pytestmark = pytest.mark.django_db


def set_period(project, start, end):
    Project.objects.filter(pk=project.pk).update(start_date=start, end_date=end)
    project.refresh_from_db()
    return project


def report(project, actor, day, **extra):
    return ProgressReport.objects.create(
        project=project, month=day, progress="进展", author=actor, **extra
    )


def test_add_months_clamps_to_month_end():
    assert add_months(datetime.date(2026, 1, 31), 1) == datetime.date(2026, 2, 28)
    assert add_months(datetime.date(2026, 12, 15), 1) == datetime.date(2027, 1, 15)


@pytest.mark.parametrize(
    "start,end,owes",
    [
        (datetime.date(2026, 3, 1), datetime.date(2026, 4, 1), False),  # exactly a month
        (datetime.date(2026, 3, 1), datetime.date(2026, 4, 2), True),
        (datetime.date(2026, 1, 31), datetime.date(2026, 2, 28), False),
        (datetime.date(2026, 3, 10), datetime.date(2026, 3, 30), False),
    ],
)
def test_only_projects_longer_than_a_month_owe_reports(start, end, owes):
    assert owes_monthly_reports(start, end) is owes


def test_due_then_overdue_across_month_boundaries(in_progress, applicant):
    project = set_period(in_progress, datetime.date(2026, 3, 15), datetime.date(2026, 6, 10))
    # Mid-March: March is due (not overdue yet).
    status = monthly_status(project, datetime.date(2026, 3, 31))
    assert status.owed == [month(2026, 3)]
    assert status.due == [month(2026, 3)] and status.overdue == []
    # The first of April: March is now overdue and April is due.
    status = monthly_status(project, datetime.date(2026, 4, 1))
    assert status.overdue == [month(2026, 3)] and status.due == [month(2026, 4)]
    # March submitted: nothing overdue.
    report(project, applicant, month(2026, 3))
    status = monthly_status(project, datetime.date(2026, 4, 1))
    assert status.overdue == [] and status.submitted == [month(2026, 3)]
    # After the planned end: owed months stop at June; May and June missing.
    report(project, applicant, month(2026, 4))
    status = monthly_status(project, datetime.date(2026, 8, 20))
    assert status.owed == [month(2026, m) for m in (3, 4, 5, 6)]
    assert status.overdue == [month(2026, 5), month(2026, 6)] and status.due == []


def test_year_boundary(in_progress):
    project = set_period(in_progress, datetime.date(2026, 11, 20), datetime.date(2027, 2, 1))
    status = monthly_status(project, datetime.date(2027, 1, 5))
    assert status.overdue == [month(2026, 11), month(2026, 12)]
    assert status.due == [month(2027, 1)]


def test_projects_not_running_owe_nothing(approved, in_acceptance):
    for project in (approved, in_acceptance):
        set_period(project, datetime.date(2025, 1, 1), datetime.date(2025, 12, 31))
        assert monthly_status(project, datetime.date(2026, 1, 1)).owed == []


def test_overdue_list_costs_two_queries(
    in_progress, applicant, org_a, django_assert_max_num_queries
):
    set_period(in_progress, datetime.date(2026, 1, 5), datetime.date(2026, 12, 31))
    today = datetime.date(2026, 5, 3)
    with django_assert_max_num_queries(2):
        rows = projects_with_overdue_reports(Project.objects.all(), today)
    assert rows == [(in_progress, [month(2026, m) for m in (1, 2, 3, 4)])]
    # Many more projects, many reports: still two queries.
    others = [
        Project.objects.create(
            code=f"2026-9{n:03d}",
            year=2026,
            title=f"项目{n}",
            category="training",
            organization=org_a,
            leader=applicant,
            proposed_grade=3,
            start_date=datetime.date(2026, 1, 5),
            end_date=datetime.date(2026, 12, 31),
            state="in_progress",
        )
        for n in range(15)
    ]
    for project in others:
        report(project, applicant, month(2026, 1))
    with django_assert_max_num_queries(2):
        rows = projects_with_overdue_reports(Project.objects.all(), today)
    assert len(rows) == 16
    with django_assert_max_num_queries(1):
        statuses = monthly_status_for(others, today)
    assert statuses[others[0].pk].overdue == [month(2026, m) for m in (2, 3, 4)]


def test_submit_and_read_keep_who_and_when(in_progress, applicant, reviewer):
    this_month = timezone.localdate().replace(day=1)
    rep = progress_report_submit(
        project=in_progress, actor=applicant, month=this_month, progress="开展学习两次"
    )
    assert rep.author == applicant and rep.submitted_at and rep.read_by is None
    rep = progress_report_read(report=rep, actor=reviewer, comment="继续推进")
    assert rep.read_by == reviewer and rep.read_at and rep.org_comment == "继续推进"


@pytest.mark.parametrize(
    "offset_months,message",
    [(-3, "不在项目实施期"), (1, "尚未到来"), (5, "不在项目实施期")],
)
def test_month_outside_period_or_future_is_refused(in_progress, applicant, offset_months, message):
    target = add_months(timezone.localdate().replace(day=1), offset_months)
    with pytest.raises(WorkflowError) as err:
        progress_report_submit(project=in_progress, actor=applicant, month=target, progress="x")
    assert message in str(err.value)
    assert not ProgressReport.objects.exists()


def test_same_month_twice_is_refused(in_progress, applicant):
    this_month = timezone.localdate().replace(day=1)
    progress_report_submit(project=in_progress, actor=applicant, month=this_month, progress="a")
    with pytest.raises(WorkflowError) as err:
        progress_report_submit(
            project=in_progress,
            actor=applicant,
            month=this_month + datetime.timedelta(days=3),
            progress="b",
        )
    assert "已经提交过" in str(err.value)
    assert ProgressReport.objects.count() == 1


@pytest.mark.parametrize("who", ["reviewer", "outsider", "leader", "auditor"])
def test_only_the_leader_reports(request, in_progress, who):
    with pytest.raises(WorkflowError):
        progress_report_submit(
            project=in_progress,
            actor=request.getfixturevalue(who),
            month=timezone.localdate().replace(day=1),
            progress="x",
        )


@pytest.mark.parametrize("who", ["applicant", "outsider", "leader"])
def test_only_own_org_reviewer_reads(request, in_progress, applicant, who):
    rep = report(in_progress, applicant, timezone.localdate().replace(day=1))
    with pytest.raises(WorkflowError):
        progress_report_read(report=rep, actor=request.getfixturevalue(who), comment="x")
    rep.refresh_from_db()
    assert rep.read_by is None


def test_report_on_approved_project_is_refused(approved, applicant):
    with pytest.raises(WorkflowError) as err:
        progress_report_submit(
            project=approved, actor=applicant, month=timezone.localdate(), progress="x"
        )
    assert "实施中" in str(err.value)


def test_problem_report_forwarded_and_answered(in_progress, applicant, reviewer, leader):
    problem = problem_report_submit(project=in_progress, actor=applicant, description="场地取消")
    with pytest.raises(WorkflowError) as err:
        problem_report_answer(report=problem, actor=leader, answer="x")
    assert "尚未" in str(err.value)
    problem = problem_report_forward(report=problem, actor=reviewer, comment="请协调")
    assert problem.forwarded_by == reviewer and problem.forwarded_at
    with pytest.raises(WorkflowError):
        problem_report_forward(report=problem, actor=reviewer)
    problem = problem_report_answer(report=problem, actor=leader, answer="改到党群中心")
    assert problem.answered_by == leader and problem.answered_at
    with pytest.raises(WorkflowError):
        problem_report_answer(report=problem, actor=leader, answer="again")


def test_problem_report_roles(in_progress, applicant, outsider, reviewer):
    with pytest.raises(WorkflowError):
        problem_report_submit(project=in_progress, actor=outsider, description="x")
    problem = problem_report_submit(project=in_progress, actor=applicant, description="x")
    with pytest.raises(WorkflowError):
        problem_report_forward(report=problem, actor=outsider)
    with pytest.raises(WorkflowError):
        problem_report_answer(report=problem, actor=reviewer, answer="x")
    assert ProblemReport.objects.get().forwarded_by is None
