"""A superuser resets someone's second factor (a lost phone); the reset is an event in the
history chain (projects.services.events), signed by the superuser, in the same transaction."""

from __future__ import annotations

from django.db import transaction

from twofactor import policy

RESET_ACTION = "second_factor_reset"


class ResetRefused(Exception):
    pass


def second_factor_reset(*, actor, user) -> int:
    """Remove every second-factor device of `user`; they enrol again at the next login.

    Only a superuser may; recorded in the same transaction. Returns the devices removed.
    """
    if not actor.is_superuser:
        raise ResetRefused("只有系统管理员可以重置双重验证。")
    with transaction.atomic():
        removed = policy.remove_devices(user)
        record_reset(actor=actor, user=user, removed=removed)
    return removed


def record_reset(*, actor, user, removed: int) -> None:
    """The one place the reset is written down: a signed event in the history chain."""
    from projects.services import events

    events.record(
        actor=actor,
        action=RESET_ACTION,
        subject=f"用户:{user.username}",
        opinion=f"重置双重验证:删除 {removed} 个验证设备,下次登录须重新绑定。",
        data={"user": user.pk, "username": user.username, "devices_removed": removed},
    )
