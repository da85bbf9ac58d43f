from django.conf import settings
from django.core.checks import Error, register

from accounts.roles import Role
from twofactor.policy import SUPERUSER


@register()
def required_roles_are_known(app_configs=None, **kwargs):
    """A misspelt role in DJANGO_2FA_REQUIRED_ROLES would silently enforce nothing."""
    known = {*Role.values, SUPERUSER}
    unknown = sorted(set(settings.TWO_FACTOR_REQUIRED_ROLES) - known)
    if not unknown:
        return []
    return [
        Error(
            f"DJANGO_2FA_REQUIRED_ROLES 中有未知角色:{'、'.join(unknown)}。",
            hint=f"可用的名称:{', '.join(sorted(known))}",
            id="dangfei.E003",
        )
    ]
