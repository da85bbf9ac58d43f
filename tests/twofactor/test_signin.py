"""Two-factor sign-in: the code step after the password, enrolment, recovery codes, the
throttle over both steps, the mandatory roles, and the reset by a superuser."""

import re
import time

import pytest
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import User
from projects.models import ProjectHistory
from projects.services.events import verify
from tests.factories import PASSWORD
from tests.otp import enrol, fresh_code, secret_of, totp

pytestmark = pytest.mark.django_db

MANDATORY = ["leadership", "finance", "superuser"]


@pytest.fixture(autouse=True)
def _mandatory_for_the_money_roles(settings):
    settings.TWO_FACTOR_REQUIRED_ROLES = MANDATORY


def password_step(client, user, password=PASSWORD, next_url="/admin/"):
    return client.post(
        f"/admin/login/?next={next_url}",
        {"username": user.username, "password": password, "next": next_url},
    )


def code_step(client, code, next_url="/admin/"):
    return client.post("/admin/signin/code/", {"code": code, "next": next_url})


def signed_in(client) -> bool:
    return client.get("/admin/").status_code == 200


# --- the code step ---------------------------------------------------------------------


def test_the_password_alone_does_not_sign_in_an_enrolled_account(client, leader):
    enrol(leader)
    response = password_step(client, leader)
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/signin/code/")
    assert "_auth_user_id" not in client.session  # not logged in yet
    assert client.get("/admin/").status_code == 302
    page = client.get(response["Location"])
    assert "第二步:双重验证" in page.content.decode()


def test_a_valid_code_completes_the_sign_in(client, leader):
    device = enrol(leader)
    password_step(client, leader)
    response = code_step(client, fresh_code(device))
    assert response.status_code == 302 and response["Location"] == "/admin/"
    assert signed_in(client)
    assert client.session["otp_device_id"] == device.persistent_id


def test_a_wrong_code_is_refused_in_chinese_and_signs_nothing_in(client, finance):
    device = enrol(finance)
    password_step(client, finance)
    right = fresh_code(device)
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"
    response = code_step(client, wrong)
    assert response.status_code == 200
    assert "验证码不正确" in response.content.decode()
    assert "_auth_user_id" not in client.session
    assert client.get("/admin/").status_code == 302


def test_a_code_is_accepted_only_once(client, leader):
    device = enrol(leader)
    password_step(client, leader)
    code = fresh_code(device)
    assert code_step(client, code).status_code == 302
    client.logout()
    password_step(client, leader)
    response = code_step(client, code)
    assert response.status_code == 200 and "验证码不正确" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_the_code_step_without_a_password_first_goes_back_to_the_login(client, leader):
    device = enrol(leader)
    response = code_step(client, fresh_code(device))
    assert response.status_code == 302 and response["Location"].startswith("/admin/login/")
    assert "_auth_user_id" not in client.session


def test_a_recovery_code_works_once(client, leader):
    client.force_login(leader)
    codes = complete_enrolment(client)
    client.logout()
    password_step(client, leader)
    response = code_step(client, codes[0])
    assert response.status_code == 302 and signed_in(client)
    assert StaticToken.objects.filter(device__user=leader).count() == len(codes) - 1
    client.logout()
    password_step(client, leader)
    response = code_step(client, codes[0])
    assert response.status_code == 200 and "验证码不正确" in response.content.decode()
    assert not signed_in(client)
    # Right after a failure the recovery codes wait a moment (django-otp doubles the wait
    # after each successive failure); then another, unused one works.
    response = code_step(client, codes[1])
    assert "尝试过于频繁" in response.content.decode() and not signed_in(client)
    time.sleep(1.1)
    assert code_step(client, codes[1]).status_code == 302 and signed_in(client)


def test_five_failures_over_both_steps_lock_the_account_even_for_the_right_code(
    client, settings, leader
):
    settings.AXES_FAILURE_LIMIT = 5
    device = enrol(leader)
    # Two wrong passwords, then three wrong codes: one counter (django-axes) for both steps.
    for _ in range(2):
        assert password_step(client, leader, password="not-the-password").status_code == 200
    password_step(client, leader)
    responses = [code_step(client, "000000") for _ in range(3)]
    assert [r.status_code for r in responses[:2]] == [200, 200]
    assert responses[2].status_code == 429
    assert "登录已暂时锁定" in responses[2].content.decode()
    # The right code does not get in now, nor does the right password.
    assert code_step(client, fresh_code(device)).status_code == 429
    assert not signed_in(client)
    assert password_step(client, leader).status_code == 429


def test_a_right_password_does_not_clear_the_code_failures(client, settings, leader):
    """The counter is cleared only by a complete sign-in: entering the password again
    between wrong codes does not give an attacker new guesses."""
    settings.AXES_FAILURE_LIMIT = 3
    enrol(leader)
    for _ in range(2):
        password_step(client, leader)
        assert code_step(client, "000000").status_code == 200
    password_step(client, leader)
    assert code_step(client, "000000").status_code == 429


# --- enrolment and the mandatory roles -------------------------------------------------


def complete_enrolment(client) -> list[str]:
    page = client.get("/admin/signin/enrol/").content.decode()
    secret = re.search(r'class="twofactor-secret">([A-Z2-7 ]+)<', page).group(1)
    response = client.post("/admin/signin/enrol/", {"code": totp(secret).now()})
    assert response.status_code == 200
    html = response.content.decode()
    assert "双重验证已启用" in html
    return re.findall(r"<li><code>([a-z0-9]+)</code></li>", html)


@pytest.mark.parametrize("role_user", ["leader", "finance", "superuser"])
def test_a_mandatory_account_without_a_device_reaches_only_the_enrolment_page(
    client, request, role_user, work_committee
):
    if role_user == "superuser":
        user = User.objects.create_superuser("root", "r@example.org", PASSWORD)
    else:
        user = request.getfixturevalue(role_user)
    response = password_step(client, user)
    assert response.status_code == 302  # logged in with the password …
    for url in (
        "/admin/",
        "/admin/projects/project/",
        "/admin/accounts/user/",
        "/admin/projects/project/add/",
    ):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith("/admin/signin/enrol/"), url
    assert client.post("/admin/projects/project/add/", {}).status_code == 302
    page = client.get("/admin/signin/enrol/")
    html = page.content.decode()
    assert page.status_code == 200 and "必须启用双重验证" in html
    assert "<svg" in html and "otpauth" not in html  # the QR is drawn, the address not shown
    assert "style=" not in html and "<script>" not in html  # fits the strict CSP
    assert "default-src 'self'" in page["Content-Security-Policy"]
    assert client.get("/admin/logout/").status_code in (200, 302, 405)


def test_enrolment_confirms_with_a_first_code_and_shows_ten_recovery_codes(client, leader):
    client.force_login(leader)
    page = client.get("/admin/signin/enrol/").content.decode()
    secret = re.search(r'class="twofactor-secret">([A-Z2-7 ]+)<', page).group(1)
    # A wrong first code binds nothing.
    response = client.post("/admin/signin/enrol/", {"code": "123456"})
    if totp(secret).verify("123456"):  # one chance in a million
        pytest.skip("the random secret made 123456 right")
    assert "验证码不正确" in response.content.decode()
    assert not TOTPDevice.objects.filter(user=leader, confirmed=True).exists()
    assert client.get("/admin/").status_code == 302
    # Reloading keeps the same secret (the same QR) until it is confirmed.
    again = client.get("/admin/signin/enrol/").content.decode()
    assert secret in again
    time.sleep(1.1)  # django-otp makes the next try wait a second after a wrong code
    codes = complete_enrolment(client)
    assert len(codes) == 10 and len(set(codes)) == 10
    assert TOTPDevice.objects.get(user=leader).confirmed
    assert signed_in(client)  # this session showed a code: it may go on


def test_applicants_and_reviewers_may_enrol_and_then_need_a_code(client, applicant, reviewer):
    for user in (applicant, reviewer):
        client.force_login(user)
        assert signed_in(client)  # not mandatory: no redirect without a device
        assert "双重验证" in client.get("/admin/").content.decode()  # the link to enrol
        complete_enrolment(client)
        client.logout()
        response = password_step(client, user)
        assert response["Location"].startswith("/admin/signin/code/")
        device = TOTPDevice.objects.get(user=user)
        assert code_step(client, fresh_code(device)).status_code == 302 and signed_in(client)
        client.logout()


def test_an_old_password_only_session_of_an_enrolled_account_must_show_a_code(client, leader):
    device = enrol(leader)
    client.force_login(leader)  # a session from before the account had a device
    response = client.get("/admin/projects/project/")
    assert response["Location"].startswith("/admin/signin/code/")
    response = client.post(
        "/admin/signin/code/", {"code": fresh_code(device), "next": "/admin/projects/project/"}
    )
    assert response["Location"] == "/admin/projects/project/"
    assert client.get("/admin/projects/project/").status_code == 200


def test_the_code_step_refuses_to_redirect_off_site(client, leader):
    device = enrol(leader)
    password_step(client, leader)
    response = code_step(client, fresh_code(device), next_url="https://evil.example/")
    assert response["Location"] == "/admin/"


# --- reset by a superuser --------------------------------------------------------------


def test_a_superuser_resets_a_lost_second_factor_and_it_is_recorded(client, leader, finance):
    root = User.objects.create_superuser("root", "r@example.org", PASSWORD)
    enrol(root)
    device = enrol(leader)
    StaticToken.objects.create(
        device=leader.staticdevice_set.create(name="恢复码", confirmed=True), token="abc12345"
    )
    client.force_login(root)
    client.post("/admin/signin/code/", {"code": fresh_code(TOTPDevice.objects.get(user=root))})
    response = client.post(
        "/admin/accounts/user/",
        {"action": "reset_second_factor", "_selected_action": [leader.pk]},
        follow=True,
    )
    assert "已重置 1 个用户的双重验证" in response.content.decode()
    assert not TOTPDevice.objects.filter(pk=device.pk).exists()
    assert not leader.staticdevice_set.exists()
    event = ProjectHistory.objects.get(transition="second_factor_reset")
    assert event.actor == root and event.project is None
    assert event.data["username"] == leader.username and event.data["devices_removed"] == 2
    assert "重置双重验证" in event.opinion
    assert verify().ok  # chained and signed like every other event
    # The leader is back to the enrolment page at the next login.
    client.logout()
    password_step(client, leader)
    assert client.get("/admin/")["Location"].startswith("/admin/signin/enrol/")


def test_only_a_superuser_may_reset(client, settings, leader, finance):
    from twofactor.reset import ResetRefused, second_factor_reset

    settings.TWO_FACTOR_REQUIRED_ROLES = []
    enrol(finance)
    with pytest.raises(ResetRefused):
        second_factor_reset(actor=leader, user=finance)
    assert TOTPDevice.objects.filter(user=finance).exists()
    assert not ProjectHistory.objects.exists()
    client.force_login(leader)
    page = client.get("/admin/accounts/user/").content.decode()
    assert "reset_second_factor" not in page
    client.post(
        "/admin/accounts/user/",
        {"action": "reset_second_factor", "_selected_action": [finance.pk]},
    )
    assert TOTPDevice.objects.filter(user=finance).exists()
    assert secret_of(TOTPDevice.objects.get(user=finance))


def test_no_admin_page_shows_or_adds_someone_elses_authenticator(client):
    from django.contrib import admin
    from django_otp.plugins.otp_static.models import StaticDevice

    assert not admin.site.is_registered(TOTPDevice)
    assert not admin.site.is_registered(StaticDevice)
    root = User.objects.create_superuser("root", "r@example.org", PASSWORD)
    enrol(root)
    client.force_login(root)
    client.post("/admin/signin/code/", {"code": fresh_code(TOTPDevice.objects.get(user=root))})
    assert client.get("/admin/otp_totp/totpdevice/").status_code == 404
