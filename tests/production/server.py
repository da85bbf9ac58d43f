"""Start `make serve` (gunicorn + whitenoise) on a fresh database with the production
variables, on a free loopback port; shared by the smoke test and the load test's test."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

import psycopg
import pyotp

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION_ENV = {
    "DJANGO_SECRET_KEY": "smoke-" + "x" * 40 + "-AbCdEfGhIjKlMnOpQrSt",
    "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
    "HISTORY_HMAC_KEY": "smoke-history-key",
    "DOCUMENT_VERIFY_KEY": "smoke-document-verify-key",
    # Plain http on loopback: no TLS to terminate here (production sets it behind the proxy).
    "DJANGO_SECURE_HTTPS": "0",
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def fresh_database(tmp_path: Path) -> tuple[str, callable]:
    """A new empty database of the kind under test: PostgreSQL on the PostgreSQL pass."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        return f"sqlite:///{tmp_path / 'serve.sqlite3'}", lambda: None
    base, _, _name = url.rpartition("/")
    name = f"{_name or 'dangfei'}_serve_{os.getpid()}"
    admin_url = f"{base}/postgres"
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.execute(f'CREATE DATABASE "{name}"')

    def drop():
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return f"{base}/{name}", drop


def manage(env: dict, *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


@contextlib.contextmanager
def serving(tmp_path: Path, workers: int = 2, settings_module: str | None = None):
    """Yield (base_url, env) of a running `make serve` with demo data; stop it afterwards.
    settings_module: another settings module for the server (the load test's
    bench.load_settings); the product's own by default."""
    database_url, drop = fresh_database(tmp_path)
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")},
        **PRODUCTION_ENV,
        "DATABASE_URL": database_url,
        "DJANGO_MEDIA_ROOT": str(tmp_path / "media"),
        "BIND": f"127.0.0.1:{port}",
        "WEB_CONCURRENCY": str(workers),
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)
    # The Makefile exports its own DJANGO_SETTINGS_MODULE: a command-line variable wins.
    override = [f"DJANGO_SETTINGS_MODULE={settings_module}"] if settings_module else []
    log = open(tmp_path / "serve.log", "w+")  # noqa: SIM115
    process = None
    try:
        manage(env, "migrate", "--noinput")
        manage(env, "demo_data", "--allow-demo-accounts")
        venv = Path(sys.prefix)  # the interpreter running the tests: installed already
        process = subprocess.Popen(
            [
                "make",
                "--no-print-directory",
                "-o",
                f"{venv}/.installed",
                "serve",
                f"VENV={venv}",
                *override,
            ],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: stopped as a whole below
        )
        base_url = f"http://127.0.0.1:{port}"
        wait_until_up(base_url, process, log)
        yield base_url, env
    finally:
        if process is not None and process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        log.close()
        drop()


def wait_until_up(base_url: str, process, log, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            log.seek(0)
            raise AssertionError(f"make serve 退出了:{process.returncode}\n{log.read()}")
        try:
            with urllib.request.urlopen(f"{base_url}/admin/login/", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    log.seek(0)
    raise AssertionError(f"gunicorn 未在 {timeout} 秒内启动\n{log.read()}")


# --- signing in over HTTP, second factor included ----------------------------------------

CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
SECRET = re.compile(r'class="twofactor-secret">([A-Z2-7 ]+)<')
# Authenticator secrets of the accounts this process enrolled, as a phone app keeps them,
# and the last time step each one used: django-otp accepts a code once, one step either
# side of now, so sign-ins of one account (the load test's users) take turns.
AUTHENTICATORS: dict[str, pyotp.TOTP] = {}
LAST_STEP: dict[str, int] = {}
SIGN_IN_LOCK = threading.Lock()


def _next_code(username: str) -> str:
    authenticator = AUTHENTICATORS[username]
    now = time.time()
    step = max(int(now // 30), LAST_STEP.get(username, 0) + 1)
    if step > int(now // 30) + 1:
        time.sleep((step - 1) * 30 - now + 0.5)
    LAST_STEP[username] = step
    return authenticator.at(step * 30)


def _post(opener, url: str, page: str, base_url: str, fields: dict, timeout: float = 30):
    data = urllib.parse.urlencode(
        {"csrfmiddlewaretoken": CSRF.search(page).group(1), **fields}
    ).encode()
    request = urllib.request.Request(url, data=data, headers={"Referer": base_url})
    return opener.open(request, timeout=timeout)  # follows redirects


def sign_in(opener, base_url: str, username: str, password: str, timeout: float = 30):
    with SIGN_IN_LOCK:
        return _sign_in(opener, base_url, username, password, timeout)


def _sign_in(opener, base_url: str, username: str, password: str, timeout: float = 30):
    """Sign in through the real forms as a person would: the password, then, for an account
    that must use a second factor, the enrolment page on its first sign-in (the QR's secret
    read from the page, the first code from pyotp) or the code step on a later one.

    Returns (status, final url, page, headers, steps) of the page reached, where steps
    names the sign-in pages passed through ("enrol" / "code")."""
    with opener.open(f"{base_url}/admin/login/?next=/admin/", timeout=timeout) as response:
        page = response.read().decode()
    url = f"{base_url}/admin/login/?next=/admin/"
    response = _post(
        opener, url, page, base_url, {"username": username, "password": password, "next": "/admin/"}
    )
    steps = []
    with response:
        url, page = response.url, response.read().decode()
    if "/admin/signin/enrol/" in url:
        steps.append("enrol")
        AUTHENTICATORS[username] = pyotp.TOTP(SECRET.search(page).group(1).replace(" ", ""))
        code = _next_code(username)
        with _post(opener, url, page, base_url, {"code": code}) as response:
            codes_page = response.read().decode()
        assert "双重验证已启用" in codes_page, codes_page[:2000]
        # "我已保存恢复码,继续" leads on to the page that was asked for.
        response = opener.open(f"{base_url}/admin/", timeout=timeout)
    elif "/admin/signin/code/" in url:
        steps.append("code")
        code = _next_code(username)
        response = _post(opener, url, page, base_url, {"code": code, "next": "/admin/"})
    else:
        return 200, url, page, dict(response.headers), steps
    with response:
        return (
            response.status,
            response.url,
            response.read().decode(),
            dict(response.headers),
            steps,
        )
