"""CI check: requirements.lock is what `make lock` would write for today's pyproject.toml.

pip-compile is run again into a copy of the lock (it keeps every pin that still satisfies
pyproject.toml, so only a real mismatch changes the copy) with the options of `make lock`,
and the two are compared. A new, removed or re-pinned dependency in pyproject.toml without
`make lock` fails here with the difference. Needs the package index (PyPI or its mirror).
"""

from __future__ import annotations

import difflib
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOCK = ROOT / "requirements.lock"
# Keep in step with LOCK_OPTIONS in the Makefile.
OPTIONS = [
    "--quiet",
    "--generate-hashes",
    "--extra=dev",
    "--strip-extras",
    "--allow-unsafe",
    "--no-emit-index-url",
    "--no-emit-find-links",
]


def main() -> int:
    if not LOCK.exists():
        print("缺少 requirements.lock:请运行 make lock。", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "requirements.lock"
        shutil.copyfile(LOCK, copy)
        result = subprocess.run(
            [sys.executable, "-m", "piptools", "compile", *OPTIONS, "-o", str(copy)]
            + ["pyproject.toml"],
            cwd=ROOT,
            env={**os.environ, "CUSTOM_COMPILE_COMMAND": "make lock"},
            capture_output=True,
            text=True,
        )
        if result.returncode != 0:
            print(result.stdout + result.stderr, file=sys.stderr)
            print("pip-compile 运行失败(见上),无法核对锁定文件。", file=sys.stderr)
            return 1
        fresh = copy.read_text().splitlines(keepends=True)
    current = LOCK.read_text().splitlines(keepends=True)
    if fresh == current:
        print("requirements.lock 与 pyproject.toml 一致。")
        return 0
    sys.stderr.writelines(
        difflib.unified_diff(current, fresh, "requirements.lock", "make lock 将生成的内容")
    )
    print("requirements.lock 与 pyproject.toml 不一致:请运行 make lock 并提交。", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
