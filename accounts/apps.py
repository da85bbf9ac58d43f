from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "组织与用户"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from accounts.roles import sync_role_groups

        # Permissions only exist after every app's post_migrate ran, so the role groups'
        # permissions are (re)synced after each migrate, on every database.
        post_migrate.connect(sync_role_groups, dispatch_uid="accounts.sync_role_groups")
