"""The admin is the application (DESIGN.md §6). One module per area of the regulation."""

from projects.admin import jobs, money, project, running  # noqa: F401
