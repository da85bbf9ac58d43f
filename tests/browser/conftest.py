"""Real-browser tests: Debian's Chromium driven by Playwright against live_server.

On a machine without Chromium they are skipped with the reason; under CI (CI=true) a
missing browser is a failure, never a skip.
"""

import os
from pathlib import Path

import pytest

CHROMIUM = Path(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"

# Playwright's sync API runs an event loop in the test thread; Django would refuse ORM
# calls from it without this.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {
        **browser_type_launch_args,
        "executable_path": str(CHROMIUM),
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ],
    }


@pytest.fixture(autouse=True)
def _require_chromium():
    if CHROMIUM.exists():
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI 需要 Chromium,但 {CHROMIUM} 不存在(apt-get install chromium)。")
    pytest.skip(f"未安装 Chromium({CHROMIUM}),跳过浏览器测试:apt-get install -y chromium")


@pytest.fixture
def screenshot(page):
    ARTIFACTS.mkdir(exist_ok=True)

    def take(name: str) -> Path:
        path = ARTIFACTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


@pytest.fixture(autouse=True)
def _second_factor_as_in_production(settings):
    """The browser tests sign in as production does: leadership, finance and superusers
    show a TOTP code after the password (see login below)."""
    settings.TWO_FACTOR_REQUIRED_ROLES = ["leadership", "finance", "superuser"]


def login(page, live_server, username: str, password: str) -> None:
    """Sign in through the real forms. An account that must use a second factor is enrolled
    beforehand (a confirmed authenticator), and its code step is answered with pyotp."""
    from accounts.models import User
    from tests.otp import enrol, fresh_code
    from twofactor.policy import is_required

    user = User.objects.filter(username=username).first()
    device = enrol(user) if user is not None and is_required(user) else None
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    with page.expect_navigation():
        page.click("input[type=submit]")
    if device is not None and "/admin/signin/code/" in page.url:
        page.fill("#id_code", fresh_code(device))
        with page.expect_navigation():
            page.click("#twofactor-form input[type=submit]")
