"""Smoke test of the production run: `make serve` (collectstatic + gunicorn + whitenoise)
with the production variables on a fresh database (PostgreSQL on the PostgreSQL pass), a
login through the real login form with its CSRF token, the dashboard, a hashed static file."""

import http.cookiejar
import re
import urllib.request

from accounts.demo import DEMO_PASSWORD
from tests.production.server import serving, sign_in


def browser():
    jar = http.cookiejar.CookieJar()
    return urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar)), jar


def test_make_serve_logs_in_and_shows_the_dashboard(tmp_path):
    with serving(tmp_path) as (base_url, _env):
        opener, jar = browser()
        # A leadership account's first sign-in: password, then the enrolment page (the
        # second factor is mandatory for it in production), then the dashboard.
        status, url, page, headers, steps = sign_in(opener, base_url, "leader1", DEMO_PASSWORD)
        assert steps == ["enrol"]
        assert status == 200 and url == f"{base_url}/admin/"
        assert "工作台" in page and "周明远" in page
        assert "default-src 'self'" in headers["Content-Security-Policy"]
        assert headers["X-Frame-Options"] == "DENY"
        assert any(cookie.name == "sessionid" for cookie in jar)

        # Static files come from whitenoise with hashed names and long caching.
        css = re.search(r'href="(/static/admin/css/base\.[0-9a-f]{12}\.css)"', page).group(1)
        with opener.open(base_url + css) as response:
            assert response.status == 200
            assert "max-age=315360000" in response.headers["Cache-Control"]

        # A page of the application itself.
        with opener.open(f"{base_url}/admin/projects/project/") as response:
            assert response.status == 200

        # A later sign-in asks for the code instead; an applicant has no second step.
        again, _ = browser()
        status, url, page, _headers, steps = sign_in(again, base_url, "leader1", DEMO_PASSWORD)
        assert steps == ["code"] and url == f"{base_url}/admin/" and "工作台" in page
        applicant, _ = browser()
        status, url, page, _headers, steps = sign_in(
            applicant, base_url, "applicant1", DEMO_PASSWORD
        )
        assert steps == [] and url == f"{base_url}/admin/" and "工作台" in page
