"""The index page's panels: each role's to-do list and, for leadership, the year's pool."""

from dataclasses import dataclass, field

from accounts.roles import role_labels


@dataclass
class Panel:
    title: str
    rows: list = field(default_factory=list)
    empty_text: str = "暂无待办事项。"


@dataclass
class Dashboard:
    user_name: str
    organization: str
    roles: list[str]
    panels: list[Panel] = field(default_factory=list)


# Panel builders contributed by each area: callable(user) -> Panel | None, in order.
PANEL_BUILDERS: list = []


def panel(func):
    """Decorator: add a to-do panel to the index page."""
    PANEL_BUILDERS.append(func)
    return func


def build_dashboard(user) -> Dashboard:
    dashboard = Dashboard(
        user_name=user.display_name,
        organization=str(user.organization) if user.organization_id else "—",
        roles=role_labels(user) or (["系统管理员"] if user.is_superuser else []),
    )
    for build in PANEL_BUILDERS:
        built = build(user)
        if built is not None:
            dashboard.panels.append(built)
    return dashboard
