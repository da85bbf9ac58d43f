"""The index page's panels: each role's to-do list and, for leadership, the year's pool.

The panels themselves are read-side queries: projects.selectors.dashboard lists its panels
explicitly (PANELS first, LAST_PANELS at the end); areas that still register theirs with
`@panel` come in between, in import order."""

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


# Panel builders still registered by other areas: callable(user) -> Panel | None, in order.
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
    from projects.selectors import dashboard as panels  # it imports Panel from here

    for build in [*panels.PANELS, *PANEL_BUILDERS, *panels.LAST_PANELS]:
        built = build(user)
        if built is not None:
            dashboard.panels.append(built)
    return dashboard
