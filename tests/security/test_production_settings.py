"""The production switches map from the environment to the settings as documented."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
NAMES = [
    "SECURE_SSL_REDIRECT",
    "SESSION_COOKIE_SECURE",
    "CSRF_COOKIE_SECURE",
    "SECURE_HSTS_SECONDS",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS",
    "SECURE_PROXY_SSL_HEADER",
    "AXES_IPWARE_PROXY_COUNT",
    "AXES_IPWARE_META_PRECEDENCE_ORDER",
    "DEBUG",
]


def settings_with(**env) -> dict:
    code = (
        "import json, django; from django.conf import settings; django.setup(); "
        f"print(json.dumps({{n: getattr(settings, n) for n in {NAMES!r}}}))"
    )
    clean = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**clean, "DJANGO_SETTINGS_MODULE": "config.settings", **env},
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(result.stdout)


def test_https_in_production_turns_on_redirect_secure_cookies_and_hsts():
    values = settings_with(DJANGO_SECURE_HTTPS="1", DJANGO_PROXY_COUNT="1")
    assert values["SECURE_SSL_REDIRECT"] and values["SESSION_COOKIE_SECURE"]
    assert values["CSRF_COOKIE_SECURE"]
    assert values["SECURE_HSTS_SECONDS"] >= 31_536_000 and values["SECURE_HSTS_INCLUDE_SUBDOMAINS"]
    assert values["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    assert values["AXES_IPWARE_PROXY_COUNT"] == 1
    assert values["AXES_IPWARE_META_PRECEDENCE_ORDER"][0] == "HTTP_X_FORWARDED_FOR"
    assert values["DEBUG"] is False


def test_without_a_proxy_the_client_address_is_the_socket_address():
    values = settings_with()
    assert values["AXES_IPWARE_META_PRECEDENCE_ORDER"] == ["REMOTE_ADDR"]
    assert values["SECURE_HSTS_SECONDS"] == 0 and not values["SESSION_COOKIE_SECURE"]


# --- keys: from the environment in a deployment, never a committed default -------------

PRODUCTION_KEYS = {
    "DJANGO_SECRET_KEY": "x" * 30 + "-production-secret-AbCdEfGhIjKlMnOpQrSt",
    "HISTORY_HMAC_KEY": "a-long-random-history-key-from-the-vault",
    "DOCUMENT_VERIFY_KEY": "a-long-random-document-key-from-the-vault",
}
KEY_NAMES = tuple(PRODUCTION_KEYS)


def check_deploy(tmp_path, **env) -> subprocess.CompletedProcess:
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("DJANGO_") and k not in (*KEY_NAMES, "DATABASE_URL")
    }
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env={
            **clean,
            "DJANGO_ALLOWED_HOSTS": "dangfei.example.org",
            "DJANGO_SECURE_HTTPS": "1",
            "DJANGO_STATIC_MANIFEST": "1",
            "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
            **env,
        },
        capture_output=True,
        text=True,
    )


def test_check_deploy_fails_when_any_key_is_missing_from_the_environment(tmp_path):
    ids = {
        "DJANGO_SECRET_KEY": "dangfei.E001",
        "HISTORY_HMAC_KEY": "dangfei.E002",
        "DOCUMENT_VERIFY_KEY": "dangfei.E004",
    }
    none = check_deploy(tmp_path)
    assert none.returncode != 0
    for name, check_id in ids.items():
        assert check_id in none.stderr and name in none.stderr
    for missing in ids:
        present = {k: v for k, v in PRODUCTION_KEYS.items() if k != missing}
        result = check_deploy(tmp_path, **present)
        assert result.returncode != 0, missing
        assert ids[missing] in result.stderr and missing in result.stderr
        assert [i for n, i in ids.items() if n != missing and i in result.stderr] == []


def test_check_deploy_passes_with_all_keys_in_the_environment(tmp_path):
    result = check_deploy(tmp_path, **PRODUCTION_KEYS)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_without_the_environment_the_keys_come_from_var_never_a_committed_default():
    code = (
        "import json, django; from django.conf import settings; django.setup(); "
        "print(json.dumps([settings.SECRET_KEY, settings.HISTORY_HMAC_KEY,"
        " settings.DOCUMENT_VERIFY_KEY]))"
    )
    clean = {
        k: v for k, v in os.environ.items() if not k.startswith("DJANGO_") and k not in KEY_NAMES
    }
    runs = [
        json.loads(
            subprocess.run(
                [sys.executable, "-c", code],
                cwd=ROOT,
                env={**clean, "DJANGO_SETTINGS_MODULE": "config.settings"},
                capture_output=True,
                text=True,
                check=True,
            ).stdout
        )
        for _ in range(2)
    ]
    secret, history, document = runs[0]
    assert runs[1] == runs[0]  # generated once, then reused
    assert secret == (ROOT / "var" / "secret_key").read_text().strip()
    assert history == (ROOT / "var" / "history_hmac_key").read_text().strip()
    assert document == (ROOT / "var" / "document_verify_key").read_text().strip()
    assert min(len(secret), len(history), len(document)) >= 50
    assert len({secret, history, document}) == 3
    # No key is written in the code: neither value appears in any committed Python file.
    sources = "".join(p.read_text() for p in (ROOT / "config").glob("*.py"))
    assert secret not in sources and history not in sources and "dev-only" not in sources


def test_a_generated_key_file_is_private_and_reused(tmp_path):
    from config.keys import local_key

    first = local_key(tmp_path / "var", "secret_key")
    assert local_key(tmp_path / "var", "secret_key") == first
    assert (tmp_path / "var" / "secret_key").stat().st_mode & 0o777 == 0o600
    assert local_key(tmp_path / "other", "secret_key") != first
    assert list((tmp_path / "var").iterdir()) == [tmp_path / "var" / "secret_key"]


def test_make_serve_does_not_start_when_the_deployment_check_fails(tmp_path):
    """`make serve` without the keys in the environment stops at the check: gunicorn never
    boots. (The smoke test in tests/production starts it with the keys set.)"""
    venv = Path(sys.prefix)
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("DJANGO_") and k not in (*KEY_NAMES, "DATABASE_URL")
    }
    result = subprocess.run(
        # -o: the already installed interpreter is used as it is (no reinstall here).
        ["make", "--no-print-directory", "-o", f"{venv}/.installed", "serve", f"VENV={venv}"],
        cwd=ROOT,
        env={
            **clean,
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
            "DJANGO_SECURE_HTTPS": "0",
            "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
            "BIND": "127.0.0.1:1",
        },
        capture_output=True,
        text=True,
        timeout=120,
    )
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert all(f"dangfei.E00{n}" in output for n in (1, 2, 4))
    # make echoes each command it runs: it stopped before collectstatic and gunicorn.
    assert "collectstatic" not in output and "gunicorn" not in output
