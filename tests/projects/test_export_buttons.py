"""Every list that can be exported shows 导出 to the roles allowed to use it (issue 11,
finding 7): the project list drew only 导入 (ImportMixin's template won the MRO)."""

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db

PROJECTS = reverse("admin:projects_project_changelist")
EXPORT = reverse("admin:projects_project_export")
IMPORT = reverse("admin:projects_project_import")


def buttons(client, user, url=PROJECTS):
    client.force_login(user)
    page = client.get(url)
    assert page.status_code == 200
    text = page.content.decode()
    return f'href="{EXPORT}' in text, f'href="{IMPORT}"' in text


@pytest.mark.parametrize(
    ("role", "export", "import_"),
    [
        ("leader", True, True),  # historical import and export
        ("finance", True, False),
        ("auditor", True, False),  # reads and exports, never imports
        ("reviewer", True, False),
        ("applicant", False, False),
    ],
)
def test_project_list_buttons_follow_the_permissions(client, request, role, export, import_):
    user = request.getfixturevalue(role)
    assert buttons(client, user) == (export, import_)
    assert user.has_perm("projects.export_project") is export
    if export:
        client.force_login(user)
        response = client.get(EXPORT)
        assert response.status_code == 200
        assert response["Content-Type"].startswith("application/vnd.openxmlformats")


def test_export_keeps_the_lists_filters(client, leader):
    client.force_login(leader)
    text = client.get(PROJECTS + "?state__exact=draft").content.decode()
    assert f'href="{EXPORT}?state__exact=draft"' in text


@pytest.mark.parametrize("name", ["accounts_organization_changelist", "accounts_user_changelist"])
def test_other_import_export_lists_show_export(client, leader, name):
    client.force_login(leader)
    page = client.get(reverse(f"admin:{name}"))
    assert page.status_code == 200
    export = reverse(f"admin:{name.removesuffix('_changelist')}_export")
    assert f'href="{export}' in page.content.decode()
