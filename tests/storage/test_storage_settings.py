"""DJANGO_STORAGE=s3 builds django-storages' S3Storage from the environment, private.

Run in a subprocess (settings are read once per process); nothing talks to the network:
the storage object is only instantiated and its attributes read.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

S3_ENV = {
    "DJANGO_STORAGE": "s3",
    "DJANGO_S3_BUCKET": "dangfei-files",
    "DJANGO_S3_ENDPOINT_URL": "https://oss.example.internal",
    "DJANGO_S3_ACCESS_KEY_ID": "AKIDEXAMPLE",
    "DJANGO_S3_SECRET_ACCESS_KEY": "secret-example",
    "DJANGO_S3_REGION": "cn-north-1",
}

CODE = """
import json, django
django.setup()
from django.core.files.storage import default_storage
s = default_storage
s._setup()
s = s._wrapped
names = ["bucket_name", "endpoint_url", "access_key", "secret_key", "region_name",
         "default_acl", "querystring_auth", "file_overwrite"]
values = {n: getattr(s, n) for n in names if hasattr(s, n)}
values["class"] = f"{type(s).__module__}.{type(s).__name__}"
print(json.dumps(values))
"""


def run(**env):
    clean = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    return subprocess.run(
        [sys.executable, "-c", CODE],
        cwd=ROOT,
        env={**clean, "DJANGO_SETTINGS_MODULE": "config.settings", **env},
        capture_output=True,
        text=True,
    )


def test_s3_storage_is_built_from_the_environment_and_private():
    result = run(**S3_ENV)
    assert result.returncode == 0, result.stderr
    values = json.loads(result.stdout)
    assert values["class"] == "storages.backends.s3.S3Storage"
    assert values["bucket_name"] == "dangfei-files"
    assert values["endpoint_url"] == "https://oss.example.internal"
    assert values["access_key"] == "AKIDEXAMPLE"
    assert values["secret_key"] == "secret-example"
    assert values["region_name"] == "cn-north-1"
    assert values["default_acl"] == "private"
    assert values["querystring_auth"] is True
    assert values["file_overwrite"] is False


def test_default_is_the_local_file_system():
    result = run()
    assert result.returncode == 0, result.stderr
    assert (
        json.loads(result.stdout)["class"]
        == "django.core.files.storage.filesystem.FileSystemStorage"
    )


def test_s3_without_a_bucket_refuses_to_start():
    env = {k: v for k, v in S3_ENV.items() if k != "DJANGO_S3_BUCKET"}
    result = run(**env)
    assert result.returncode != 0
    assert "DJANGO_S3_BUCKET" in result.stderr


def test_an_unknown_storage_name_refuses_to_start():
    result = run(DJANGO_STORAGE="ftp")
    assert result.returncode != 0
    assert "DJANGO_STORAGE 只能是 local 或 s3" in result.stderr
