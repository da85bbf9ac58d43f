"""Two app processes on one database: an import previewed on one is confirmed on the other,
and imported once. Nothing of the preview is on either process's disk (the preview is an
ImportPreview row; MEDIA_ROOT of both points at a folder that must never appear)."""

import html.parser
import os
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from pathlib import Path

import pytest
import tablib
from django.conf import settings
from django.db import connection
from django.test import Client

from accounts.models import Organization
from projects.models import ImportPreview
from tests.factories import UserFactory, WorkCommitteeFactory
from tests.production.server import free_port

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
ROOT = Path(__file__).resolve().parents[2]
IMPORT = "/admin/accounts/organization/import/"
CONFIRM = "/admin/accounts/organization/process_import/"


class Inputs(html.parser.HTMLParser):
    """The hidden inputs of the page (the confirm form's fields)."""

    def __init__(self):
        super().__init__()
        self.values = {}

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "input" and attrs.get("type") == "hidden" and attrs.get("name"):
            self.values[attrs["name"]] = attrs.get("value") or ""


def hidden_inputs(page: str) -> dict:
    parser = Inputs()
    parser.feed(page)
    return parser.values


def database_url() -> str:
    s = connection.settings_dict
    password = f":{urllib.parse.quote(s['PASSWORD'])}" if s.get("PASSWORD") else ""
    host = f"{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}"
    return f"postgres://{s['USER']}{password}@{host}/{s['NAME']}"


class App:
    """One `manage.py runserver --noreload` process on its own loopback port."""

    def __init__(self, env: dict, log: Path):
        # Its own temporary folder, as on its own machine: what one process leaves in /tmp
        # (django-import-export's default preview storage) the other does not see.
        scratch = log.with_suffix(".tmp")
        scratch.mkdir()
        env = {**env, "TMPDIR": str(scratch)}
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = open(log, "w+")  # noqa: SIM115 (closed in stop)
        self.process = subprocess.Popen(
            [sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{self.port}"],
            cwd=ROOT,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )

    def wait(self, timeout=60):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.output()
            try:
                with urllib.request.urlopen(f"{self.base}/admin/login/", timeout=2):
                    return
            except OSError:
                time.sleep(0.3)
        raise AssertionError(f"runserver 未在 {timeout} 秒内启动\n{self.output()}")

    def output(self) -> str:
        self.log.seek(0)
        return self.log.read()

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()

    def request(self, path, cookies, data=None, content_type=None):
        """(status, body); a redirect is followed by hand so that its cookies (the admin's
        messages) are kept, as a browser would."""
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items())}
        if content_type:
            headers["Content-Type"] = content_type
        request = urllib.request.Request(f"{self.base}{path}", data=data, headers=headers)
        try:
            response = NO_REDIRECTS.open(request, timeout=60)
        except urllib.error.HTTPError as exc:
            if exc.code not in (301, 302, 303):
                raise AssertionError(f"{path}: {exc.code}\n{self.output()}") from exc
            keep_cookies(exc.headers, cookies)
            location = urllib.parse.urlsplit(exc.headers["Location"])
            return self.request(
                location.path + (f"?{location.query}" if location.query else ""), cookies
            )
        with response:
            keep_cookies(response.headers, cookies)
            return response.status, response.read().decode()


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


NO_REDIRECTS = urllib.request.build_opener(_NoRedirect)


def keep_cookies(headers, cookies: dict) -> None:
    for header in headers.get_all("Set-Cookie") or []:
        name, _, rest = header.partition("=")
        cookies[name.strip()] = rest.split(";", 1)[0]


def multipart(fields: dict, files: dict) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    parts = []
    for name, value in fields.items():
        head = f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
        parts.append(f"{head}{value}\r\n".encode())
    for name, (filename, content) in files.items():
        parts.append(
            (
                f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; '
                f'filename="{filename}"\r\nContent-Type: application/octet-stream\r\n\r\n'
            ).encode()
            + content
            + b"\r\n"
        )
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def test_an_import_previewed_on_one_process_is_confirmed_on_the_other(tmp_path):
    committee = WorkCommitteeFactory()
    root = UserFactory(username="root", organization=committee, is_superuser=True)
    # One sign-in, one session row in the shared database, used against both processes.
    client = Client()
    client.force_login(root)
    cookies = {settings.SESSION_COOKIE_NAME: client.cookies[settings.SESSION_COOKIE_NAME].value}

    absent_media = tmp_path / "media-must-not-exist"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")},
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": database_url(),
        "DJANGO_SECRET_KEY": settings.SECRET_KEY,
        "HISTORY_HMAC_KEY": settings.HISTORY_HMAC_KEY,
        "DOCUMENT_VERIFY_KEY": settings.DOCUMENT_VERIFY_KEY,
        "DJANGO_2FA_REQUIRED_ROLES": "",  # the session above signed in without a second factor
        "DJANGO_MEDIA_ROOT": str(absent_media),
        "DJANGO_RUNSERVER_HIDE_WARNING": "true",
    }
    env.pop("TEST_STORAGE", None)
    a, b = App(env, tmp_path / "a.log"), App(env, tmp_path / "b.log")
    try:
        a.wait()
        b.wait()
        status, page = a.request(IMPORT, cookies)
        assert status == 200
        data = tablib.Dataset(headers=["名称", "类型", "上级组织"])
        data.append(["跨进程社区党支部", "基层党组织(二级党组织)", committee.name])
        data.append(["跨进程二支部", "基层党组织(二级党组织)", committee.name])
        body, content_type = multipart(
            {"csrfmiddlewaretoken": hidden_inputs(page)["csrfmiddlewaretoken"], "format": "0"},
            {"import_file": ("导入.xlsx", data.export("xlsx"))},
        )
        status, preview = a.request(IMPORT, cookies, body, content_type)
        assert status == 200 and "跨进程社区党支部" in preview, a.output()
        form = hidden_inputs(preview)
        assert ImportPreview.objects.filter(token=form["import_file_name"], user=root).exists()
        assert not Organization.objects.filter(name__startswith="跨进程").exists()

        confirm = urllib.parse.urlencode(form).encode()
        form_type = "application/x-www-form-urlencoded"
        status, done = b.request(CONFIRM, cookies, confirm, form_type)
        assert status == 200 and "导入预览已完成或已过期" not in done, b.output()
        assert "新增2条记录" in done  # the admin's message, on process B
        assert Organization.objects.filter(name__startswith="跨进程").count() == 2

        # The same confirm again, on either process: used once, nothing imported twice.
        for app in (b, a):
            status, again = app.request(CONFIRM, cookies, confirm, form_type)
            assert "导入预览已完成或已过期" in again
        assert Organization.objects.filter(name__startswith="跨进程").count() == 2
        assert not ImportPreview.objects.exists()
        assert not absent_media.exists()
    finally:
        a.stop()
        b.stop()
