import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command

from accounts.models import Organization, User

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.django_db
def test_demo_data_is_idempotent(capsys):
    call_command("demo_data")
    counts = (Organization.objects.count(), User.objects.count())
    call_command("demo_data")
    assert (Organization.objects.count(), User.objects.count()) == counts
    output = capsys.readouterr().out
    assert "密码" in output
    for username in ["applicant1", "reviewer1", "leader1", "finance1", "auditor1"]:
        assert User.objects.get(username=username).role_names


@pytest.mark.django_db
def test_demo_users_can_log_in_with_the_printed_password(client, capsys):
    call_command("demo_data")
    password = capsys.readouterr().out.split("密码:")[1].split()[0]
    assert client.login(username="leader1", password=password)


def test_check_deploy_is_clean_with_production_variables(tmp_path):
    env = {
        "PATH": "/usr/bin:/bin",
        "DJANGO_SECRET_KEY": "x" * 30 + "-production-secret-AbCdEfGhIjKlMnOpQrSt",
        "DJANGO_ALLOWED_HOSTS": "dangfei.example.org",
        "DJANGO_SECURE_HTTPS": "1",
        "DJANGO_STATIC_MANIFEST": "1",
        "HISTORY_HMAC_KEY": "a-long-random-history-key",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "WARNINGS" not in result.stderr
    assert "no issues" in result.stdout
