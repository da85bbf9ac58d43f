from django.apps import AppConfig


class ProjectsConfig(AppConfig):
    name = "projects"
    verbose_name = "党费项目"

    def ready(self) -> None:
        # Modules that register transition side effects, after-commit hooks and
        # dashboard panels with projects.services / projects.dashboard.
        from projects import notifications, settlement  # noqa: F401
