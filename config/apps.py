from django.contrib.admin.apps import AdminConfig


class SiteAdminConfig(AdminConfig):
    """The Django admin is the application (DESIGN.md §6); its site adds the dashboard."""

    default_site = "config.admin_site.SiteAdmin"

    def ready(self):
        super().ready()
        from config import checks  # noqa: F401  (registers the deployment checks)
