"""Login throttling (django-axes) for logins that come over HTTP."""

from axes.backends import AxesStandaloneBackend
from django.contrib.auth import password_validation


class LoginThrottleBackend(AxesStandaloneBackend):
    """Refuses a login while its username+address combination is locked out.

    axes insists on the request to know the client's address; an authentication without one
    (the test client's login(), management commands, the shell) has no network client to
    throttle, so it is passed on to the model backend unchecked instead of failing.
    """

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)


def lockout_response(request, original_response=None, credentials=None):
    """The page shown to a locked-out login, in Chinese (429 Too Many Requests)."""
    from django.conf import settings
    from django.shortcuts import render

    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    context = {"failure_limit": settings.AXES_FAILURE_LIMIT, "cooloff_minutes": minutes}
    return render(request, "security/lockout.html", context, status=429)


class MinimumLengthValidator(password_validation.MinimumLengthValidator):
    """Django 5.2 changed this message's msgid and its Chinese catalogue has not followed,
    so the reason would show in English: say it in Chinese here."""

    def get_error_message(self) -> str:
        return f"密码长度太短。密码必须包含至少 {self.min_length} 个字符。"

    def get_help_text(self) -> str:
        return f"密码必须包含至少 {self.min_length} 个字符。"
