"""Demo projects in every state of DESIGN.md §3, each area driving its own projects through
the real services (projects.services), so the demo obeys every rule the product enforces."""

from projects.demo import applications, money, running


def load_projects(data) -> list[str]:
    lines = []
    for area in (applications, running, money):
        lines.extend(area.load(data) or [])
    return lines
