"""Login throttling (django-axes): five failures for one username from one address lock that
combination for the cool-off; other users and other addresses are not affected."""

import datetime

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.core.management import call_command

from tests.factories import PASSWORD

LOGIN = "/admin/login/?next=/admin/"


def attempt(client, username, password, address="127.0.0.1"):
    return client.post(LOGIN, {"username": username, "password": password}, REMOTE_ADDR=address)


def fail_until_locked(client, username, address="127.0.0.1"):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        response = attempt(client, username, "wrong-password", address)
    return response


def test_settings_lock_by_username_and_address_with_a_cool_off():
    assert settings.AXES_ENABLED
    assert settings.AXES_FAILURE_LIMIT == 5
    assert settings.AXES_LOCKOUT_PARAMETERS == [["username", "ip_address"]]
    assert settings.AXES_COOLOFF_TIME == datetime.timedelta(minutes=30)
    assert settings.AUTHENTICATION_BACKENDS[0] == "config.auth.LoginThrottleBackend"


@pytest.mark.django_db
def test_a_wrong_password_shows_the_ordinary_chinese_form_error(client, applicant):
    response = attempt(client, "alice", "wrong-password")
    assert response.status_code == 200
    assert "用户名或密码不正确" in response.content.decode()


@pytest.mark.django_db
def test_five_failures_lock_even_the_right_password_out(client, applicant):
    response = fail_until_locked(client, "alice")
    assert response.status_code == 429
    page = response.content.decode()
    assert "登录已暂时锁定" in page and "30 分钟" in page
    # The right password no longer gets in from that address …
    response = attempt(client, "alice", PASSWORD)
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session
    assert AccessAttempt.objects.filter(username="alice").exists()


@pytest.mark.django_db
def test_the_lock_is_per_username_and_address(client, applicant, reviewer):
    fail_until_locked(client, "alice")
    # … while another user from the same address, and alice from another address, get in.
    assert attempt(client, "bob", PASSWORD).status_code == 302
    client.logout()
    assert attempt(client, "alice", PASSWORD, address="127.0.0.2").status_code == 302


@pytest.mark.django_db
def test_the_lock_expires_after_the_cool_off(client, applicant):
    fail_until_locked(client, "alice")
    AccessAttempt.objects.update(attempt_time=datetime.datetime(2000, 1, 1, tzinfo=datetime.UTC))
    assert attempt(client, "alice", PASSWORD).status_code == 302


@pytest.mark.django_db
def test_a_success_clears_the_failures(client, applicant):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        attempt(client, "alice", "wrong-password")
    assert attempt(client, "alice", PASSWORD).status_code == 302
    client.logout()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert attempt(client, "alice", "wrong-password").status_code == 200
    assert attempt(client, "alice", PASSWORD).status_code == 302


@pytest.mark.django_db
def test_an_administrator_can_unlock_with_the_documented_command(client, applicant):
    fail_until_locked(client, "alice")
    call_command("axes_reset_username", "alice")
    assert attempt(client, "alice", PASSWORD).status_code == 302


@pytest.mark.django_db
def test_test_client_logins_without_a_request_are_not_throttled(client, applicant):
    # client.login() authenticates without an HTTP request: nothing to throttle, still works.
    assert not client.login(username="alice", password="wrong-password")
    assert client.login(username="alice", password=PASSWORD)
