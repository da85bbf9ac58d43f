"""The second sign-in step, the enrolment page and the recovery codes.

Sign-in is two steps. The password step is the admin's login form (still throttled by
django-axes in its authentication backend); when the account has a second factor, the
password alone does not log in: the account is remembered in the session as pending and
the code step follows. Only a right code calls Django's login(), so django-axes' counter
(username + address) is cleared only by a complete sign-in, and a wrong code counts as a
failed login on that same counter: five failures over both steps lock the pair.
"""

from __future__ import annotations

import time
from base64 import b32encode

import segno
from axes.handlers.proxy import AxesProxyHandler
from django.contrib import admin, messages
from django.contrib.auth import REDIRECT_FIELD_NAME, get_user_model
from django.contrib.auth import login as auth_login
from django.contrib.auth.signals import user_login_failed
from django.contrib.auth.views import LoginView
from django.db import transaction
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django_otp import login as otp_login
from django_otp.plugins.otp_static.models import StaticDevice

from config.auth import lockout_response
from twofactor import policy
from twofactor.forms import CodeForm

PENDING = "twofactor_pending"
# A password accepted this long ago without its code must be entered again.
PENDING_SECONDS = 300


class PasswordStepLoginView(LoginView):
    """The admin login form; an account with a second factor goes on to the code step."""

    def form_valid(self, form):
        user = form.get_user()
        if not policy.has_device(user):
            # Logged in with the password; an account that must use a second factor is
            # then confined to the enrolment page (twofactor.middleware).
            return super().form_valid(form)
        self.request.session[PENDING] = {
            "user": user.pk,
            "backend": user.backend,
            "at": time.time(),
        }
        query = urlencode({REDIRECT_FIELD_NAME: self.get_success_url()})
        return redirect(f"{reverse('twofactor:verify')}?{query}")


def _next_url(request) -> str:
    target = request.POST.get(REDIRECT_FIELD_NAME) or request.GET.get(REDIRECT_FIELD_NAME, "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return reverse("admin:index")


def _pending_user(request):
    data = request.session.get(PENDING)
    if not data or time.time() - data.get("at", 0) > PENDING_SECONDS:
        return None, None
    user = get_user_model().objects.filter(pk=data["user"], is_active=True).first()
    return user, data.get("backend")


def _context(request, **extra) -> dict:
    return {**admin.site.each_context(request), **extra}


@sensitive_post_parameters("code")
@never_cache
@csrf_protect
def verify(request):
    """The code step: a code from the authenticator app, or one of the recovery codes."""
    next_url = _next_url(request)
    if request.user.is_authenticated:
        # Logged in by password before the account had a second factor (an older session):
        # it still has to show a code before it may go on.
        if request.user.is_verified():
            return redirect(next_url)
        user, backend = request.user, None
    else:
        user, backend = _pending_user(request)
        if user is None:
            messages.info(request, "请先输入账号和密码。")
            return redirect(f"{reverse('admin:login')}?{urlencode({'next': next_url})}")
    if not policy.has_device(user):
        return redirect(reverse("twofactor:enrol"))

    credentials = {"username": user.get_username()}
    if AxesProxyHandler.is_locked(request, credentials):
        return lockout_response(request, credentials=credentials)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        device, wait = policy.verify(user, form.cleaned_data["code"])
        if device is not None:
            if backend is not None:
                request.session.pop(PENDING, None)
                auth_login(request, user, backend)
            otp_login(request, device)
            if isinstance(device, StaticDevice):
                left = policy.recovery_codes_left(user)
                messages.warning(
                    request,
                    f"已使用一个恢复码(每个只能用一次),还剩 {left} 个。"
                    "手机丢失时请联系系统管理员重置双重验证。",
                )
            return redirect(next_url)
        if wait:
            form.add_error("code", f"尝试过于频繁,请 {wait} 秒后再输入验证码。")
        else:
            form.add_error("code", "验证码不正确或已使用过,请输入身份验证器上当前显示的 6 位数字。")
        user_login_failed.send(sender=__name__, credentials=credentials, request=request)
        if getattr(request, "axes_locked_out", False):
            return lockout_response(request, credentials=credentials)
    return render(
        request,
        "twofactor/verify.html",
        _context(
            request,
            title="双重验证",
            form=form,
            account=user,
            next=next_url,
        ),
    )


def _qr_svg(device) -> str:
    """The otpauth:// address as an inline SVG (no script, no style: fits the CSP)."""
    return segno.make(device.config_url, error="m").svg_inline(
        scale=5, border=2, title="用身份验证器扫描此二维码"
    )


def _secret_text(device) -> str:
    secret = b32encode(device.bin_key).decode()
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


@sensitive_post_parameters("code")
@never_cache
@csrf_protect
def enrol(request):
    """Bind an authenticator app: scan the QR, confirm with a first code, get recovery codes."""
    if not request.user.is_authenticated:
        return redirect(f"{reverse('admin:login')}?{urlencode({'next': request.path})}")
    user = request.user
    next_url = _next_url(request)
    if policy.has_device(user):
        if not user.is_verified():
            return redirect(f"{reverse('twofactor:verify')}?{urlencode({'next': next_url})}")
        return render(
            request,
            "twofactor/status.html",
            _context(
                request,
                title="双重验证",
                recovery_left=policy.recovery_codes_left(user),
                required=policy.is_required(user),
            ),
        )

    device = policy.pending_authenticator(user)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        allowed, _data = device.verify_is_allowed()
        with transaction.atomic():
            if allowed and device.verify_token(policy.normalise(form.cleaned_data["code"])):
                device.confirmed = True
                device.save(update_fields=["confirmed"])
                codes = policy.new_recovery_codes(user)
                otp_login(request, device)
                # The confirmation shows the recovery codes once; they are never shown again.
                return render(
                    request,
                    "twofactor/recovery_codes.html",
                    _context(request, title="双重验证已启用", codes=codes, next=next_url),
                )
        form.add_error(
            "code",
            "验证码不正确:请确认已扫描本页的二维码,并输入身份验证器上当前显示的 6 位数字。"
            if allowed
            else "尝试过于频繁,请稍等几秒后再输入验证码。",
        )
    return render(
        request,
        "twofactor/enrol.html",
        _context(
            request,
            title="绑定身份验证器(双重验证)",
            form=form,
            qr_svg=_qr_svg(device),
            secret=_secret_text(device),
            required=policy.is_required(user),
            next=next_url,
        ),
    )
