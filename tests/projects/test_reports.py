"""统计报表 and 公示: figures against a hand-computed fixture, scope, constant query counts."""

import datetime
import io
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from projects.models import Disbursement, Project, ProjectHistory
from projects.models.running import ProgressReport
from projects.selectors import statistics
from projects.services import figures, money_figures
from tests.factories import PASSWORD, FundingPolicyFactory, ProjectFactory

D = Decimal
YEAR = timezone.localdate().year
T0 = timezone.now() - datetime.timedelta(days=60)


def put(project, **fields):
    """Fixture shortcut: set the decided fields (state included) as the workflow would have."""
    Project.objects.filter(pk=project.pk).update(**fields)
    project.refresh_from_db()
    return project


def history(project, actor, *steps):
    """steps: (transition, to_state, day offset from T0)."""
    prev = "draft"
    for seq, (name, to_state, day) in enumerate(steps, start=1):
        ProjectHistory.objects.create(
            global_seq=ProjectHistory.objects.count() + 1,
            key_id="test",
            project=project,
            seq=seq,
            transition=name,
            from_state=prev,
            to_state=to_state,
            actor=actor,
            actor_name="x",
            actor_organization="x",
            actor_roles="x",
            created_at=T0 + datetime.timedelta(days=day),
            digest="-",
        )
        prev = to_state


def pay(project, amount, actor, number):
    Disbursement.objects.create(
        project=project,
        amount=D(amount),
        purpose="结算",
        voucher_number=number,
        voucher_date=timezone.localdate(),
        method="allocation",
        payee_name="甲",
        payee_bank="银行",
        payee_account="1",
        prepared_by=actor,
        approved_by=actor,
        paid_by=actor,
    )


@pytest.fixture
def city(org_a, org_b, applicant, outsider_applicant, finance):
    """Hand-computed year (see the expected figures in the tests below)."""
    FundingPolicyFactory(year=YEAR, pool_total=D("100000.00"))
    today = timezone.localdate()
    p1 = ProjectFactory(organization=org_a, leader=applicant, title="甲一")
    put(
        p1,
        state="closed",
        grade=2,
        requested_amount=D("10000.00"),
        approved_amount=D("8000.00"),
        committed_amount=D("7500.00"),
        settlement_amount=D("7500.00"),
        loss_amount=D("200.00"),
        is_commended=True,
        start_date=today - datetime.timedelta(days=50),
        end_date=today - datetime.timedelta(days=40),
    )
    pay(p1, "7500.00", finance, "V-1")
    history(
        p1,
        applicant,
        ("submit", "org_review", 0),
        ("org_approve", "leadership_review", 3),
        ("approve", "approved", 5),
    )
    p2 = ProjectFactory(organization=org_a, leader=applicant, title="甲二")
    put(
        p2,
        state="in_progress",
        grade=3,
        requested_amount=D("5000.00"),
        approved_amount=D("4000.00"),
        committed_amount=D("4000.00"),
        start_date=today - datetime.timedelta(days=70),
        end_date=today + datetime.timedelta(days=30),
    )
    history(
        p2,
        applicant,
        ("submit", "org_review", 0),
        ("org_return", "returned", 2),
        ("submit", "org_review", 5),
        ("org_approve", "leadership_review", 14),
    )
    ProgressReport.objects.create(
        project=p2, month=today.replace(day=1), progress="进展", author=applicant
    )
    p3 = ProjectFactory(organization=org_b, leader=outsider_applicant, title="乙一")
    put(p3, state="rejected", requested_amount=D("3000.00"))
    history(p3, outsider_applicant, ("submit", "org_review", 0), ("org_reject", "rejected", 10))
    # The rows above bypass the event writer: their yearly figures are computed as the data
    # migration computes them for history already on record.
    figures.rebuild()
    money_figures.rebuild()
    return p1, p2, p3


def months_between(start, end):
    return (end.year * 12 + end.month) - (start.year * 12 + start.month) + 1


def test_year_figures_match_hand_computation(city, leader, org_a, org_b):
    report = statistics.year_report(leader, YEAR)
    by_org = {row.label: row for row in report.tables[0].rows}
    a, b = by_org[org_a.name], by_org[org_b.name]
    assert (a.count, a.applied, a.approved, a.disbursed, a.losses, a.remaining) == (
        2,
        D("15000.00"),
        D("12000.00"),
        D("7500.00"),
        D("200.00"),
        D("4000.00"),
    )
    assert (b.count, b.applied, b.approved, b.disbursed) == (1, D("3000.00"), 0, 0)
    total = report.tables[0].total
    assert (total.count, total.applied, total.disbursed) == (3, D("18000.00"), D("7500.00"))
    assert report.pool_committed == D("11500.00")
    assert report.pool_remaining == D("88500.00")

    by_grade = {row.key: row.count for row in report.tables[1].rows}
    assert by_grade == {2: 1, 3: 1, None: 1}
    by_state = {row.key: row.approved for row in report.tables[3].rows}
    assert by_state == {"in_progress": D("4000.00"), "closed": D("8000.00"), "rejected": 0}

    # First reviews: p1 in 3 days, p2 in 2 and then 9 days after resubmission, p3 in 10.
    assert (report.first_reviews, report.first_reviews_on_time) == (4, 2)
    assert report.on_time_rate == 0.5
    # Days in 待项目部初审: (3 + 2 + 9 + 10) / 4.
    assert dict(report.days_in_state)["待项目部初审"] == 6.0
    assert dict(report.days_in_state)["退回修改"] == 3.0

    p2 = city[1]
    assert report.reports_due == months_between(p2.start_date, timezone.localdate())
    assert report.reports_filed == 1


def test_org_user_sees_only_own_organisation(city, reviewer, org_a, org_b):
    report = statistics.year_report(reviewer, YEAR)
    assert [row.label for row in report.tables[0].rows] == [org_a.name]
    assert report.tables[0].total.applied == D("15000.00")
    assert report.first_reviews == 3


def login(client, user):
    assert client.login(username=user.username, password=PASSWORD)


def test_year_page_with_charts(client, city, leader, org_a):
    login(client, leader)
    response = client.get(reverse("projects:report_year"), {"year": YEAR})
    page = response.content.decode()
    assert response.status_code == 200
    assert page.count('report-chart" role') == 3 and "¥12,000.00" in page and "50.0%" in page
    assert reverse("projects:report_disclosure", args=[YEAR, org_a.pk]) in page


def test_bad_year_is_404_not_500(client, leader):
    login(client, leader)
    assert client.get(reverse("projects:report_year"), {"year": "abc"}).status_code == 404
    assert client.get(reverse("projects:report_year"), {"year": "99999"}).status_code == 404


def test_year_xlsx_numbers_are_numbers(client, city, leader, org_a):
    login(client, leader)
    response = client.get(reverse("projects:report_year_xlsx", args=[YEAR]))
    book = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    rows = list(book["按组织"].iter_rows(values_only=True))
    assert rows[0][0] == "分组"
    row = next(r for r in rows if r[0] == org_a.name)
    assert row[1:] == (2, 15000, 12000, 7500, 200, 4000)
    summary = dict(book["概况"].iter_rows(min_row=2, values_only=True))
    assert summary["初审按期率"] == 0.5
    assert summary["年度经费总额"] == 100000 and summary["剩余额度"] == 88500


def test_disclosure_page(client, city, reviewer, org_a, org_b):
    login(client, reviewer)
    response = client.get(reverse("projects:report_disclosure", args=[YEAR, org_a.pk]))
    page = response.content.decode()
    assert "党费使用情况公示" in page and "甲一(优秀项目)" in page and "¥7,500.00" in page
    assert "乙一" not in page
    # Another organisation's notice does not exist for this user.
    other = client.get(reverse("projects:report_disclosure", args=[YEAR, org_b.pk]))
    assert other.status_code == 404


def test_reports_need_a_login(client, db):
    response = client.get(reverse("projects:report_year"))
    assert response.status_code == 302


@pytest.mark.parametrize("extra", [0, 40])
def test_report_pages_query_count_is_constant(
    client, city, leader, org_a, applicant, extra, django_assert_max_num_queries
):
    for i in range(extra):
        project = ProjectFactory(organization=org_a, leader=applicant)
        put(project, state="in_progress", approved_amount=D("10.00"), committed_amount=D("10"))
        history(project, applicant, ("submit", "org_review", 0), ("org_approve", "approved", i))
    login(client, leader)
    with django_assert_max_num_queries(22):
        assert client.get(reverse("projects:report_year")).status_code == 200
    with django_assert_max_num_queries(20):
        client.get(reverse("projects:report_year_xlsx", args=[YEAR]))
    # 10, and the first print's issued version (issue 13): look-up, savepoint, insert, release.
    with django_assert_max_num_queries(10 + 4):
        client.get(reverse("projects:report_disclosure", args=[YEAR, org_a.pk]))


# --- issue 10, hole 14: scoped roles see their own figures, never the district pool ---------


def test_district_roles_see_the_pool(city, leader, finance, auditor):
    for user in (leader, finance, auditor):
        report = statistics.year_report(user, YEAR)
        assert report.district
        assert report.pool_total == D("100000.00")
        assert report.pool_remaining == D("88500.00")


@pytest.mark.parametrize("role", ["applicant", "reviewer"])
def test_scoped_roles_see_only_their_own_figures(city, request, org_a, role):
    user = request.getfixturevalue(role)
    report = statistics.year_report(user, YEAR)
    assert not report.district
    assert report.pool_total is None and report.pool_remaining is None
    assert report.total.approved == D("12000.00")


@pytest.mark.parametrize("role", ["applicant", "reviewer"])
def test_scoped_year_page_labels_own_figures_and_hides_the_pool(client, city, request, role):
    user = request.getfixturevalue(role)
    login(client, user)
    page = client.get(reverse("projects:report_year"), {"year": YEAR}).content.decode()
    assert "本组织核定合计" in page and "¥12,000.00" in page
    for hidden in ("年度经费总额", "剩余额度", "¥100,000.00", "¥88,500.00"):
        assert hidden not in page
    response = client.get(reverse("projects:report_year_xlsx", args=[YEAR]))
    book = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    summary = dict(book["概况"].iter_rows(min_row=2, values_only=True))
    assert summary["本组织核定合计"] == 12000
    assert "年度经费总额" not in summary and "剩余额度" not in summary


def test_district_year_page_shows_the_pool(client, city, finance):
    login(client, finance)
    page = client.get(reverse("projects:report_year"), {"year": YEAR}).content.decode()
    assert "年度经费总额" in page and "¥100,000.00" in page and "¥88,500.00" in page
    assert "本组织核定合计" not in page


def test_disclosure_lists_codes_by_number(client, city, reviewer, org_a, applicant):
    """2026-10000 comes after 2026-9999 (codes sort by year and number, not as text)."""
    late = ProjectFactory(organization=org_a, leader=applicant, title="甲万")
    put(late, approved_amount=D("1.00"), number=10000, code=f"{YEAR}-10000")
    early = ProjectFactory(organization=org_a, leader=applicant, title="甲九")
    put(early, approved_amount=D("1.00"), number=9999, code=f"{YEAR}-9999")
    notice = statistics.disclosure(reviewer, org_a.pk, YEAR)
    codes = [p.code for p in notice.projects]
    assert codes.index(f"{YEAR}-9999") < codes.index(f"{YEAR}-10000")


def test_index_panels_list_codes_by_number(db, org_a, applicant, leader):
    """The leadership panel: 2026-9999 before 2026-10000 (same submission time)."""
    from projects.selectors.dashboard import leadership_panel

    submitted = timezone.now()
    for number in (10000, 9999):
        project = ProjectFactory(organization=org_a, leader=applicant)
        put(
            project,
            state="leadership_review",
            submitted_at=submitted,
            number=number,
            code=f"{YEAR}-{number}",
        )
    texts = [row["text"] for row in leadership_panel(leader).rows]
    assert [t.split()[0] for t in texts] == [f"{YEAR}-9999", f"{YEAR}-10000"]
