"""Strong passwords, with the reasons in Chinese."""

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.utils import translation

from accounts.models import User


def reasons(password: str, user=None) -> list[str]:
    with translation.override("zh-hans"):
        try:
            validate_password(password, user)
        except ValidationError as exc:
            return exc.messages
    return []


@pytest.mark.parametrize(
    ("password", "expected"),
    [
        ("Ab3$xyz", "密码长度太短。密码必须包含至少 10 个字符。"),
        ("password123", "这个密码太常见了。"),
        ("8264019375", "密码只包含数字。"),
    ],
)
def test_weak_passwords_are_refused_in_chinese(password, expected):
    assert expected in reasons(password)


def test_a_password_like_the_username_is_refused_in_chinese():
    user = User(username="zhangxiaoming", first_name="小明", last_name="张")
    assert any("太相似" in message for message in reasons("zhangxiaoming1", user))


def test_a_strong_password_passes():
    assert reasons("Dangfei-Demo-2026x") == []


@pytest.mark.django_db
def test_the_admin_refuses_a_weak_password_in_chinese(admin_client, org_a):
    response = admin_client.post(
        "/admin/accounts/user/add/",
        {
            "username": "newuser",
            "password1": "12345678",
            "password2": "12345678",
            "organization": org_a.pk,
            "title": "党员",
            "is_staff": "on",
        },
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "密码长度太短" in page and "密码只包含数字" in page
    assert not User.objects.filter(username="newuser").exists()
