"""Finance's risk rules (issue 12): each with a case it flags and one it does not, the
reasons in Chinese, the 风险提示 filter on the changelist, and a constant query count."""

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import F
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from projects.models import ProjectHistory
from projects.models.money import Invoice, RiskKeyword
from projects.selectors.invoices import RULES, invoice_risks, risk_filter, with_risks
from projects.services.invoices import invoice_add
from tests.projects import fixtures_money
from tests.projects.fixtures_money import OTHER_SELLER_ID, invoice_data
from tests.projects.test_invoice_capture import accepted_project_of

pytestmark = pytest.mark.django_db
accepted = fixtures_money.accepted

TODAY = timezone.localdate()
ORG_USCC = "91110108551385082Q"
THIRD_USCC = "91350100M000100Y43"
CHANGELIST = "/admin/projects/invoice/"


@pytest.fixture
def project(accepted, org_a):
    org_a.uscc = ORG_USCC
    org_a.save()
    return accepted


def add(project, actor, number, **overrides):
    values = {
        "number": number if isinstance(number, str) else f"{number:08d}",
        "total": Decimal("100.00"),
        "amount": Decimal("100.00"),
    }
    return invoice_add(
        project=project, actor=actor, **invoice_data(project, **{**values, **overrides})
    )


def keys(invoice):
    return [risk.key for risk in invoice_risks(invoice)]


def test_every_rule_has_a_chinese_title():
    assert all(any("\u4e00" <= ch <= "\u9fff" for ch in title) for _key, title in RULES)


def test_buyer_name_not_the_organisations(project, applicant):
    flagged = add(project, applicant, 1, buyer_name="某商贸有限公司")
    risk = invoice_risks(flagged)[0]
    assert risk.key == "buyer" and "“某商贸有限公司”" in risk.reason
    plain = add(project, applicant, 11, buyer_name=project.organization.name + " ")
    assert "buyer" not in keys(plain)


def test_buyer_tax_id_not_the_organisations(project, applicant):
    flagged = add(project, applicant, 1, buyer_tax_id=THIRD_USCC)
    assert keys(flagged) == ["buyer"]
    assert THIRD_USCC in invoice_risks(flagged)[0].reason
    assert ORG_USCC in invoice_risks(flagged)[0].reason
    same = add(project, applicant, 11, buyer_tax_id=ORG_USCC)
    assert "buyer" not in keys(same)


def test_buyer_name_with_full_width_brackets_is_the_organisation(project, applicant, org_a):
    org_a.name = "甲社区党支部(第一)"
    org_a.save()
    same = add(project, applicant, 1, buyer_name="甲社区党支部(第一)")
    assert "buyer" not in keys(same)


def test_issue_date_before_approval(project, applicant):
    early = add(project, applicant, 1, issue_date=TODAY - datetime.timedelta(days=1))
    risk = next(r for r in invoice_risks(early) if r.key == "before_approval")
    assert "早于项目批准立项的日期" in risk.reason
    on_time = add(project, applicant, 11, issue_date=TODAY)
    assert "before_approval" not in keys(on_time)


def test_issue_date_after_the_request_for_settlement(project, applicant, reviewer, leader, advance):
    invoice = add(project, applicant, 1, total=Decimal("3000.00"), amount=Decimal("3000.00"))
    fixtures_money.request_and_approve(
        project, reviewer=reviewer, leader=leader, limit="3000.00", advance=advance
    )
    assert "after_settlement" not in keys(invoice)  # issued the day of the request
    # The request was made three days before the invoice's date (the event's own time).
    ProjectHistory.objects.filter(project=project, transition="request_settlement").update(
        created_at=timezone.now() - datetime.timedelta(days=3)
    )
    risk = next(r for r in invoice_risks(invoice) if r.key == "after_settlement")
    assert "晚于申请结算的日期" in risk.reason


def test_three_consecutive_numbers_from_one_seller(project, applicant):
    run = [add(project, applicant, n) for n in (500, 501, 502)]
    assert all("split" in keys(invoice) for invoice in run)
    assert "拆分开票" in next(r for r in invoice_risks(run[0]) if r.key == "split").reason


def test_two_consecutive_or_a_gap_is_not_a_split(project, applicant):
    pair_and_gap = [add(project, applicant, n) for n in (500, 501, 503)]
    assert not any("split" in keys(invoice) for invoice in pair_and_gap)


def test_consecutive_numbers_of_different_sellers_are_not_a_split(project, applicant):
    invoices = [
        add(project, applicant, 500),
        add(project, applicant, 501, seller_tax_id=OTHER_SELLER_ID),
        add(project, applicant, 502),
    ]
    assert not any("split" in keys(invoice) for invoice in invoices)


def test_twenty_digit_numbers_in_a_run_are_a_split(project, applicant):
    base = 25924000000001260160
    run = [
        add(project, applicant, str(base + i), kind=Invoice.Kind.DIGITAL, code="") for i in range(3)
    ]
    assert all("split" in keys(invoice) for invoice in run)


def test_keyword_in_the_item_names_or_the_seller(project, applicant):
    gift = add(project, applicant, 1, item_names="*工艺品*纪念礼品")
    risk = next(r for r in invoice_risks(gift) if r.key == "keyword")
    assert "“礼品”" in risk.reason and "不得用党费列支" in risk.reason
    travel = add(project, applicant, 11, seller_name="某某旅游有限公司")
    assert "keyword" in keys(travel)
    plain = add(project, applicant, 21, item_names="*纸制品*复印纸")
    assert "keyword" not in keys(plain)


def test_a_keyword_switched_off_or_out_of_scope_flags_nothing(project, applicant):
    RiskKeyword.objects.filter(word="礼品").update(active=False)
    gift = add(project, applicant, 1, item_names="*工艺品*纪念礼品")
    assert "keyword" not in keys(gift)
    RiskKeyword.objects.filter(word="旅游").update(scope=RiskKeyword.Scope.ITEMS)
    travel = add(project, applicant, 11, seller_name="某某旅游有限公司")
    assert "keyword" not in keys(travel)


def test_a_total_pushing_the_budget_line_past_its_amount(project, applicant):
    first = add(project, applicant, 1, total=Decimal("2000.00"), amount=Decimal("2000.00"))
    second = add(project, applicant, 11, total=Decimal("1500.00"), amount=Decimal("1500.00"))
    assert "over_line" not in keys(first)
    risk = next(r for r in invoice_risks(second) if r.key == "over_line")
    assert "¥3,500.00" in risk.reason and "¥3,000.00" in risk.reason


def test_same_seller_and_amount_on_two_projects_of_one_organisation_in_a_month(
    project, applicant, reviewer, leader, advance, org_a
):
    other = accepted_project_of(org_a, applicant, reviewer, leader, advance)
    one = add(project, applicant, 1, total=Decimal("880.00"), amount=Decimal("880.00"))
    two = add(other, applicant, 11, total=Decimal("880.00"), amount=Decimal("880.00"))
    assert "repeat" in keys(one) and "repeat" in keys(two)
    assert "另外 1 个项目" in next(r for r in invoice_risks(one) if r.key == "repeat").reason


def test_other_amount_or_other_month_is_not_a_repeat(
    project, applicant, reviewer, leader, advance, org_a
):
    other = accepted_project_of(org_a, applicant, reviewer, leader, advance)
    one = add(project, applicant, 1, total=Decimal("880.00"), amount=Decimal("880.00"))
    add(other, applicant, 11, total=Decimal("881.00"), amount=Decimal("881.00"))
    add(
        other,
        applicant,
        21,
        total=Decimal("880.00"),
        amount=Decimal("880.00"),
        issue_date=TODAY - datetime.timedelta(days=40),
    )
    assert "repeat" not in keys(one)


def test_same_seller_and_amount_in_another_organisation_is_not_a_repeat(
    project, applicant, outsider_applicant, outsider, org_b, leader, advance
):
    other = accepted_project_of(org_b, outsider_applicant, outsider, leader, advance)
    one = add(project, applicant, 1, total=Decimal("880.00"), amount=Decimal("880.00"))
    add(other, outsider_applicant, 11, total=Decimal("880.00"), amount=Decimal("880.00"))
    assert "repeat" not in keys(one)


def test_flags_never_block_finance_checks(project, applicant, finance):
    from projects.services.invoices import invoice_check

    flagged = add(project, applicant, 1, buyer_name="某商贸有限公司")
    invoice_check(invoice=flagged, actor=finance, qualified=True)
    assert Invoice.objects.get().check_status == Invoice.CheckStatus.QUALIFIED


# --- the filter on finance's list ------------------------------------------------------------


def test_filter_choices_select_exactly_the_flagged(project, applicant, client, finance):
    run = [add(project, applicant, n) for n in (500, 501, 502)]
    gift = add(project, applicant, 900, item_names="*工艺品*纪念礼品")
    plain = add(project, applicant, 950)
    assert set(risk_filter(Invoice.objects.all(), "split")) == set(run)
    assert list(risk_filter(Invoice.objects.all(), "keyword")) == [gift]
    client.force_login(finance)
    page = client.get(CHANGELIST, {"risk": "keyword"}).content.decode()
    assert gift.number in page and plain.number not in page and run[0].number not in page
    assert "风险提示" in page and "命中风险关键词" in page and "不得用党费列支" in page
    page = client.get(CHANGELIST, {"risk": "split"}).content.decode()
    assert all(invoice.number in page for invoice in run) and gift.number not in page


def _changelist_queries(client, params=None) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(CHANGELIST, params or {})
    assert response.status_code == 200
    return len(queries)


@pytest.mark.parametrize("params", [{}, {"risk": "split"}, {"risk": "repeat"}])
def test_changelist_queries_do_not_grow_with_invoices(project, applicant, client, finance, params):
    client.force_login(finance)
    for n in range(3):
        add(project, applicant, 100 + n * 2, item_names="*工艺品*礼品")
    few = _changelist_queries(client, params)
    for n in range(30):
        add(project, applicant, 2000 + n, item_names="*工艺品*礼品")
    assert _changelist_queries(client, params) == few


def _repeat_reason(invoice) -> str:
    return next(r for r in invoice_risks(invoice) if r.key == "repeat").reason


def test_the_repeat_reason_counts_each_other_project_once(
    project, applicant, reviewer, leader, advance, org_a
):
    # Two other projects, one of them with the same purchase twice: "另外 2 个项目".
    others = [accepted_project_of(org_a, applicant, reviewer, leader, advance) for _ in range(3)]
    one = add(project, applicant, 1, total=Decimal("880.00"), amount=Decimal("880.00"))
    add(others[0], applicant, 11, total=Decimal("880.00"), amount=Decimal("880.00"))
    add(others[0], applicant, 21, total=Decimal("880.00"), amount=Decimal("880.00"))
    add(others[1], applicant, 31, total=Decimal("880.00"), amount=Decimal("880.00"))
    assert "另外 2 个项目" in _repeat_reason(one)
    add(others[2], applicant, 41, total=Decimal("880.00"), amount=Decimal("880.00"))
    assert "另外 3 个项目" in _repeat_reason(one)


@pytest.mark.parametrize(
    ("first", "second", "repeat"),
    [
        ((1, 31), (2, 1), False),  # adjacent days, two months
        ((2, 1), (2, 28), True),  # the first and the last day of one month
        ((12, 31), (1, 1), False),  # across the new year
    ],
)
def test_a_repeat_is_within_one_calendar_month(
    project, applicant, reviewer, leader, advance, org_a, first, second, repeat
):
    year = TODAY.year - 1
    other = accepted_project_of(org_a, applicant, reviewer, leader, advance)
    day_one = datetime.date(year, *first)
    day_two = datetime.date(year + (second < first), *second)
    money = {"total": Decimal("880.00"), "amount": Decimal("880.00")}
    one = add(project, applicant, 1, issue_date=day_one, **money)
    two = add(other, applicant, 11, issue_date=day_two, **money)
    assert ("repeat" in keys(one), "repeat" in keys(two)) == (repeat, repeat)
    # The filter agrees with the flag.
    assert set(risk_filter(Invoice.objects.all(), "repeat")) == ({one, two} if repeat else set())
    if repeat:
        assert "另外 1 个项目" in _repeat_reason(one)


def _count_sql(client, params) -> tuple[str, str]:
    with CaptureQueriesContext(connection) as queries:
        page = client.get(CHANGELIST, params).content.decode()
    return next(q["sql"] for q in queries if "COUNT(" in q["sql"]), page


def test_the_changelist_count_skips_the_rules_joins_and_counts_the_same(
    project, applicant, reviewer, leader, advance, org_a, client, finance
):
    other = accepted_project_of(org_a, applicant, reviewer, leader, advance)
    for n in range(3):
        add(project, applicant, 100 + n * 10)
    add(other, applicant, 500, item_names="*工艺品*纪念礼品")
    client.force_login(finance)
    sql, page = _count_sql(client, {"check_status__exact": "pending"})
    assert "INNER JOIN" not in sql and "4 条" in page
    # A search and a rule still join what they read, and count the same rows as they show.
    sql, page = _count_sql(client, {"q": other.title, "check_status__exact": "pending"})
    assert "1 条" in page
    sql, page = _count_sql(client, {"risk": "keyword"})
    assert "1 条" in page
    sql, page = _count_sql(client, {"risk": "split"})
    assert "0 条" in page


def test_an_org_reviewers_count_keeps_the_scope(
    project, applicant, reviewer, outsider_applicant, outsider, org_b, leader, advance, client
):
    theirs = accepted_project_of(org_b, outsider_applicant, outsider, leader, advance)
    add(project, applicant, 1)
    add(project, applicant, 11)
    add(theirs, outsider_applicant, 21)
    client.force_login(reviewer)
    sql, page = _count_sql(client, {"check_status__exact": "pending"})
    assert "organization_id" in sql and "2 条" in page and "3 条" not in page


# --- the rules' subqueries are compiled once per shape ------------------------------------


def test_the_rules_cached_sql_is_the_sql_compiled_afresh(
    project, applicant, reviewer, leader, advance, org_a, client, finance
):
    """_CompiledOnce keeps each rule's subquery text by shape (database, aliases, outer
    columns): every page built from a warm cache, after other shapes, sends exactly the SQL
    compiled from a cold one, for the lists, searches, filters, orderings, scopes and pages."""
    from django.urls import reverse

    from projects.selectors.invoices import _CompiledOnce

    other = accepted_project_of(org_a, applicant, reviewer, leader, advance)
    invoice = add(project, applicant, 1, item_names="*工艺品*纪念礼品")
    add(other, applicant, 11)
    pages = [(finance, CHANGELIST, {})]
    pages += [(finance, CHANGELIST, {"risk": key}) for key, _ in RULES]
    pages += [
        (finance, CHANGELIST, {"q": other.title, "check_status__exact": "pending"}),
        (finance, CHANGELIST, {"o": "-3", "project__id__exact": project.pk}),
        (reviewer, CHANGELIST, {"risk": "repeat"}),
        (reviewer, CHANGELIST, {}),
        (leader, reverse("admin:projects_project_change", args=[project.pk]), {}),
        (reviewer, reverse("admin:projects_project_change", args=[other.pk]), {}),
        (finance, reverse("admin:projects_invoice_change", args=[invoice.pk]), {}),
    ]

    def invoice_sql(user, url, params) -> list[str]:
        client.force_login(user)
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url, params).status_code == 200
        return [q["sql"] for q in queries if "risk_" in q["sql"] or "COUNT(" in q["sql"]]

    # A queryset that joins the projects through another path first: the rules' outer
    # columns then name other aliases (T4 …), and must not reuse the text of the first.
    via_line = Invoice.objects.annotate(line_project=F("budget_line__project__code"))

    def rows(queryset) -> list:
        return [(i.pk, keys(i), i.risk_repeat_count) for i in with_risks(queryset).order_by("pk")]

    cold = []
    for page in pages:
        _CompiledOnce._compiled.clear()
        cold.append(invoice_sql(*page))
    _CompiledOnce._compiled.clear()
    cold_rows = rows(via_line), rows(Invoice.objects.all())
    assert all(cold) and _CompiledOnce._compiled
    warm = [invoice_sql(*page) for page in reversed(pages)][::-1]
    assert warm == cold
    assert (rows(Invoice.objects.all()), rows(via_line))[::-1] == cold_rows
    assert cold_rows[0] == cold_rows[1] and "keyword" in cold_rows[0][0][1]
