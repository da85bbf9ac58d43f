import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db

ROLES = ["applicant", "org_reviewer", "outsider", "leadership", "finance", "auditor"]


@pytest.mark.parametrize("role", ROLES)
def test_admin_index_renders_in_chinese_for_each_role(client, role_users, role):
    user = role_users[role]
    client.force_login(user)
    response = client.get(reverse("admin:index"))
    assert response.status_code == 200
    body = response.content.decode()
    assert "党费项目化管理" in body
    assert "工作台" in body
    assert user.display_name in body
    assert 'lang="zh-hans"' in body


def test_login_page_is_chinese(client):
    body = client.get(reverse("admin:login")).content.decode()
    assert "用户名" in body and "密码" in body


def test_other_organization_is_404_for_scoped_users(client, reviewer, org_b):
    client.force_login(reviewer)
    url = reverse("admin:accounts_organization_change", args=[org_b.pk])
    assert client.get(url).status_code in (302, 404)
    response = client.get(url, follow=True)
    # Django's admin redirects a missing object to the index with a message; never shows it.
    assert org_b.name not in response.content.decode().split("不存在")[-1]


def test_other_organizations_user_is_not_reachable(client, reviewer, outsider):
    client.force_login(reviewer)
    listing = client.get(reverse("admin:accounts_user_changelist")).content.decode()
    assert "charlie" not in listing and "bob" in listing
    url = reverse("admin:accounts_user_change", args=[outsider.pk])
    assert client.get(url).status_code in (302, 404)


def test_leadership_sees_every_organization(client, leader, org_a, org_b):
    client.force_login(leader)
    listing = client.get(reverse("admin:accounts_organization_changelist")).content.decode()
    assert org_a.name in listing and org_b.name in listing


def test_auditor_cannot_change_an_organization(client, auditor, org_a):
    client.force_login(auditor)
    url = reverse("admin:accounts_organization_change", args=[org_a.pk])
    assert client.get(url).status_code == 200
    response = client.post(url, {"name": "篡改", "kind": "grassroots"})
    assert response.status_code == 403
    org_a.refresh_from_db()
    assert org_a.name == "甲社区党支部"


def test_nobody_deletes_an_organization(admin_client, org_a):
    url = reverse("admin:accounts_organization_delete", args=[org_a.pk])
    assert admin_client.post(url, {"post": "yes"}).status_code == 403
