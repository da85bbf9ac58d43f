"""The admin still works under the strict content security policy: its scripts run (the
widgets they build appear) and Chromium reports no violation on the change pages."""

import re

import pytest

from accounts.models import User
from tests.browser.conftest import login
from tests.factories import PASSWORD, OrganizationFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


INLINE_HANDLER = re.compile(r"""\son[a-z]+\s*=\s*["']([^"']*)["']""")
# django-import-export's export page: allowed by its exact hash in settings.CONTENT_SECURITY_POLICY.
ALLOWED_INLINE_HANDLERS = {"onSelectToggleChange(event)"}


def watch_console(page) -> list[str]:
    problems: list[str] = []

    def on_console(msg):
        # The browser's own favicon probe is not the page's business.
        if msg.location.get("url", "").endswith("/favicon.ico"):
            return
        if msg.type == "error" or "Content Security Policy" in msg.text:
            problems.append(msg.text)

    page.on("console", on_console)
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    return problems


def test_admin_change_pages_work_under_the_csp(page, live_server, screenshot):
    org = OrganizationFactory(name="丙社区党支部")
    User.objects.create_superuser("root", "root@example.org", PASSWORD, organization=org)
    problems = watch_console(page)
    login(page, live_server, "root", PASSWORD)
    page.wait_for_url(f"{live_server.url}/admin/")

    # The user page: SelectFilter2 (groups) and the collapsible fieldset are built by scripts.
    user = User.objects.get(username="root")
    response = page.goto(f"{live_server.url}/admin/accounts/user/{user.pk}/change/")
    assert "default-src 'self'" in response.headers["content-security-policy"]
    page.wait_for_selector(".selector-available")  # SelectFilter2 ran
    page.click("details summary")  # the collapsed 高级 fieldset opens
    screenshot("csp-user-change")

    # The organisation page: the parent field is a select2 autocomplete (jQuery + select2).
    page.goto(f"{live_server.url}/admin/accounts/organization/{org.pk}/change/")
    page.wait_for_selector(".select2-container")
    page.click(".select2-selection")
    page.wait_for_selector(".select2-search__field")
    page.keyboard.press("Escape")
    page.fill("#id_short_name", "丙支部")
    page.click("input[name=_save]")
    page.wait_for_selector(".messagelist .success")
    org.refresh_from_db()
    assert org.short_name == "丙支部"

    assert problems == []


def test_the_lockout_page_after_five_failures(page, live_server, screenshot):
    OrganizationFactory(name="丁社区党支部")
    user = User.objects.create_user("dave", password=PASSWORD, is_staff=True)
    problems = watch_console(page)
    for _ in range(5):
        login(page, live_server, user.username, "wrong-password")
    page.wait_for_selector("text=登录已暂时锁定")
    assert "30 分钟" in page.inner_text("#content")
    screenshot("login-lockout")
    login(page, live_server, user.username, PASSWORD)  # even the right password waits
    page.wait_for_selector("text=登录已暂时锁定")
    assert [p for p in problems if "429" not in p] == []


def test_every_admin_page_renders_without_a_csp_violation(page, live_server):
    """Every registered ModelAdmin's list, add and change page, and the custom pages beside
    the admin, as a superuser, in Chromium: no inline script or style slips in unnoticed."""
    from tests.security.test_authorization_walk import ADMINS, custom_pages, fill
    from tests.security.world import build_world

    world = build_world()
    violations = []
    page.on(
        "console",
        lambda msg: (
            violations.append(f"{page.url}: {msg.text}")
            if "Content Security Policy" in msg.text
            else None
        ),
    )
    login(page, live_server, "root", PASSWORD)
    page.wait_for_url(f"{live_server.url}/admin/")
    urls = []
    for _label, model_admin in ADMINS:
        opts = model_admin.model._meta
        prefix = f"/admin/{opts.app_label}/{opts.model_name}/"
        urls += [
            prefix,
            f"{prefix}add/",
            f"{prefix}{world.object_for(model_admin.model, 'own').pk}/change/",
        ]
    for custom in custom_pages():
        values = {}
        for param in custom.params:
            if param == "year":
                values[param] = world.projects["own"].year
            elif param in ("name", "transition_name"):
                values[param] = "submit"
            else:
                values[param] = world.projects["own"].pk
        urls.append("/" + fill(custom.route, values))
    for url in urls:
        # Downloads (xlsx, files) are not pages: fetched with the same session, not rendered.
        probe = page.request.get(live_server.url + url)
        assert probe.status < 500, url
        if "text/html" not in probe.headers.get("content-type", ""):
            continue
        response = page.goto(live_server.url + url)
        assert response.status < 500, url
        page.wait_for_load_state("load")
        # Inline handlers are only refused when they fire: find them in the markup instead.
        for handler in INLINE_HANDLER.findall(probe.text()):
            if handler not in ALLOWED_INLINE_HANDLERS:
                violations.append(f"{url}: 内联事件处理 {handler}(CSP 下不会执行)")
    assert violations == []


def test_print_buttons_and_the_year_select_work_without_inline_handlers(page, live_server):
    """data-print and data-autosubmit (dangfei/csp.js) do what onclick/onchange used to."""
    from tests.factories import FundingPolicyFactory
    from tests.security.world import build_world

    world = build_world()
    project = world.projects["own"]
    FundingPolicyFactory(year=project.year - 1)  # a second year to choose
    login(page, live_server, "root", PASSWORD)
    page.wait_for_url(f"{live_server.url}/admin/")
    page.add_init_script("window.print = () => { window.printed = true; };")
    for url in (
        f"/admin/projects/project/{project.pk}/application/print/",
        f"/admin/projects/project/{project.pk}/money/settlement-sheet/",
    ):
        page.goto(live_server.url + url)
        page.click("[data-print]")
        assert page.evaluate("window.printed === true"), url
    page.goto(f"{live_server.url}/admin/reports/?year={project.year}")
    with page.expect_navigation():
        page.select_option("select[data-autosubmit]", str(project.year - 1))
    assert f"year={project.year - 1}" in page.url
