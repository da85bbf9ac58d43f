from django.apps import AppConfig


class ProjectsConfig(AppConfig):
    name = "projects"
    verbose_name = "党费项目"

    def ready(self) -> None:
        # The money steps' transition forms register themselves with projects.forms.
        from projects import forms_money  # noqa: F401
