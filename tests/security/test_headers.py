"""Security headers on every page: CSP without inline script, no framing, safe cookies."""

import pytest
from django.conf import settings


def csp_directives(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    directives = {}
    for part in header.split(";"):
        name, *values = part.split()
        directives[name] = values
    return directives


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/admin/login/", "/admin/", "/admin/projects/project/"])
def test_every_page_carries_a_strict_content_security_policy(client, leader, url):
    if url != "/admin/login/":
        client.force_login(leader)
    response = client.get(url)
    assert response.status_code == 200
    csp = csp_directives(response)
    assert csp["default-src"] == ["'self'"]
    assert csp["object-src"] == ["'none'"]
    assert csp["frame-ancestors"] == ["'none'"]
    assert csp["form-action"] == ["'self'"]
    # No inline script and no eval: only exact hashes (import-export's one handler) besides self.
    for directive in ("script-src", "style-src"):
        assert "'unsafe-inline'" not in csp[directive]
        assert "'unsafe-eval'" not in csp[directive]
        assert all(
            v == "'self'" or v == "'unsafe-hashes'" or v.startswith("'sha256-")
            for v in csp[directive]
        )
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"


@pytest.mark.django_db
def test_the_site_pages_have_no_inline_script(client, leader):
    assert "<script>" not in client.get("/admin/login/").content.decode()
    client.force_login(leader)
    for url in ["/admin/", "/admin/projects/project/"]:
        page = client.get(url).content.decode()
        assert "<script>" not in page and " onclick=" not in page, url


def test_session_and_cookie_settings():
    assert settings.SESSION_COOKIE_HTTPONLY
    assert settings.CSRF_COOKIE_HTTPONLY
    assert settings.SESSION_EXPIRE_AT_BROWSER_CLOSE
    assert settings.SESSION_COOKIE_AGE <= 8 * 3600
    assert settings.SESSION_COOKIE_SAMESITE == "Lax"
    assert settings.X_FRAME_OPTIONS == "DENY"


@pytest.mark.django_db
def test_the_session_cookie_expires_with_the_browser_and_is_http_only(client, applicant):
    from tests.factories import PASSWORD

    response = client.post(
        "/admin/login/?next=/admin/", {"username": "alice", "password": PASSWORD}
    )
    cookie = response.cookies[settings.SESSION_COOKIE_NAME]
    assert cookie["httponly"]
    assert not cookie["expires"] and not cookie["max-age"]  # a browser-session cookie
    assert cookie["samesite"] == "Lax"
    # … and the server side still ends it after SESSION_COOKIE_AGE.
    assert 0 < client.session.get_expiry_age() <= settings.SESSION_COOKIE_AGE


@pytest.mark.django_db
def test_refusals_and_missing_pages_are_explained_in_chinese(client, applicant):
    client.force_login(applicant)
    refused = client.get("/admin/projects/fundingpolicy/add/")
    assert refused.status_code == 403
    assert "您无权访问此页面" in refused.content.decode()
    missing = client.get("/admin/projects/project/987654/change/")
    assert missing.status_code == 404
    assert "页面不存在" in missing.content.decode()
