"""Secret keys: from the environment in a deployment, generated once into var/ otherwise.

No key is ever committed. Without DJANGO_SECRET_KEY / HISTORY_HMAC_KEY / DOCUMENT_VERIFY_KEY
in the environment (the embedded demo, the tests, a developer's machine) a random key is
written on first use to a file under var/ (ignored by git, mode 0600) and read back on every
later start. A deployment must set all three in the environment: `manage.py check --deploy`
fails otherwise (config.checks), and `make serve` runs that check before gunicorn starts.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

# Environment variable -> file under var/ used when the variable is missing.
KEY_FILES = {
    "DJANGO_SECRET_KEY": "secret_key",
    "HISTORY_HMAC_KEY": "history_hmac_key",
    "DOCUMENT_VERIFY_KEY": "document_verify_key",
}
# The deployment check's id for each missing key (config.checks).
CHECK_IDS = {
    "DJANGO_SECRET_KEY": "dangfei.E001",
    "HISTORY_HMAC_KEY": "dangfei.E002",
    "DOCUMENT_VERIFY_KEY": "dangfei.E004",
}


def local_key(directory: Path, name: str) -> str:
    """The key in directory/name, created with 50 random bytes when it does not exist yet.

    Several processes may start at once (test workers, gunicorn): the key is written to a
    private temporary file and linked into place, so exactly one key wins and every process
    reads that one.
    """
    path = directory / name
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        pass
    directory.mkdir(parents=True, exist_ok=True)
    temporary = directory / f".{name}.{os.getpid()}.{secrets.token_hex(4)}"
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(secrets.token_urlsafe(50) + "\n")
    try:
        os.link(temporary, path)
    except FileExistsError:
        pass
    finally:
        temporary.unlink()
    return path.read_text().strip()


def key(variable: str, directory: Path) -> str:
    value = os.environ.get(variable, "").strip()
    return value or local_key(directory, KEY_FILES[variable])


def missing_from_environment() -> list[str]:
    return [name for name in KEY_FILES if not os.environ.get(name, "").strip()]
