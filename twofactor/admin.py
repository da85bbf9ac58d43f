"""The user admin with the second factor: a column showing who has one, and the reset."""

from django.contrib import admin, messages
from django.db.models import Exists, OuterRef

from accounts.models import User
from projects.admin.accounts import UserAdmin as AccountsUserAdmin
from twofactor.reset import ResetRefused, second_factor_reset


class UserAdmin(AccountsUserAdmin):
    actions = [*(AccountsUserAdmin.actions or []), "reset_second_factor"]

    def get_list_display(self, request):
        return [*super().get_list_display(request), "second_factor"]

    def get_queryset(self, request):
        from django_otp.plugins.otp_totp.models import TOTPDevice

        confirmed = TOTPDevice.objects.filter(user=OuterRef("pk"), confirmed=True)
        return super().get_queryset(request).annotate(has_second_factor=Exists(confirmed))

    @admin.display(description="双重验证", boolean=True, ordering="has_second_factor")
    def second_factor(self, obj) -> bool:
        return bool(getattr(obj, "has_second_factor", False))

    def has_reset_second_factor_permission(self, request) -> bool:
        return request.user.is_superuser

    @admin.action(
        description="重置所选用户的双重验证(手机丢失时;下次登录须重新绑定)",
        permissions=["reset_second_factor"],
    )
    def reset_second_factor(self, request, queryset):
        done = []
        for user in queryset:
            try:
                second_factor_reset(actor=request.user, user=user)
            except ResetRefused as exc:
                self.message_user(request, str(exc), messages.ERROR)
                return
            done.append(user.username)
        self.message_user(
            request,
            f"已重置 {len(done)} 个用户的双重验证:{'、'.join(done)}。他们下次登录时须重新绑定。",
            messages.SUCCESS,
        )


admin.site.unregister(User)
admin.site.register(User, UserAdmin)


def _unregister_device_admins() -> None:
    """django-otp's own device pages are English and would let an administrator read a
    person's authenticator secret or add a device in their name; the reset above is the
    one way an administrator touches someone's second factor."""
    from django_otp.plugins.otp_static.models import StaticDevice
    from django_otp.plugins.otp_totp.models import TOTPDevice

    for model in (TOTPDevice, StaticDevice):
        if admin.site.is_registered(model):
            admin.site.unregister(model)


_unregister_device_admins()
