"""Second-factor helpers for tests: a confirmed authenticator and its codes, made by pyotp
(an independent TOTP implementation, as a phone app would compute them)."""

from __future__ import annotations

import time
from base64 import b32encode

import pyotp
from django_otp.plugins.otp_totp.models import TOTPDevice


def enrol(user) -> TOTPDevice:
    """A confirmed authenticator for the user (as if the enrolment page had been completed)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    return device or TOTPDevice.objects.create(user=user, name="身份验证器", confirmed=True)


def totp(secret_base32: str) -> pyotp.TOTP:
    return pyotp.TOTP(secret_base32.replace(" ", ""))


def secret_of(device: TOTPDevice) -> str:
    return b32encode(device.bin_key).decode()


def fresh_code(device: TOTPDevice) -> str:
    """A code the device has not accepted yet: the current one, or the next time step's
    when the current one was already used (django-otp refuses a code twice and accepts one
    step either side)."""
    device.refresh_from_db()
    now = time.time()
    step = int(now // device.step)
    use = max(step, device.last_t + 1)
    if use > step + 1:
        time.sleep((use - 1) * device.step - now + 0.5)
    return totp(secret_of(device)).at(use * device.step)
