"""Progress reports from where you are told about them (issue 11, finding 3): the
dashboard's overdue row offers the leader 填报进展报告 with project and month filled in, and
the month is a month picker stored as the month's first day."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from projects.models import ProgressReport, Project
from tests.projects.fixtures_running import *  # noqa: F403

pytestmark = pytest.mark.django_db

ADD = reverse("admin:projects_progressreport_add")


@pytest.fixture
def overdue(in_progress):
    start = timezone.localdate().replace(day=1) - datetime.timedelta(days=40)
    Project.objects.filter(pk=in_progress.pk).update(start_date=start)
    in_progress.refresh_from_db()
    return in_progress


def _oldest_missing(project):
    return project.start_date.replace(day=1)


def test_overdue_row_offers_the_leader_the_report_form(client, overdue, applicant, reviewer):
    month = _oldest_missing(overdue)
    link = f"{ADD}?project={overdue.pk}&amp;month={month.isoformat()}"
    client.force_login(applicant)
    page = client.get(reverse("admin:index")).content.decode()
    assert "逾期未报的月度进展报告" in page
    assert f'href="{link}"' in page
    assert f"填报{month.year}年{month.month}月进展报告" in page
    # the org reviewer sees the row (to follow it up) but files nothing
    client.force_login(reviewer)
    page = client.get(reverse("admin:index")).content.decode()
    assert overdue.code in page and ADD not in page


def test_the_form_opens_filled_in_with_a_month_picker(client, overdue, applicant):
    month = _oldest_missing(overdue)
    client.force_login(applicant)
    page = client.get(f"{ADD}?project={overdue.pk}&month={month.isoformat()}")
    text = page.content.decode()
    assert page.status_code == 200
    assert 'type="month"' in text
    assert f'value="{month:%Y-%m}"' in text
    assert f'<option value="{overdue.pk}" selected>' in text


@pytest.mark.parametrize("typed", ["{m:%Y-%m}", "{m.year}年{m.month}月"])
def test_a_month_typed_or_picked_is_stored_as_its_first_day(client, overdue, applicant, typed):
    month = _oldest_missing(overdue)
    client.force_login(applicant)
    data = {"project": overdue.pk, "month": typed.format(m=month), "progress": "走访十户"}
    response = client.post(ADD, data)
    assert response.status_code == 302
    assert ProgressReport.objects.get().month == month


def test_a_month_that_does_not_exist_is_refused_in_chinese(client, overdue, applicant):
    client.force_login(applicant)
    data = {"project": overdue.pk, "month": "2026-13", "progress": "走访十户"}
    response = client.post(ADD, data)
    assert response.status_code == 200
    assert "不存在" in response.content.decode()
    assert not ProgressReport.objects.exists()
