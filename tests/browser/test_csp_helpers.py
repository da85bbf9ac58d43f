"""static/dangfei/csp.js: the data-attribute replacements for inline handlers work under the
CSP (a print button, a select that submits its form)."""

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_data_print_and_data_autosubmit_work_under_the_csp(page, live_server):
    page.goto(f"{live_server.url}/admin/login/")  # any page of the site: its CSP applies
    page.evaluate("window.print = () => { window.__printed = true; }")
    page.add_script_tag(url=f"{live_server.url}/static/dangfei/csp.js")
    page.evaluate(
        """document.body.insertAdjacentHTML('beforeend',
        '<button type="button" id="p" data-print>打印</button>' +
        '<form id="f" method="get" action="/admin/login/"><select name="year" id="y" ' +
        'data-autosubmit><option>2025</option><option>2026</option></select></form>')"""
    )
    page.click("#p")
    assert page.evaluate("window.__printed") is True
    with page.expect_navigation():
        page.select_option("#y", "2026")
    assert page.url.endswith("year=2026")
