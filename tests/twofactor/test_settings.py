"""Which roles must use a second factor comes from the environment."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run(code_or_args, **env):
    clean = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    args = code_or_args if isinstance(code_or_args, list) else ["-c", code_or_args]
    return subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        env={**clean, "DJANGO_SETTINGS_MODULE": "config.settings", **env},
        capture_output=True,
        text=True,
    )


ROLES = (
    "import json, django; from django.conf import settings; django.setup(); "
    "print(json.dumps(settings.TWO_FACTOR_REQUIRED_ROLES))"
)


def test_by_default_leadership_finance_and_superusers_must_use_a_second_factor():
    assert json.loads(run(ROLES).stdout) == ["leadership", "finance", "superuser"]


def test_the_environment_sets_the_mandatory_roles():
    result = run(ROLES, DJANGO_2FA_REQUIRED_ROLES="leadership,finance,auditor,superuser")
    assert json.loads(result.stdout) == ["leadership", "finance", "auditor", "superuser"]
    assert json.loads(run(ROLES, DJANGO_2FA_REQUIRED_ROLES="").stdout) == []


def test_a_misspelt_role_stops_the_system_check():
    result = run(["manage.py", "check"], DJANGO_2FA_REQUIRED_ROLES="leadershp,finance")
    assert result.returncode != 0
    assert "dangfei.E003" in result.stderr and "leadershp" in result.stderr
