"""A superuser resets someone's second factor (a lost phone); the reset is an event."""

from __future__ import annotations

from django.contrib.admin.models import CHANGE, LogEntry
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
    """The one place the reset is written down.

    TODO(lead): when projects.services.events is on main, this becomes
    events.record(actor=actor, action=RESET_ACTION, data={...}) (the history chain).
    """
    LogEntry.objects.log_actions(
        user_id=actor.pk,
        queryset=[user],
        action_flag=CHANGE,
        change_message=f"重置双重验证:删除 {removed} 个验证设备,下次登录须重新绑定。",
        single_object=True,
    )
