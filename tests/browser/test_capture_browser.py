"""In a real browser (issue 12): an invoice captured by a scanner's payload + Enter (the
Enter reads, it does not submit), another by uploading its XML, another from a PDF with its
QR; then finance sees the risk flags with their reasons and filters on them."""

import pytest
from django.utils import timezone

from projects.models.money import Invoice, RiskKeyword
from tests.browser.conftest import login
from tests.browser.test_csp import watch_console
from tests.browser.test_money_browser import _accepted
from tests.factories import PASSWORD
from tests.projects.capture import makers

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
TODAY = timezone.localdate()


def _payload(number):
    return f"01,31,,{number},112.00,{TODAY:%Y%m%d},,8924"


def _wait_read(page):
    page.wait_for_selector("#capture-status .capture-ok")


def test_capture_three_ways_then_finance_sees_the_flags(
    page, live_server, org_a, applicant, reviewer, leader, finance, screenshot, tmp_path
):
    RiskKeyword.objects.get_or_create(word="礼品", defaults={"reason": "礼品不得用党费列支"})
    project = _accepted(org_a, applicant, reviewer, leader)
    line = project.budget_lines.get()
    add_url = f"{live_server.url}/admin/projects/invoice/add/?project={project.pk}"
    problems = watch_console(page)  # the capture script runs under the strict CSP
    login(page, live_server, applicant.username, PASSWORD)

    # 1. The scanner types the payload and presses Enter: the fields fill, nothing is saved.
    page.goto(add_url)
    page.click("#id_capture_payload")
    page.keyboard.type(_payload("25924000000001260101"))
    page.keyboard.press("Enter")
    _wait_read(page)
    assert page.input_value("#id_number") == "25924000000001260101"
    assert page.input_value("#id_total") == "112.00"
    assert not Invoice.objects.exists()  # Enter did not submit the half-filled form
    page.fill("#id_amount", "105.66")
    page.fill("#id_tax", "6.34")
    page.fill("#id_seller_name", makers.SELLER)
    page.fill("#id_seller_tax_id", makers.SELLER_ID)
    page.fill("#id_buyer_name", project.organization.name)
    page.select_option("#id_budget_line", str(line.pk))
    screenshot("capture-payload-filled")
    page.click("input[name=_save]")
    page.wait_for_selector("text=成功")
    assert Invoice.objects.get().capture_source == "qr"

    # 2. The 数电 XML: every field fills, the budget line is suggested, taken by one click.
    xml = tmp_path / "dzfp_25924000000001260202.xml"
    xml.write_bytes(
        makers.einvoice_xml(
            "25924000000001260202",
            issue_time=TODAY.isoformat(),
            buyer=project.organization.name,
            items=("*纸制品*复印纸", "*工艺品*纪念礼品"),
        )
    )
    page.goto(add_url)
    page.set_input_files("#id_capture_file", str(xml))
    _wait_read(page)
    assert page.input_value("#id_seller_tax_id") == makers.SELLER_ID
    assert page.input_value("#id_budget_line") == ""  # suggested, never chosen silently
    page.click("[data-capture-suggest]")
    assert page.input_value("#id_budget_line") == str(line.pk)
    page.click("input[name=_save]")
    page.wait_for_selector("text=成功")
    xml_invoice = Invoice.objects.get(number="25924000000001260202")
    assert xml_invoice.capture_source == "xml" and xml_invoice.scan is not None

    # 3. A PDF with its QR (and its text for seller, buyer and amounts).
    number = "25924000000001260303"
    lines = makers.invoice_lines(
        buyer=project.organization.name, number=number, issued=f"{TODAY:%Y年%m月%d日}"
    )
    pdf = tmp_path / "发票.pdf"
    pdf.write_bytes(makers.invoice_pdf((_payload(number),), lines))
    page.goto(add_url)
    page.set_input_files("#id_capture_file", str(pdf))
    _wait_read(page)
    assert page.input_value("#id_number") == number
    assert page.input_value("#id_seller_name") == makers.SELLER
    page.select_option("#id_budget_line", str(line.pk))
    screenshot("capture-pdf-filled")
    page.click("input[name=_save]")
    page.wait_for_selector("text=成功")
    assert Invoice.objects.get(number=number).capture_source.startswith("pdf")

    # 4. Finance: the flags with their reasons, and the 风险提示 filter.
    page.context.clear_cookies()
    login(page, live_server, finance.username, PASSWORD)
    page.goto(f"{live_server.url}/admin/projects/invoice/")
    text = page.content()
    assert "命中风险关键词" in text and "礼品不得用党费列支" in text
    page.click("#changelist-filter a:has-text('命中风险关键词')")
    page.wait_for_url("**risk=keyword**")
    rows = page.locator("#result_list tbody tr")
    assert rows.count() == 1 and "25924000000001260202" in rows.first.inner_text()
    screenshot("capture-finance-risk-filter")
    assert problems == []
