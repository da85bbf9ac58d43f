"""Two-factor sign-in in Chromium: a leadership account without a second factor reaches
only the enrolment page, binds an authenticator (codes from pyotp, as a phone computes
them), logs out, logs in with a code, and is refused with a wrong one. No CSP violation."""

import re
import time

import pytest

from tests.browser.test_csp import watch_console
from tests.factories import PASSWORD
from tests.otp import totp

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def password_step(page, live_server, username):
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    with page.expect_navigation():
        page.click("input[type=submit]")


def submit_code(page, code):
    page.fill("#id_code", code)
    with page.expect_navigation():
        page.click("#twofactor-form input[type=submit]")


def log_out(page):
    with page.expect_navigation():
        page.click("#logout-form button")


def test_enrol_log_out_log_in_with_a_code_and_fail_with_a_wrong_one(
    page, live_server, leader, screenshot
):
    problems = watch_console(page)
    password_step(page, live_server, leader.username)
    assert "/admin/signin/enrol/" in page.url
    # Any other page of the back-office leads back to the enrolment page.
    page.goto(f"{live_server.url}/admin/projects/project/")
    assert "/admin/signin/enrol/" in page.url
    assert "必须启用双重验证" in page.inner_text("#content")
    qr = page.locator(".twofactor-qr svg")
    assert qr.is_visible() and qr.bounding_box()["width"] > 100
    screenshot("twofactor-enrol")
    secret = page.inner_text(".twofactor-secret")
    authenticator = totp(secret)

    submit_code(page, authenticator.now())
    assert "双重验证已启用" in page.inner_text("#content")
    codes = page.locator(".twofactor-codes code").all_inner_texts()
    assert len(codes) == 10
    screenshot("twofactor-recovery-codes")
    # On to the page that was asked for before the enrolment.
    with page.expect_navigation():
        page.click("text=我已保存恢复码,继续")
    assert page.url == f"{live_server.url}/admin/projects/project/"
    log_out(page)

    # A new sign-in: password, then the code step; the code of the next time step (the
    # current one was used for the enrolment, and django-otp refuses a code twice).
    password_step(page, live_server, leader.username)
    assert "/admin/signin/code/" in page.url
    screenshot("twofactor-code-step")
    submit_code(page, authenticator.at(time.time(), counter_offset=1))
    page.wait_for_selector(".dashboard-who")
    assert leader.display_name in page.inner_text(".dashboard-who")
    log_out(page)

    # A wrong code: refused in Chinese, still on the code step, nothing reachable.
    password_step(page, live_server, leader.username)
    right = {authenticator.at(time.time(), counter_offset=k) for k in (-1, 0, 1, 2, 3)}
    wrong = next(f"{n:06d}" for n in range(1_000_000) if f"{n:06d}" not in right)
    submit_code(page, wrong)
    assert "/admin/signin/code/" in page.url
    assert "验证码不正确" in page.inner_text(".errornote")
    page.goto(f"{live_server.url}/admin/")
    assert re.search(r"/admin/login/", page.url)
    assert [p for p in problems if "favicon" not in p] == []
