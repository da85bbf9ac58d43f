"""Shared helpers for the benchmark scripts: Django set-up, a benchmark superuser, timing
(median of repeats) and peak memory (tracemalloc, in a separate pass so it does not slow
the timed runs)."""

from __future__ import annotations

import os
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")


def setup():
    import django

    django.setup()


def bench_superuser():
    from accounts.models import Organization, User

    user = User.objects.filter(username="bench_root").first()
    if user is None:
        root = Organization.objects.filter(parent__isnull=True).first()
        user = User.objects.create_superuser(
            "bench_root", password=None, organization=root, last_name="基准"
        )
    return user


def timed(func, repeat: int = 3) -> float:
    """Median wall time in seconds."""
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        func()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def peak_memory(func) -> int:
    """Peak Python allocation in bytes while running func once."""
    tracemalloc.start()
    try:
        func()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def mib(value: int) -> str:
    return f"{value / 1048576:.1f} MiB"
