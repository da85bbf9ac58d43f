"""The money pages: admin (invoices, finance's check, disbursements), prints, xlsx, ledgers,
the import upload, dashboard panels; scoping, query counts, formula-safe exports."""

from decimal import Decimal
from io import BytesIO

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import Workbook, load_workbook

from projects.models import Project
from projects.models.money import Disbursement, Invoice
from projects.services import apply_transition
from projects.services.invoice_imports import COLUMNS
from tests.projects import fixtures_money
from tests.projects.fixtures_money import (
    add_invoices,
    check_all,
    invoice_data,
    request_and_approve,
    settle_decision,
)

pytestmark = pytest.mark.django_db
accepted = fixtures_money.accepted


@pytest.fixture
def settled(accepted, applicant, reviewer, leader, finance, advance):
    invoices = add_invoices(accepted, applicant, Decimal("1000.00"), Decimal("1345.67"))
    check_all(invoices, finance, unqualified=invoices[:1])
    project = request_and_approve(
        accepted, reviewer=reviewer, leader=leader, limit="2345.67", advance=advance
    )
    return apply_transition(project, "settle", actor=finance, **settle_decision(project))


def url(name, *args):
    return reverse(f"projects:{name}", args=args)


def xlsx_of(response):
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    return load_workbook(BytesIO(response.content))


def test_settlement_sheet_prints_the_amount_in_capitals(client, settled, reviewer):
    client.force_login(reviewer)
    page = client.get(url("settlement_sheet", settled.pk))
    text = page.content.decode()
    assert page.status_code == 200
    assert "人民币壹仟叁佰肆拾伍元陆角柒分" in text and "¥1,345.67" in text
    book = xlsx_of(client.get(url("settlement_sheet", settled.pk) + "?format=xlsx"))
    values = {row[0]: row[1] for row in book["结算单"].iter_rows(values_only=True)}
    assert values["结算金额"] == 1345.67  # a number, not text
    assert values["结算金额(大写)"] == "人民币壹仟叁佰肆拾伍元陆角柒分"


def test_final_accounts_page_and_xlsx(client, settled, reviewer, django_assert_max_num_queries):
    client.force_login(reviewer)
    # 8, and the first print's issued version (issue 13): look-up, savepoint, insert, release.
    with django_assert_max_num_queries(8 + 4):
        page = client.get(url("final_accounts", settled.pk))
    assert "决算清单" in page.content.decode() and "¥2,345.67" in page.content.decode()
    book = xlsx_of(client.get(url("final_accounts", settled.pk) + "?format=xlsx"))
    last = list(book.active.iter_rows(values_only=True))[-1]
    assert last[0] == "合计" and last[3] == 2345.67


def test_other_organisation_gets_404_everywhere(client, settled, outsider, org_a):
    client.force_login(outsider)
    for address in (
        url("final_accounts", settled.pk),
        url("settlement_sheet", settled.pk),
        url("invoice_import", settled.pk),
        url("invoice_import_template", settled.pk),
        url("sub_ledger", settled.year, org_a.pk),
    ):
        assert client.get(address).status_code == 404, address
    # The pool is nobody's object: a page scoped roles may not use at all.
    assert client.get(url("pool_ledger", settled.year)).status_code == 403
    # DESIGN §5: a guessed URL to another organisation's row is a 404, in the admin too.
    change = reverse("admin:projects_invoice_change", args=[Invoice.objects.first().pk])
    assert client.get(change).status_code == 404


def test_ledgers_on_screen_and_in_xlsx(client, settled, finance, org_a, reviewer):
    client.force_login(finance)
    page = client.get(url("pool_ledger", settled.year))
    assert page.status_code == 200 and "¥98,654.33" in page.content.decode()  # 100,000 − settled
    book = xlsx_of(client.get(url("pool_ledger", settled.year) + "?format=xlsx"))
    summary = dict(book.active.iter_rows(min_row=2, values_only=True))
    assert summary["剩余额度"] == 98654.33
    client.force_login(reviewer)  # an org sees its own sub-ledger, not the pool's
    assert client.get(url("sub_ledger", settled.year, org_a.pk)).status_code == 200
    assert client.get(url("pool_ledger", settled.year)).status_code == 403


def test_exported_cells_never_become_formulas(client, settled, finance, org_a):
    type(org_a).objects.filter(pk=org_a.pk).update(name='=HYPERLINK("http://evil")')
    Project.objects.filter(pk=settled.pk).update(title="@SUM(A1)")
    client.force_login(finance)
    book = xlsx_of(client.get(url("pool_ledger", settled.year) + "?format=xlsx"))
    names = [row[0] for row in book["分户汇总"].iter_rows(min_row=2, values_only=True)]
    assert names[0] == '\'=HYPERLINK("http://evil")'
    sheet = xlsx_of(client.get(url("settlement_sheet", settled.pk) + "?format=xlsx"))["结算单"]
    assert sheet["B3"].value == "'@SUM(A1)"
    for book_sheet in (*book.worksheets, sheet):
        for row in book_sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f"


def test_import_upload_preview_and_confirm(client, accepted, applicant):
    client.force_login(applicant)
    workbook = Workbook()
    workbook.active.append(list(COLUMNS))
    for i in range(3):
        workbook.active.append(
            [
                "3100231130",
                f"5000000{i}",
                timezone.localdate(),
                "示例公司",
                "91350100M000100Y43",
                accepted.organization.name,
                100,
                0,
                100,
                "增值税普通发票",
                1,
            ]
        )
    buffer = BytesIO()
    workbook.save(buffer)
    buffer.seek(0)
    buffer.name = "发票.xlsx"
    preview = client.post(url("invoice_import", accepted.pk), {"file": buffer})
    assert preview.status_code == 200 and not Invoice.objects.exists()
    token = preview.context["token"]
    done = client.post(
        url("invoice_import", accepted.pk),
        {"token": token, "sha256": preview.context["result"].sha256},
    )
    assert done.status_code == 302 and Invoice.objects.count() == 3
    again = client.post(
        url("invoice_import", accepted.pk),
        {"token": token, "sha256": preview.context["result"].sha256},
    )  # doubled post
    assert "已过期" in again.content.decode() and Invoice.objects.count() == 3


def test_import_rejects_garbage_without_500(client, accepted, applicant):
    client.force_login(applicant)
    bogus = BytesIO(b"PK\x03\x04 not really")
    bogus.name = "x.xlsx"
    page = client.post(url("invoice_import", accepted.pk), {"file": bogus})
    assert page.status_code == 200 and "无法读取" in page.content.decode()
    text = BytesIO(b"a,b")
    text.name = "x.csv"
    assert (
        ".xlsx" in client.post(url("invoice_import", accepted.pk), {"file": text}).content.decode()
    )
    assert "请选择" in client.post(url("invoice_import", accepted.pk), {}).content.decode()
    assert client.get(url("invoice_import_template", accepted.pk)).status_code == 200


def _admin_invoice_post(project, **overrides):
    data = invoice_data(project)
    post = {
        **{k: v for k, v in data.items() if k != "budget_line"},
        "project": project.pk,
        "budget_line": data["budget_line"].pk,
        "issue_date": data["issue_date"].isoformat(),
    }
    post.update(overrides)
    return post


def test_invoice_admin_add_and_duplicate_message(client, accepted, applicant):
    client.force_login(applicant)
    add = reverse("admin:projects_invoice_add")
    post = _admin_invoice_post(accepted)
    assert client.post(add, post).status_code == 302
    assert Invoice.objects.count() == 1
    again = client.post(add, {**post, "number": " " + post["number"]})
    assert again.status_code == 200 and "只能报销一次" in again.content.decode()
    bad = client.post(add, {**post, "number": "123", "total": "5"})
    assert "8位数字" in bad.content.decode() and Invoice.objects.count() == 1


def test_finance_checks_in_the_admin_and_the_leader_then_cannot_edit(
    client, accepted, applicant, finance
):
    (invoice,) = add_invoices(accepted, applicant, Decimal("100.00"))
    client.force_login(finance)
    changelist = reverse("admin:projects_invoice_changelist")
    page = client.post(changelist, {"action": "mark_unqualified", "_selected_action": [invoice.pk]})
    assert "不合格原因" in page.content.decode()
    client.post(
        changelist,
        {"action": "mark_unqualified", "_selected_action": [invoice.pk], "reason": "抬头不符"},
    )
    invoice.refresh_from_db()
    assert invoice.check_status == "unqualified" and invoice.check_reason == "抬头不符"
    client.force_login(applicant)
    change = reverse("admin:projects_invoice_change", args=[invoice.pk])
    client.post(change, _admin_invoice_post(accepted, number=invoice.number, total="1"))
    invoice.refresh_from_db()
    assert invoice.total == Decimal("100.00")


@pytest.mark.parametrize("count", [2, 25])
def test_invoice_changelist_queries_do_not_grow(
    client, accepted, applicant, finance, count, django_assert_max_num_queries
):
    add_invoices(accepted, applicant, *[Decimal("10.00")] * count)
    client.force_login(finance)
    with django_assert_max_num_queries(12):
        page = client.get(reverse("admin:projects_invoice_changelist"))
    assert page.status_code == 200


def test_disbursements_cannot_be_added_changed_or_deleted(client, settled, finance):
    row = Disbursement.objects.get(project=settled)
    client.force_login(finance)
    assert client.get(reverse("admin:projects_disbursement_add")).status_code == 403
    delete = reverse("admin:projects_disbursement_delete", args=[row.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403
    change = client.post(
        reverse("admin:projects_disbursement_change", args=[row.pk]), {"amount": "1"}
    )
    assert change.status_code == 403
    row.refresh_from_db()
    assert row.amount == Decimal("1345.67")


def test_reversal_page(client, settled, finance):
    row = Disbursement.objects.get(project=settled)
    client.force_login(finance)
    address = reverse("admin:projects_disbursement_reverse", args=[row.pk])
    assert "请填写冲销原因" not in client.get(address).content.decode()
    bad = client.post(
        address,
        {"voucher_number": row.voucher_number, "voucher_date": "2026-01-01", "reason": "错误"},
    )
    assert "不能重复" in bad.content.decode()
    done = client.post(
        address, {"voucher_number": "R-9", "voucher_date": "2026-01-01", "reason": "账号错误"}
    )
    assert done.status_code == 302
    assert Disbursement.objects.get(reverses=row).amount == -row.amount


def test_dashboard_panels(client, settled, accepted, finance, leader, reviewer):
    client.force_login(finance)
    text = client.get(reverse("admin:index")).content.decode()
    assert "待审核的发票" in text and "待结算拨付" in text
    client.force_login(leader)
    assert "待审批拨付" in client.get(reverse("admin:index")).content.decode()
    client.force_login(reviewer)
    assert "已验收待报决算" in client.get(reverse("admin:index")).content.decode()


def test_project_page_shows_invoices_and_links(client, settled, reviewer):
    client.force_login(reviewer)
    page = client.get(reverse("admin:projects_project_change", args=[settled.pk]))
    text = page.content.decode()
    assert page.status_code == 200
    assert "结算单" in text and "抬头不符" in text and "分户账" in text
    assert "从 Excel 导入发票" not in text  # settled: no more invoices


def test_corrected_payment_page_after_a_reversal(client, settled, finance, leader):
    row = Disbursement.objects.get(project=settled)
    client.force_login(finance)
    client.post(
        reverse("admin:projects_disbursement_reverse", args=[row.pk]),
        {"voucher_number": "R-9", "voucher_date": "2026-01-01", "reason": "账号错误"},
    )
    address = reverse("admin:projects_disbursement_record", args=[settled.pk])
    form = client.get(address)
    assert form.status_code == 200 and settled.organization.bank_account in form.content.decode()
    post = {
        "voucher_number": "C-1",
        "voucher_date": "2026-01-02",
        "payment_method": "allocation",
        "payee_name": "甲社区党支部",
        "payee_bank": "测试银行",
        "payee_account": "6222000000000002",
    }
    too_much = client.post(address, {**post, "amount": "1345.68"})
    assert "超出可拨付余额" in too_much.content.decode()
    assert client.post(address, {**post, "amount": "1345.67"}).status_code == 302
    assert sum(d.amount for d in Disbursement.objects.filter(project=settled)) == Decimal("1345.67")
    client.force_login(leader)  # sees the project but is not finance: refused
    assert client.get(address).status_code == 403


# --- issue 10: the invoice form's money, and 改判 as an explicit step ----------------------


def test_invoice_admin_form_reads_money_like_the_import(client, accepted, applicant):
    client.force_login(applicant)
    add = reverse("admin:projects_invoice_add")
    post = _admin_invoice_post(accepted, amount="1,000.00", tax="0.00", total="1,000.00")
    assert client.post(add, post).status_code == 302
    assert Invoice.objects.get().total == Decimal("1000.00")
    for bad in ("1e3", "+100", "1_000", "١٠٠٠", "12.345"):
        page = client.post(add, _admin_invoice_post(accepted, amount=bad, total=bad))
        assert page.status_code == 200 and "金额" in page.content.decode()
    assert Invoice.objects.count() == 1


def test_decided_check_changes_only_through_the_recheck_page(client, accepted, applicant, finance):
    from projects.models import ProjectHistory
    from projects.services import events

    (invoice,) = add_invoices(accepted, applicant, Decimal("100.00"))
    client.force_login(finance)
    changelist = reverse("admin:projects_invoice_changelist")
    client.post(changelist, {"action": "mark_qualified", "_selected_action": [invoice.pk]})
    invoice.refresh_from_db()
    assert invoice.check_status == "qualified"
    # The action again, the other way: refused with a pointer to 改判.
    page = client.post(
        changelist,
        {"action": "mark_unqualified", "_selected_action": [invoice.pk], "reason": "抬头不符"},
        follow=True,
    )
    assert "改判" in page.content.decode()
    invoice.refresh_from_db()
    assert invoice.check_status == "qualified"
    # The change form shows the check read-only and offers the 改判 button.
    change = reverse("admin:projects_invoice_change", args=[invoice.pk])
    recheck = reverse("admin:projects_invoice_recheck", args=[invoice.pk])
    page = client.get(change).content.decode()
    assert recheck in page and 'name="check_status"' not in page
    client.post(change, {"check_status": "unqualified", "check_reason": "x"})
    invoice.refresh_from_db()
    assert invoice.check_status == "qualified"
    # 改判 without a reason: the form says so; with one: done, as its own event.
    page = client.post(recheck, {"conclusion": "unqualified", "reason": ""})
    assert page.status_code == 200 and "这个字段是必填项" in page.content.decode()
    assert (
        client.post(recheck, {"conclusion": "unqualified", "reason": "复核不符"}).status_code == 302
    )
    invoice.refresh_from_db()
    assert (invoice.check_status, invoice.check_reason) == ("unqualified", "复核不符")
    event = ProjectHistory.objects.filter(project=accepted).order_by("-seq").first()
    assert (
        event.transition == "invoice_recheck"
        and event.data["before"]["check_status"] == "qualified"
    )
    assert events.verify().ok
    # Who may not check may not open the page either.
    client.force_login(applicant)
    assert client.get(recheck).status_code == 403
    assert recheck not in client.get(change).content.decode()
