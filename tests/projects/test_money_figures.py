"""The maintained money figures (models.figures.MoneyFigure) kept by the one event writer:
after a real sequence of service calls they equal the from-scratch rebuild and the old
grouped aggregates over the year's projects and payments; the statistics and the pool
ledger read them, a page of 50 organisations at a time with totals over all, in a number of
queries that does not grow with the organisations. Runs on SQLite and PostgreSQL."""

import io
import re
from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import Count, Sum
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from accounts.models import Organization
from projects.models import Disbursement, MoneyFigure, Project, ProjectFigure
from projects.models.figures import MONEY_SUMS
from projects.selectors import statistics
from projects.selectors.ledgers import _PROJECT_SUMS, pool_ledger
from projects.services import apply_transition, events, money_figures
from projects.services.disbursements import disbursement_reverse
from projects.services.projects import application_saved, application_update
from tests.factories import (
    PASSWORD,
    BudgetLineFactory,
    FundingPolicyFactory,
    OrganizationFactory,
    ProjectFactory,
)
from tests.projects import fixtures_money
from tests.projects import test_import_export_resources as resources
from tests.projects.conftest import CHECKLIST_YES
from tests.projects.fixtures_money import (
    add_invoices,
    check_all,
    request_and_approve,
    settle_decision,
)

pytestmark = pytest.mark.django_db
accepted = fixtures_money.accepted
policy_2020 = resources.policy_2020  # the 2020 policy a historical import needs
D = Decimal


def stored() -> dict:
    return {
        (f.year, f.organization_id, f.dimension, f.value): [
            f.count,
            *(getattr(f, name) for name in MONEY_SUMS),
        ]
        for f in MoneyFigure.objects.all()
        if f.count or any(getattr(f, name) for name in MONEY_SUMS)
    }


def scratch() -> dict:
    figures, _parts = money_figures.compute(*money_figures.rows_of(Project, Disbursement))
    return figures


def approved_project(org, applicant, reviewer, leader, amount, grade=3):
    project = ProjectFactory(organization=org, leader=applicant)
    BudgetLineFactory(project=project, quantity=D("1"), unit_price=D(amount))
    for name, actor, decision in (
        ("submit", applicant, {}),
        ("org_approve", reviewer, {"opinion": "同意", **CHECKLIST_YES}),
        ("approve", leader, {"opinion": "同意", "grade": grade, "approved_amount": amount}),
    ):
        project = apply_transition(project, name, actor=actor, **decision)
    return project


@pytest.fixture
def books(
    accepted, applicant, reviewer, leader, finance, advance, org_b, outsider, outsider_applicant
):
    """A: settled ¥2,000 of ¥3,000 with ¥500 unqualified, then the payment reversed (红字);
    B: a ¥4,000 project of grade 2, a terminated one of ¥1,000, and a draft whose category
    was changed (application_update) — then submitted."""
    invoices = add_invoices(accepted, applicant, D("2000.00"), D("500.00"))
    check_all(invoices, finance, unqualified=invoices[1:])
    project = request_and_approve(
        accepted, reviewer=reviewer, leader=leader, limit="2500", advance=advance
    )
    settled = apply_transition(project, "settle", actor=finance, **settle_decision(project))
    before_reversal = stored()
    disbursement_reverse(
        disbursement=Disbursement.objects.get(project=settled),
        actor=finance,
        voucher_number="R-1",
        voucher_date=timezone.localdate(),
        reason="账号错误",
    )
    approved_project(org_b, outsider_applicant, outsider, leader, "4000.00", grade=2)
    stopped = approved_project(org_b, outsider_applicant, outsider, leader, "1000.00")
    apply_transition(stopped, "terminate", actor=leader, opinion="无法实施")
    draft = ProjectFactory(organization=org_b, leader=outsider_applicant, category="training")
    BudgetLineFactory(project=draft, quantity=D("1"), unit_price=D("700.00"))
    application_saved(draft, actor=outsider_applicant)
    changed = application_update(
        draft, actor=outsider_applicant, values={"category": "reward_assistance"}
    )
    application_saved(changed, actor=outsider_applicant, changed=["category"])
    apply_transition(changed, "submit", actor=outsider_applicant)
    return settled, before_reversal


def old_by_org(year) -> dict:
    """The old definition: the ledger's grouped sums over the year's projects and payments."""
    projects = Project.objects.filter(year=year)
    sums = {
        row.pop("organization"): row
        for row in projects.values("organization")
        .annotate(n=Count("pk"), requested=Sum("requested_amount"), **_PROJECT_SUMS)
        .order_by()
    }
    paid = dict(
        Disbursement.objects.filter(project__year=year)
        .values("project__organization")
        .annotate(total=Sum("amount"))
        .values_list("project__organization", "total")
    )
    for org, row in sums.items():
        row["disbursed"] = paid.get(org) or D("0.00")
    return sums


def old_by(path, year) -> dict:
    projects = Project.objects.filter(year=year)
    sums = {
        row.pop(path): row
        for row in projects.values(path)
        .annotate(n=Count("pk"), approved=Sum("approved_amount"), loss=Sum("loss_amount"))
        .order_by()
    }
    paid = dict(
        Disbursement.objects.filter(project__year=year)
        .values(f"project__{path}")
        .annotate(total=Sum("amount"))
        .values_list(f"project__{path}", "total")
    )
    return {
        key: (row["n"], row["approved"] or 0, row["loss"] or 0, paid.get(key) or 0)
        for key, row in sums.items()
    }


def test_figures_follow_every_service_write_and_equal_the_old_aggregates(
    books, policy, org_a, org_b, leader
):
    settled, before_reversal = books
    year = policy.year
    kept = stored()
    assert kept == {k: v for k, v in scratch().items() if any(v)}
    # The district's figures (organisation None) are the sums of the organisations'.
    district = {}
    for (y, org, dimension, value), sums in kept.items():
        if org is not None:
            total = district.setdefault((y, None, dimension, value), [0] * len(sums))
            district[(y, None, dimension, value)] = [
                t + v for t, v in zip(total, sums, strict=True)
            ]
    assert {k: v for k, v in kept.items() if k[1] is None} == district
    # The red reversal took the payment back out of A's figures.
    a_all = (year, org_a.pk, "all", "")
    disbursed = 1 + MONEY_SUMS.index("disbursed")
    assert before_reversal[a_all][disbursed] == D("2000.00")
    assert kept[a_all][disbursed] == D("0.00")
    # The draft's category change moved it out of "training" into "reward_assistance".
    assert kept[(year, org_b.pk, "category", "reward_assistance")][0] == 1
    assert (year, org_b.pk, "state", "org_review") in kept

    ledger = pool_ledger(year)
    old = old_by_org(year)
    assert {row.organization.pk for row in ledger.rows} == set(old)
    for row in ledger.rows:
        for name in ("approved", "committed", "settled", "loss", "disbursed"):
            assert getattr(row, name) == (old[row.organization.pk][name] or 0), name
        for name in ("released_by_settlement", "released_by_termination"):
            assert getattr(row, name) == old[row.organization.pk][name], name
    report = statistics.year_report(leader, year)
    by_org = {row.organization.pk: row for row in report.tables[0].rows}
    for org, row in old.items():
        shown = by_org[org]
        assert (shown.count, shown.applied, shown.approved, shown.disbursed) == (
            row["n"],
            row["requested"],
            row["approved"] or 0,
            row["disbursed"],
        )
    for table, path in zip(report.tables[1:], ("grade", "category", "state"), strict=True):
        assert {r.key: (r.count, r.approved, r.losses, r.disbursed) for r in table.rows} == old_by(
            path, year
        )
    assert report.total.count == Project.objects.filter(year=year).count()

    # The rebuild (the data migration's path) gives the same rows; the chain still holds.
    money_figures.rebuild()
    assert stored() == kept
    assert ProjectFigure.objects.count() == Project.objects.count()
    assert events.verify().ok


def test_an_event_that_changes_nothing_leaves_the_figures(books, policy, org_b, outsider):
    draft = Project.objects.get(state="org_review")
    kept = stored()
    apply_transition(draft, "org_return", actor=outsider, opinion="请补充。", **CHECKLIST_YES)
    after = stored()
    assert after != kept
    assert after[(policy.year, org_b.pk, "state", "returned")][0] == 1
    assert (policy.year, org_b.pk, "state", "org_review") not in after
    assert after == {k: v for k, v in scratch().items() if any(v)}


# --- pagination ---------------------------------------------------------------------------


@pytest.fixture
def many(db, org_a):
    """51 organisations (org_a and 50 more named after it), one ¥10 project each; the rows
    bypass the event writer, so the figures are rebuilt as the migration does."""
    FundingPolicyFactory(year=timezone.localdate().year)
    orgs = [org_a] + [OrganizationFactory(name=f"组织{i:03d}") for i in range(50)]
    for org in orgs:
        project = ProjectFactory(organization=org)
        Project.objects.filter(pk=project.pk).update(
            approved_amount=D("10.00"), committed_amount=D("10.00"), requested_amount=D("12.00")
        )
    money_figures.rebuild()
    # In the database's own order of names (its collation), as the pages sort them.
    return list(Organization.objects.filter(pk__in=[o.pk for o in orgs]).order_by("name", "pk"))


def login(client, user):
    assert client.login(username=user.username, password=PASSWORD)


def _section(html, title) -> str:
    """The table under the heading `title` (the charts above also name organisations)."""
    start = html.index(f"<h2>{title}</h2>")
    return html[start : html.index("</section>", start)]


def test_year_page_shows_fifty_organisations_a_page_and_totals_over_all(client, many, leader):
    login(client, leader)
    url = reverse("projects:report_year")
    first = _section(client.get(url, {"page": 1}).content.decode(), "按组织")
    second = _section(client.get(url, {"page": 2}).content.decode(), "按组织")
    assert many[0].name in first and many[49].name in first and many[50].name not in first
    assert many[50].name in second and many[0].name not in second
    assert "下一页" in first and "上一页" in second and "第 2 页" in first
    # 合计 over all 51 organisations on every page; the 公示 link in the row.
    for html in (first, second):
        assert re.search(r"<td>合计</td><td class=\"num\">51</td>", html)
        assert "¥510.00" in html
    disclosure = reverse(
        "projects:report_disclosure", args=[timezone.localdate().year, many[50].pk]
    )
    assert disclosure in second and disclosure not in first
    for bad, shown in (("x", many[0]), ("0", many[0]), ("-3", many[0]), ("99", many[50])):
        response = client.get(url, {"page": bad})
        assert response.status_code == 200
        assert shown.name in _section(response.content.decode(), "按组织")
    # The xlsx keeps every row (header, 51 organisations, 合计).
    report = statistics.year_report(leader, timezone.localdate().year)
    assert len(report.tables[0].rows) == 51
    xlsx = client.get(reverse("projects:report_year_xlsx", args=[timezone.localdate().year]))
    sheet = load_workbook(io.BytesIO(_body(xlsx)))["按组织"]
    assert sheet.max_row == 53 and sheet.cell(53, 1).value == "合计"


def test_pool_ledger_pages_and_totals_over_all(client, many, finance):
    login(client, finance)
    url = reverse("projects:pool_ledger", args=[timezone.localdate().year])
    first = client.get(url).content.decode()
    second = client.get(url, {"page": "2"}).content.decode()
    assert many[49].name in first and many[50].name not in first
    assert many[50].name in second and many[0].name not in second
    for html in (first, second):
        assert "¥510.00" in html  # the 合计 row's approved over all
    assert client.get(url, {"page": "abc"}).status_code == 200
    assert many[50].name in client.get(url, {"page": "7"}).content.decode()
    ledger = pool_ledger(timezone.localdate().year)
    assert len(ledger.rows) == 51 and ledger.total.approved == D("510.00")
    xlsx = client.get(url, {"format": "xlsx"})
    sheet = load_workbook(io.BytesIO(_body(xlsx)))["分户汇总"]
    assert sheet.max_row == 53 and sheet.cell(53, 1).value == "合计"


def _body(response) -> bytes:
    if response.streaming:
        return b"".join(response.streaming_content)
    return response.content


def _count(client, url, params=None) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url, params or {}).status_code == 200
    return len(queries)


@pytest.mark.parametrize("page", ["statistics", "ledger"])
def test_page_queries_do_not_grow_with_the_organisations(client, org_a, leader, finance, page):
    year = timezone.localdate().year
    FundingPolicyFactory(year=year)
    user = leader if page == "statistics" else finance
    url = (
        reverse("projects:report_year")
        if page == "statistics"
        else reverse("projects:pool_ledger", args=[year])
    )
    login(client, user)

    def grow(n):
        for i in range(n):
            org = OrganizationFactory()
            project = ProjectFactory(organization=org)
            Project.objects.filter(pk=project.pk).update(approved_amount=D(i + 1))
        money_figures.rebuild()

    grow(3)
    _count(client, url)  # warm the session and caches
    small = _count(client, url)
    grow(120)
    assert _count(client, url) == small
    assert _count(client, url, {"page": 3}) == small


def test_a_historical_import_adds_to_the_figures(admin_user, org_a, applicant, policy_2020):
    result = resources.do_import("project", admin_user, resources.historical_rows(org_a, applicant))
    assert not resources.errors_of(result), resources.errors_of(result)
    kept = stored()
    assert kept == {k: v for k, v in scratch().items() if any(v)}
    figure = MoneyFigure.objects.get(year=2020, organization=org_a, dimension="all")
    assert (figure.count, figure.settled, figure.committed) == (1, D("2500.50"), D("2500.50"))
    assert pool_ledger(2020).total.settled == D("2500.50")
