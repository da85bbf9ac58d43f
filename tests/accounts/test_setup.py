import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from accounts.models import Organization, User
from accounts.roles import Role

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
        "DOCUMENT_VERIFY_KEY": "a-long-random-document-key",
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


# --- demo data is for demos -----------------------------------------------------------


def _demo_data_subprocess(tmp_path, *args, **env) -> subprocess.CompletedProcess:
    import os

    clean = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    base = {**clean, "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}", **env}
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput"],
        cwd=ROOT,
        env=base,
        check=True,
        capture_output=True,
    )
    return subprocess.run(
        [sys.executable, "manage.py", "demo_data", *args],
        cwd=ROOT,
        env=base,
        capture_output=True,
        text=True,
    )


def test_outside_debug_demo_data_refuses_unless_asked(tmp_path):
    refused = _demo_data_subprocess(tmp_path)
    assert refused.returncode != 0
    assert "演示数据只用于演示" in refused.stderr and "--allow-demo-accounts" in refused.stderr
    allowed = _demo_data_subprocess(tmp_path, "--allow-demo-accounts")
    assert allowed.returncode == 0, allowed.stderr
    assert "演示数据已就绪" in allowed.stdout
    by_env = _demo_data_subprocess(tmp_path, DJANGO_ALLOW_DEMO_DATA="1")
    assert by_env.returncode == 0, by_env.stderr


@pytest.mark.django_db
def test_outside_debug_demo_data_changes_nothing_when_refused(monkeypatch, settings):
    monkeypatch.delenv("DJANGO_ALLOW_DEMO_DATA", raising=False)
    settings.DEBUG = False
    with pytest.raises(CommandError, match="演示数据只用于演示"):
        call_command("demo_data")
    assert not User.objects.exists() and not Organization.objects.exists()
    settings.DEBUG = True  # the developer's own machine: no flag needed
    call_command("demo_data")
    assert User.objects.filter(username="leader1", demo_account=True).exists()


@pytest.mark.django_db
def test_demo_data_never_changes_a_real_account_with_a_demo_name(work_committee, org_a):
    from tests.factories import UserFactory

    real = UserFactory(username="leader1", organization=org_a, roles=[Role.APPLICANT])
    real.set_password("a-real-password-of-a-real-person")
    real.save()
    with pytest.raises(CommandError, match="leader1"):
        call_command("demo_data")
    real.refresh_from_db()
    assert real.check_password("a-real-password-of-a-real-person")
    assert real.organization == org_a and real.role_names == {Role.APPLICANT}
    assert not real.demo_account
    # Nothing else was created either: the whole run stopped before writing.
    assert list(User.objects.values_list("username", flat=True)) == ["leader1"]


@pytest.mark.django_db
def test_demo_data_brings_its_own_accounts_back_to_their_demo_roles(capsys):
    call_command("demo_data")
    leader = User.objects.get(username="leader1")
    assert leader.demo_account
    leader.groups.clear()
    call_command("demo_data")
    leader = User.objects.get(username="leader1")
    assert leader.role_names == {Role.LEADERSHIP}


@pytest.mark.django_db
def test_demo_data_says_which_accounts_enrol_a_second_factor_on_first_login(settings, capsys):
    settings.TWO_FACTOR_REQUIRED_ROLES = ["leadership", "finance", "superuser"]
    call_command("demo_data")
    lines = capsys.readouterr().out.splitlines()
    marked = {line.split()[0] for line in lines if "须双重验证" in line and line.startswith("  ")}
    assert marked == {"leader1", "leader2", "finance1", "finance2"}
    assert any("绑定身份验证器" in line for line in lines)
