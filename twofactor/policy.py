"""Who must use a second factor, and checking a code against a user's devices.

Which roles must is set in the environment (DJANGO_2FA_REQUIRED_ROLES, read into
settings.TWO_FACTOR_REQUIRED_ROLES): role group names of accounts.roles, plus `superuser`.
Everyone else may enrol voluntarily; once enrolled, their sign-in asks for a code too.
"""

from __future__ import annotations

import math

from django.conf import settings
from django.utils import timezone
from django_otp import devices_for_user, user_has_device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

SUPERUSER = "superuser"
RECOVERY_CODE_COUNT = 10
AUTHENTICATOR_NAME = "身份验证器"
RECOVERY_NAME = "恢复码"


def required_roles() -> frozenset[str]:
    return frozenset(settings.TWO_FACTOR_REQUIRED_ROLES)


def is_required(user) -> bool:
    """True when the user holds a role (or is a superuser) that must use a second factor."""
    if not user.is_authenticated:
        return False
    required = required_roles()
    if SUPERUSER in required and user.is_superuser:
        return True
    return bool(required & user.role_names)


def has_device(user) -> bool:
    return user_has_device(user, confirmed=True)


def normalise(code: str) -> str:
    return "".join(code.split()).replace("-", "").lower()


def verify(user, code: str) -> tuple[object | None, int]:
    """The confirmed device that accepts the code, or None and the seconds to wait when every
    device is throttled (django-otp doubles the wait after each successive failure).

    A recovery code is removed when used (django-otp's static device); a TOTP code is
    refused a second time (the device remembers the last time step it accepted).
    """
    code = normalise(code)
    # Six digits are an authenticator code, anything else a recovery code (8 letters and
    # digits): only that kind of device is asked, so a mistyped recovery code does not
    # throttle the authenticator, nor the reverse.
    kind = TOTPDevice if code.isdigit() and len(code) == 6 else StaticDevice
    wait = 0
    for device in devices_for_user(user, confirmed=True):
        if not isinstance(device, kind):
            continue
        allowed, data = device.verify_is_allowed()
        if not allowed:
            until = (data or {}).get("locked_until")
            seconds = math.ceil((until - timezone.now()).total_seconds()) if until else 1
            wait = max(wait, seconds, 1)
            continue
        if device.verify_token(code):
            return device, 0
    return None, wait


def pending_authenticator(user) -> TOTPDevice:
    """The unconfirmed authenticator being enrolled (one per user, kept across reloads)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("pk").first()
    return device or TOTPDevice.objects.create(user=user, name=AUTHENTICATOR_NAME, confirmed=False)


def new_recovery_codes(user) -> list[str]:
    """Replace the user's recovery codes with RECOVERY_CODE_COUNT new single-use ones."""
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name=RECOVERY_NAME, confirmed=True)
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODE_COUNT)]
    StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    return codes


def recovery_codes_left(user) -> int:
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


def remove_devices(user) -> int:
    """Delete every second-factor device of the user; the count of devices removed."""
    removed = TOTPDevice.objects.filter(user=user).delete()[1].get("otp_totp.TOTPDevice", 0)
    removed += StaticDevice.objects.filter(user=user).delete()[1].get("otp_static.StaticDevice", 0)
    return removed
