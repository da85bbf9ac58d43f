"""The admin is the application (DESIGN.md §6). One module per area of the regulation."""

from projects.admin import accounts, jobs, money, policy, project, running  # noqa: F401
