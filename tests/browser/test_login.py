import pytest

from tests.browser.conftest import login
from tests.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ROLES = ["applicant", "org_reviewer", "leadership", "finance", "auditor"]


@pytest.mark.parametrize("role", ROLES)
def test_each_role_logs_in_and_sees_its_index(page, live_server, role_users, role, screenshot):
    user = role_users[role]
    login(page, live_server, user.username, PASSWORD)
    page.wait_for_selector(".dashboard-who")
    assert "工作台" in page.title()
    who = page.inner_text(".dashboard-who")
    assert user.display_name in who
    assert user.organization.name in who
    screenshot(f"index-{role}")


def test_wrong_password_is_refused_in_chinese(page, live_server, applicant):
    login(page, live_server, applicant.username, "wrong-password")
    assert "请输入" in page.inner_text(".errornote") or "正确" in page.inner_text(".errornote")
    assert "/admin/login/" in page.url
