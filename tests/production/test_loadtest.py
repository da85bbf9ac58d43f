"""The load test itself runs, stops by itself, and finds no error and no broken invariant,
the bare admin's pages included (a short run; the figures in the README come from a longer
one)."""

import os
import subprocess
import sys

import pytest

from tests.production.server import ROOT

pytestmark = pytest.mark.postgres


def test_a_short_bounded_load_test_passes():
    result = subprocess.run(
        [
            sys.executable,
            "bench/loadtest.py",
            "--duration",
            "3",
            "--users-per-role",
            "1",
            "--workers",
            "2",
            "--phase-pairs",
            "1",
            "--phase-seconds",
            "2",
        ],
        cwd=ROOT,
        env=dict(os.environ),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "错误 0 个" in result.stdout
    assert "不变量:全部成立" in result.stdout
    assert "p99(ms)" in result.stdout
    # The read-only comparison against the bare admin ran (its pages answered 200: no error).
    assert "吞吐比 产品 / 裸后台" in result.stdout
