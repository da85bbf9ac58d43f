"""What a project owes, decided in one place (三(一)5 monthly reports, 三(二)2 first review).

THE MONTHLY-REPORT OBLIGATION. A running project (state in RUNNING_STATES) whose planned
period exceeds one month (`end_date` later than the same day a month after `start_date`)
owes one progress report for each calendar month of the planned period, from the month it
starts up to the current month. The report for a month is due during that month and
overdue once the month is over. The rule is written twice, side by side below, clearly the
same rule: once in Python (`owed_months`, `monthly_status_for`: one project, listed months)
and once in SQL (`_obligation_queryset`: thousands of projects counted in the database).
Dashboards, the changelist filter, the reminders and the statistics all use these; the
tests compare the two forms over many generated date ranges.

FIRST REVIEW ON TIME. The submission sets `first_review_deadline` (a Beijing local date,
ORG_REVIEW_DAYS after the submission day); a first-review decision is on time when taken
on or before that date, Beijing time (`first_review_on_time`). A project still waiting is
overdue once the deadline has passed (Project.is_overdue_first_review, the same rule).
"""

from __future__ import annotations

import calendar
import datetime
from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import (
    Count,
    ExpressionWrapper,
    F,
    IntegerField,
    OuterRef,
    Q,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import (
    Coalesce,
    ExtractDay,
    ExtractMonth,
    ExtractYear,
    Greatest,
    Least,
)
from django.utils import timezone

from projects.models import ProgressReport, Project, ProjectHistory
from projects.models.choices import RUNNING_STATES

# --- months -------------------------------------------------------------------------------


def month_start(day: datetime.date) -> datetime.date:
    return day.replace(day=1)


def add_months(day: datetime.date, months: int) -> datetime.date:
    """The same day `months` later, clamped to the month's last day (1-31 → 2-28)."""
    year, month = divmod(day.month - 1 + months, 12)
    year += day.year
    last = calendar.monthrange(year, month + 1)[1]
    return datetime.date(year, month + 1, min(day.day, last))


def month_index(day: datetime.date) -> int:
    return day.year * 12 + day.month


def _month_index_sql(expression):
    return ExtractYear(expression) * 12 + ExtractMonth(expression)


# --- the monthly obligation, in Python ------------------------------------------------------


def owes_monthly_reports(start: datetime.date | None, end: datetime.date | None) -> bool:
    """三(一)5: 长期项目运作到一定阶段(如一个月)须通报进展: the planned period exceeds a month."""
    return bool(start and end and end > add_months(start, 1))


@dataclass
class MonthlyStatus:
    """Which months a project owes, has submitted, is due now and has let lapse."""

    owed: list[datetime.date] = field(default_factory=list)
    submitted: list[datetime.date] = field(default_factory=list)
    due: list[datetime.date] = field(default_factory=list)
    overdue: list[datetime.date] = field(default_factory=list)


def owed_months(project: Project, today: datetime.date) -> list[datetime.date]:
    """First days of the calendar months of the planned period up to this month."""
    if project.state not in RUNNING_STATES:
        return []
    if not owes_monthly_reports(project.start_date, project.end_date):
        return []
    months, month = [], month_start(project.start_date)
    last = month_start(min(project.end_date, today))
    while month <= last:
        months.append(month)
        month = add_months(month, 1)
    return months


def monthly_status(project: Project, today: datetime.date | None = None) -> MonthlyStatus:
    return monthly_status_for([project], today)[project.pk]


def monthly_status_for(projects, today: datetime.date | None = None) -> dict[int, MonthlyStatus]:
    """The status of many projects with one query for their reports (lists, panels)."""
    today = today or timezone.localdate()
    projects = list(projects)
    submitted: dict[int, set[datetime.date]] = {p.pk: set() for p in projects}
    running = [p.pk for p in projects if p.state in RUNNING_STATES]
    if running:
        rows = ProgressReport.objects.filter(project_id__in=running).values_list(
            "project_id", "month"
        )
        for project_id, month in rows:
            submitted[project_id].add(month)
    result = {}
    this_month = month_start(today)
    for project in projects:
        owed = owed_months(project, today)
        done = submitted[project.pk]
        result[project.pk] = MonthlyStatus(
            owed=owed,
            submitted=sorted(m for m in done if m in owed),
            due=[m for m in owed if m not in done and m == this_month],
            overdue=[m for m in owed if m not in done and m < this_month],
        )
    return result


# --- the same obligation, in SQL ------------------------------------------------------------


def _filed(**month):
    """The number of the project's reports within its planned period, for `month`."""
    return Coalesce(
        Subquery(
            ProgressReport.objects.filter(
                project=OuterRef("pk"), month__lte=OuterRef("end_date"), **month
            )
            .annotate(month_index=_month_index_sql(F("month")))
            .filter(month_index__gte=OuterRef("start_index"))
            .order_by()
            .values("project")
            .annotate(n=Count("pk"))
            .values("n"),
            output_field=IntegerField(),
        ),
        0,
    )


def _obligation_queryset(queryset, today: datetime.date):
    """`queryset` narrowed to the projects that owe monthly reports, each annotated with
    `owed_before_this_month` (months of the planned period already over),
    `filed_before_this_month` (reports for those months) and `filed_this_month` (this
    month's report, already in): owed_months and monthly_status_for, in SQL."""
    this_month = month_start(today)
    start, end = F("start_date"), F("end_date")
    return (
        queryset.filter(
            # Only a running project owes reports (owed_months).
            state__in=RUNNING_STATES,
            start_date__isnull=False,
            end_date__isnull=False,
            start_date__lt=add_months(this_month, 1),
        )
        .annotate(
            start_index=_month_index_sql(start),
            span=ExpressionWrapper(
                _month_index_sql(end) - _month_index_sql(start), output_field=IntegerField()
            ),
            owed_before_this_month=ExpressionWrapper(
                Greatest(
                    Least(_month_index_sql(end), Value(month_index(today) - 1))
                    - _month_index_sql(start)
                    + 1,
                    Value(0),
                ),
                output_field=IntegerField(),
            ),
            filed_before_this_month=_filed(month__lt=this_month),
            filed_this_month=_filed(month=this_month),
        )
        # owes_monthly_reports: end > add_months(start, 1), the day clamped to the month:
        # two or more months apart, or the next month on a later day of the month. (When
        # the start's day does not exist in the next month, the clamped day is that month's
        # last day, which no end date in that month exceeds: `end_day > start_day` is then
        # false too.)
        .filter(Q(span__gt=1) | Q(span=1, end_date__day__gt=ExtractDay(start)))
    )


def overdue_reports_queryset(queryset, today: datetime.date | None = None):
    """The projects of `queryset` with at least one overdue monthly report, decided in SQL
    (a city's thousands of running projects are never loaded to find the few shown)."""
    today = today or timezone.localdate()
    return _obligation_queryset(queryset, today).filter(
        owed_before_this_month__gt=F("filed_before_this_month")
    )


def projects_with_overdue_reports(
    queryset, today: datetime.date | None = None, *, limit: int | None = None
):
    """[(project, overdue months)] of the running projects in `queryset` (the first `limit`
    by year and number): two queries, however many projects are running."""
    today = today or timezone.localdate()
    candidates = (
        overdue_reports_queryset(queryset, today)
        .select_related("organization", "leader")
        .order_by("year", "number", "code")
    )
    candidates = list(candidates[:limit] if limit is not None else candidates)
    statuses = monthly_status_for(candidates, today)
    return [(p, statuses[p.pk].overdue) for p in candidates if statuses[p.pk].overdue]


def monthly_report_counts(projects, today: datetime.date | None = None) -> tuple[int, int]:
    """(reports due, reports filed) of `projects` for the statistics. A month a running
    project owes counts as due once it is over or its report is in; so `due - filed` is
    exactly the number of overdue months the dashboards list."""
    today = today or timezone.localdate()
    totals = _obligation_queryset(projects.order_by(), today).aggregate(
        due=Coalesce(Sum(F("owed_before_this_month") + F("filed_this_month")), 0),
        filed=Coalesce(Sum(F("filed_before_this_month") + F("filed_this_month")), 0),
    )
    return int(totals["due"]), int(totals["filed"])


# --- first review -----------------------------------------------------------------------

FIRST_REVIEW_DECISIONS = ("org_approve", "org_return", "org_reject")


def first_review_deadline_for(submitted_on: datetime.date) -> datetime.date:
    """The deadline a submission on `submitted_on` (Beijing date) sets: 三(二)2 一周内."""
    return submitted_on + datetime.timedelta(days=settings.ORG_REVIEW_DAYS)


def first_review_on_time(decided_at: datetime.datetime, deadline: datetime.date) -> bool:
    """On time = decided on or before the deadline, the day read in Beijing time."""
    return timezone.localdate(decided_at) <= deadline


def first_review_counts(projects) -> tuple[int, int]:
    """(first-review decisions, on time) over the history of `projects`: each decision
    answers the latest submission before it, whose event recorded the deadline it set."""
    rows = (
        ProjectHistory.objects.filter(
            project__in=projects.order_by().values("pk"),
            transition__in=("submit", *FIRST_REVIEW_DECISIONS),
        )
        .order_by("project_id", "seq")
        # Only the recorded deadline out of each event's data (not its snapshot).
        .values_list("project_id", "transition", "created_at", "data__first_review_deadline")
    )
    total = on_time = 0
    current_project, deadline = None, None
    for project_id, transition, created_at, recorded in rows.iterator(chunk_size=2000):
        if project_id != current_project:
            current_project, deadline = project_id, None
        if transition == "submit":
            deadline = (
                datetime.date.fromisoformat(recorded)
                if recorded
                else first_review_deadline_for(timezone.localdate(created_at))
            )
        elif deadline is not None:
            total += 1
            on_time += first_review_on_time(created_at, deadline)
    return total, on_time


__all__ = [
    "FIRST_REVIEW_DECISIONS",
    "MonthlyStatus",
    "add_months",
    "first_review_counts",
    "first_review_deadline_for",
    "first_review_on_time",
    "month_start",
    "monthly_report_counts",
    "monthly_status",
    "monthly_status_for",
    "overdue_reports_queryset",
    "owed_months",
    "owes_monthly_reports",
    "projects_with_overdue_reports",
]
