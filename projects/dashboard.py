"""The index page's panels: each role's to-do list and, for leadership, the year's pool.

The panels themselves are read-side queries, listed explicitly (in the order each role
reads them) in projects.selectors.dashboard.PANELS."""

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


def build_dashboard(user) -> Dashboard:
    dashboard = Dashboard(
        user_name=user.display_name,
        organization=str(user.organization) if user.organization_id else "—",
        roles=role_labels(user) or (["系统管理员"] if user.is_superuser else []),
    )
    from projects.selectors import dashboard as panels  # it imports Panel from here

    for build in panels.PANELS:
        built = build(user)
        if built is not None:
            dashboard.panels.append(built)
    return dashboard
