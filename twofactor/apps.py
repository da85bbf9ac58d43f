from django.apps import AppConfig


class TwoFactorConfig(AppConfig):
    """The second sign-in step (TOTP through django-otp) for the roles that move money."""

    name = "twofactor"
    verbose_name = "双重验证"

    def ready(self):
        from twofactor import checks  # noqa: F401  (registers the role-name check)
