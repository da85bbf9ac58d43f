"""Issue 6 speed work: pages cost the same number of queries for small and larger data, the
changelist's cheap filters, the capped invoice inline, the missing-report rule decided in SQL
(the same answer as the Python rule), and the one invoice import offered on the invoice
changelist beside the invoice export."""

import datetime
from decimal import Decimal
from io import BytesIO

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from projects.models import ProgressReport, Project, State
from projects.models.money import Invoice
from projects.selectors.obligations import monthly_status, overdue_reports_queryset
from tests.factories import OrganizationFactory, ProjectFactory, UserFactory

CHANGELIST = "/admin/projects/project/"
INVOICES = "/admin/projects/invoice/"


@pytest.fixture
def running(approved, applicant, advance):
    return advance(approved, ("start", applicant, {}))


def bulk_invoices(project, actor, count, *, start=0):
    line = project.budget_lines.order_by("pk").first()
    Invoice.objects.bulk_create(
        Invoice(
            project=project,
            budget_line=line,
            kind=Invoice.Kind.VAT_ORDINARY,
            code="3100231130",
            number=f"{70000000 + start + i:08d}",
            identity=f"3100231130-{70000000 + start + i:08d}-{project.pk}",
            issue_date=timezone.localdate(),
            seller_name="示例文化用品有限公司",
            seller_tax_id="91350100M000100Y43",
            buyer_name=project.organization.name,
            amount=Decimal("10.00"),
            tax=Decimal("0.00"),
            total=Decimal("10.00"),
            created_by=actor,
        )
        for i in range(count)
    )


def many_running(org, leader, count, *, start_date):
    """`count` running projects that owe monthly reports (test data, not a workflow)."""
    year = timezone.localdate().year
    Project.objects.bulk_create(
        Project(
            code=f"{year}-8{n:03d}",
            year=year,
            title=f"运行项目{n}",
            category="training",
            organization=org,
            leader=leader,
            proposed_grade=3,
            state=State.IN_PROGRESS,
            start_date=start_date,
            end_date=start_date + datetime.timedelta(days=400),
        )
        for n in range(count)
    )


# --- query counts: constant in the data size ---------------------------------------------


@pytest.mark.parametrize("count", [3, 60])
def test_change_page_with_many_invoices_is_capped_and_constant(
    client, running, applicant, leader, count, django_assert_max_num_queries
):
    bulk_invoices(running, applicant, count)
    client.force_login(leader)
    with django_assert_max_num_queries(22):
        response = client.get(reverse("admin:projects_project_change", args=[running.pk]))
    body = response.content.decode()
    assert response.status_code == 200
    shown = sum(1 for i in range(count) if f"{70000000 + i:08d}" in body)
    assert shown == min(count, 20)
    if count > 20:
        assert f"共 {count} 张" in body and "查看全部发票" in body
        assert f"{INVOICES}?project__id__exact={running.pk}" in body
    else:
        assert "查看全部发票" not in body


def test_a_project_without_invoices_skips_the_risk_rules_query(client, running, applicant, leader):
    """Its page knows from the project's own query that there is no invoice to show, so the
    10 KB risk-rules query (about 10 ms to build and plan) is not run for no row; with
    one invoice it is, and the invoice is on the page."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(leader)
    url = reverse("admin:projects_project_change", args=[running.pk])
    client.get(url)  # the content types are read once per process
    with CaptureQueriesContext(connection) as empty:
        body = client.get(url).content.decode()
    assert "发票" in body and "70000000" not in body
    assert not any("risk_repeat_count" in query["sql"] for query in empty.captured_queries)
    bulk_invoices(running, applicant, 1)
    with CaptureQueriesContext(connection) as one:
        body = client.get(url).content.decode()
    assert "70000000" in body
    assert sum("risk_repeat_count" in query["sql"] for query in one.captured_queries) == 1
    assert len(one.captured_queries) == len(empty.captured_queries) + 1


@pytest.mark.parametrize("count", [3, 60])
def test_invoice_changelist_queries_constant(
    client, running, applicant, finance, count, django_assert_max_num_queries
):
    bulk_invoices(running, applicant, count)
    client.force_login(finance)
    with django_assert_max_num_queries(12):
        response = client.get(INVOICES + "?check_status__exact=pending")
    assert response.status_code == 200


@pytest.mark.parametrize("count", [3, 60])
@pytest.mark.parametrize("user_fixture", ["leader", "reviewer", "applicant"])
def test_dashboard_with_missing_reports_queries_constant(
    client, request, org_a, applicant, policy, count, user_fixture, django_assert_max_num_queries
):
    many_running(org_a, applicant, count, start_date=timezone.localdate() - datetime.timedelta(90))
    client.force_login(request.getfixturevalue(user_fixture))
    with django_assert_max_num_queries(18):
        response = client.get("/admin/")
    assert response.status_code == 200
    assert "逾期未报的月度进展报告" in response.content.decode()


@pytest.mark.parametrize("count", [3, 60])
def test_changelist_with_every_filter_queries_constant(
    client, org_a, applicant, leader, count, django_assert_max_num_queries
):
    for _ in range(count // 3):
        OrganizationFactory()
    many_running(org_a, applicant, count, start_date=timezone.localdate() - datetime.timedelta(90))
    year = timezone.localdate().year
    client.force_login(leader)
    url = (
        f"{CHANGELIST}?monthly_report=overdue&overdue=yes&organization__id__exact={org_a.pk}"
        f"&year__exact={year}&q=项目&o=-2"
    )
    with django_assert_max_num_queries(12):
        assert client.get(url).status_code == 200
    with django_assert_max_num_queries(12):
        response = client.get(f"{CHANGELIST}?monthly_report=overdue")
    assert response.context["cl"].result_count == count


# --- the changelist's filters ----------------------------------------------------------------


def test_organisation_filter_is_one_drop_down_for_those_who_see_everything(
    client, draft, org_a, org_b, leader, reviewer
):
    client.force_login(leader)
    body = client.get(CHANGELIST + "?state__exact=draft&q=x").content.decode()
    assert 'name="organization__id__exact"' in body and org_b.name in body
    # The other filters ride along in the drop-down's form.
    assert '<input type="hidden" name="state__exact" value="draft">' in body
    assert '<input type="hidden" name="q" value="x">' in body
    response = client.get(f"{CHANGELIST}?organization__id__exact={org_b.pk}")
    assert draft not in response.context["cl"].result_list
    response = client.get(f"{CHANGELIST}?organization__id__exact={org_a.pk}")
    assert draft in response.context["cl"].result_list
    client.force_login(reviewer)  # sees only organisation A: no such filter
    assert 'name="organization__id__exact"' not in client.get(CHANGELIST).content.decode()


def test_organisation_filter_is_a_name_box_for_a_district_of_many_organisations(
    client, draft, org_a, org_b, leader, monkeypatch
):
    """A city's hundreds of organisations are never listed on the page: past the drop-down
    limit the filter is a box where part of the name is typed."""
    from projects.admin import filters

    monkeypatch.setattr(filters, "DROP_DOWN_LIMIT", 1)
    client.force_login(leader)
    body = client.get(CHANGELIST + "?state__exact=draft").content.decode()
    assert 'name="organization_name"' in body and "<option" not in body.split("申报组织")[-1]
    assert org_b.name not in body
    assert '<input type="hidden" name="state__exact" value="draft">' in body
    response = client.get(CHANGELIST, {"organization_name": org_b.name})
    assert response.status_code == 200 and draft not in response.context["cl"].result_list
    response = client.get(CHANGELIST, {"organization_name": org_a.name[1:-1]})
    assert draft in response.context["cl"].result_list
    # A link from another page still filters by key, and the box names that organisation.
    response = client.get(f"{CHANGELIST}?organization__id__exact={org_a.pk}")
    assert draft in response.context["cl"].result_list
    assert f'name="organization_name" value="{org_a.name}"' in response.content.decode()
    response = client.get(f"{CHANGELIST}?organization__id__exact={org_b.pk}")
    assert draft not in response.context["cl"].result_list


def test_year_filter_lists_the_years_on_record(client, draft, leader):
    year = timezone.localdate().year
    ProjectFactory(organization=draft.organization, leader=draft.leader, year=year - 2)
    client.force_login(leader)
    body = client.get(CHANGELIST).content.decode()
    for shown in (year, year - 1, year - 2):
        assert f"year__exact={shown}" in body
    response = client.get(f"{CHANGELIST}?year__exact={year}")
    assert draft in response.context["cl"].result_list


@pytest.mark.parametrize("param", ["organization__id__exact", "year__exact"])
def test_hand_edited_filter_values_give_an_empty_list(client, draft, leader, param):
    client.force_login(leader)
    response = client.get(f"{CHANGELIST}?{param}=abc")
    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == []


def test_changelist_shows_the_filtered_count_without_counting_everything(
    client, draft, leader, django_assert_max_num_queries
):
    client.force_login(leader)
    response = client.get(f"{CHANGELIST}?state__exact=draft")
    assert response.context["cl"].show_full_result_count is False
    assert response.context["cl"].result_count == 1


@pytest.mark.parametrize("count", [3, 60])
def test_row_links_keep_the_filters_without_resolving_each_row(
    client, org_a, applicant, leader, count, monkeypatch
):
    """Each row links to its change page with the list's filters kept, exactly as Django
    writes it, and the page no longer resolves every row's URL again (it did, 0.3 ms a row,
    a third of a full page's rows)."""
    from urllib.parse import urlencode

    from django.contrib.admin.templatetags import admin_urls

    many_running(org_a, applicant, count, start_date=timezone.localdate() - datetime.timedelta(90))
    resolved = []
    resolve = admin_urls.resolve
    monkeypatch.setattr(admin_urls, "resolve", lambda path: resolved.append(path) or resolve(path))
    client.force_login(leader)
    query = "state__exact=in_progress&o=-2"
    response = client.get(f"{CHANGELIST}?{query}")
    body = response.content.decode()
    kept = urlencode({"_changelist_filters": query}).replace("&", "&amp;")
    shown = response.context["cl"].result_list
    assert len(shown) == min(count, 50)
    for project in shown:
        url = reverse("admin:projects_project_change", args=[project.pk])
        assert f'<a href="{url}?{kept}">' in body
    assert len(resolved) < 3  # the page's own links, never one per row
    body = client.get(CHANGELIST + "?_popup=1&_to_field=id").content.decode()
    assert "_popup=1" in body.split('id="result_list"')[1]  # a pop-up keeps Django's own links


# --- the missing-report rule in SQL is the Python rule ----------------------------------------


def test_overdue_reports_in_sql_match_the_python_rule(org_a, applicant):
    today = datetime.date(2026, 11, 15)
    cases = [
        # (start, end, months reported)
        (datetime.date(2026, 8, 10), datetime.date(2027, 3, 1), []),
        (datetime.date(2026, 8, 10), datetime.date(2027, 3, 1), [8, 9, 10]),
        (datetime.date(2026, 8, 10), datetime.date(2027, 3, 1), [8, 10]),
        (datetime.date(2026, 10, 31), datetime.date(2026, 11, 30), []),  # exactly a month
        (datetime.date(2026, 9, 30), datetime.date(2026, 10, 30), []),  # one month: owes none
        (datetime.date(2026, 9, 30), datetime.date(2026, 10, 31), []),  # over a month
        (datetime.date(2026, 1, 31), datetime.date(2026, 2, 28), []),  # day clamped: none
        (datetime.date(2026, 1, 31), datetime.date(2026, 3, 1), [1]),  # owes Feb as well
        (datetime.date(2026, 1, 31), datetime.date(2026, 3, 1), [1, 2, 3]),
        (datetime.date(2026, 11, 2), datetime.date(2027, 5, 1), []),  # started this month
        (datetime.date(2025, 12, 1), datetime.date(2026, 6, 30), [12, 1, 2, 3, 4, 5]),
        (datetime.date(2025, 12, 1), datetime.date(2026, 6, 30), [12, 1, 2, 3, 4]),
    ]
    projects = []
    for n, (start, end, months) in enumerate(cases):
        project = ProjectFactory(
            organization=org_a,
            leader=applicant,
            code=f"2026-7{n:03d}",
            start_date=start,
            end_date=end,
        )
        Project.objects.filter(pk=project.pk).update(state=State.IN_PROGRESS)
        for month in months:
            year = start.year if month >= start.month else start.year + 1
            ProgressReport.objects.create(
                project=project,
                month=datetime.date(year, month, 1),
                progress="进展",
                author=applicant,
            )
        projects.append(project)
    expected = {
        p.pk
        for p in Project.objects.filter(pk__in=[p.pk for p in projects])
        if monthly_status(p, today).overdue
    }
    found = set(overdue_reports_queryset(Project.objects.all(), today).values_list("pk", flat=True))
    assert found == expected
    assert expected  # the cases include overdue and punctual projects
    assert len(expected) < len(projects)


# --- invoices: one import, and the export -----------------------------------------------------


def test_invoice_changelist_offers_the_money_sides_import(client, running, applicant):
    client.force_login(applicant)
    body = client.get(INVOICES).content.decode()
    chooser = reverse("admin:projects_invoice_import")
    assert f'href="{chooser}"' in body
    page = client.get(chooser).content.decode()
    assert running.code in page
    assert reverse("projects:invoice_import", args=[running.pk]) in page
    assert reverse("projects:invoice_import_template", args=[running.pk]) in page
    response = client.get(f"{chooser}?project={running.pk}")
    assert response.status_code == 302
    assert response["Location"] == reverse("projects:invoice_import", args=[running.pk])


def test_the_import_chooser_lists_only_projects_open_to_the_user(
    client, running, draft, outsider_applicant, org_b
):
    other = ProjectFactory(organization=org_b, leader=outsider_applicant)
    Project.objects.filter(pk=other.pk).update(state=State.IN_PROGRESS)
    client.force_login(outsider_applicant)
    chooser = reverse("admin:projects_invoice_import")
    page = client.get(chooser).content.decode()
    assert other.code in page and running.code not in page
    # Another organisation's project does not exist for this user; a bad value neither.
    assert client.get(f"{chooser}?project={running.pk}").status_code == 404
    assert client.get(f"{chooser}?project=abc").status_code == 404


@pytest.mark.parametrize("user_fixture", ["auditor", "finance"])
def test_no_invoice_import_for_those_who_do_not_enter_invoices(
    client, request, running, user_fixture
):
    client.force_login(request.getfixturevalue(user_fixture))
    assert 'class="import_link"' not in client.get(INVOICES).content.decode()
    assert client.get(reverse("admin:projects_invoice_import")).status_code == 403


def test_django_import_export_offers_no_second_invoice_import(client, running, applicant):
    client.force_login(applicant)
    response = client.get(reverse("admin:projects_invoice_import"))
    assert response.templates[0].name == "admin/projects/money/invoice_import_choose.html"
    response = client.post(reverse("admin:projects_invoice_import"), {})
    assert b"import_file" not in response.content


def _sheet_rows(response):
    data = b"".join(response.streaming_content) if response.streaming else response.content
    sheet = load_workbook(BytesIO(data), read_only=True).worksheets[0]
    return [list(row) for row in sheet.iter_rows(values_only=True)]


@pytest.mark.parametrize("count", [3, 60])
def test_invoice_export_is_scoped_typed_and_constant(
    client, running, applicant, finance, outsider, org_b, count, django_assert_max_num_queries
):
    bulk_invoices(running, applicant, count)
    other = ProjectFactory(organization=org_b, leader=UserFactory(organization=org_b))
    other.budget_lines.create(
        item="materials", description="资料", quantity=1, unit_price=10, amount=10
    )
    bulk_invoices(other, other.leader, 2, start=5000)
    export = reverse("admin:projects_invoice_export")
    client.force_login(finance)
    with django_assert_max_num_queries(10):
        rows = _sheet_rows(client.get(export))
    assert rows[0][:5] == ["项目编号", "申报组织", "票据种类", "发票代码", "发票号码"]
    assert len(rows) == 1 + count + 2
    assert rows[1][2] == "增值税普通发票" and rows[1][11] == 10
    client.force_login(outsider)  # organisation B's reviewer: only B's invoices
    rows = _sheet_rows(client.get(export))
    assert len(rows) == 1 + 2 and {row[0] for row in rows[1:]} == {other.code}


def test_no_facet_counts_on_the_project_list(client, draft, leader, django_assert_max_num_queries):
    client.force_login(leader)
    with django_assert_max_num_queries(12):
        response = client.get(f"{CHANGELIST}?_facets=True")
    assert response.status_code == 200
    assert response.context["cl"].add_facets is False


# --- issue 15: the rest of each role's day, at two data sizes ------------------------------

DAILY_PAGES = [
    ("finance", "/admin/"),  # 待审核的发票 read from the partial index, in list order
    ("finance", "/admin/projects/disbursement/"),
    ("finance", "/admin/projects/backgroundjob/"),  # 我的下载
    ("finance", f"/admin/projects/ledger/{timezone.localdate().year}/"),
    ("leader", "/admin/reports/"),  # the history's figures from models.figures
    ("reviewer", "/admin/reports/"),
    ("applicant", CHANGELIST),
]


def _page_queries(client, user, url) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(user)
    assert client.get(url).status_code == 200
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_each_roles_daily_pages_cost_the_same_queries_at_two_sizes(
    client, request, running, org_a, applicant
):
    year = timezone.localdate().year

    def grow(count, start):
        Project.objects.bulk_create(
            Project(
                code=f"{year}-9{start + n:03d}",
                year=year,
                title=f"验收项目{start + n}",
                category="training",
                organization=org_a,
                leader=applicant,
                proposed_grade=3,
                state=State.ACCEPTANCE,
            )
            for n in range(count)
        )
        bulk_invoices(running, applicant, count, start=start)

    grow(2, 0)
    users = {name: request.getfixturevalue(name) for name, _url in DAILY_PAGES}
    small = [_page_queries(client, users[name], url) for name, url in DAILY_PAGES]
    grow(40, 100)
    large = [_page_queries(client, users[name], url) for name, url in DAILY_PAGES]
    assert large == small
