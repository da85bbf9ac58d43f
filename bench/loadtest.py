#!/usr/bin/env python
"""Bounded load test on loopback: gunicorn + PostgreSQL, several users of each role doing
their daily reading for a fixed time, then the invariants. Prints throughput and latency
percentiles; exits non-zero on any error or broken invariant. Stops by itself.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/harden \\
        .venv/bin/python bench/loadtest.py --duration 30 --users-per-role 2

It creates a fresh database beside DATABASE_URL's (dropped afterwards), loads the demo data,
starts `make serve` on a free loopback port and sends traffic only there (or to --base-url,
which must be a loopback address, for a server you started yourself).
Round 1 covers the reading journeys; the write journeys join as their pages land.
"""

from __future__ import annotations

import argparse
import http.cookiejar
import ipaddress
import random
import re
import statistics
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DEMO_PASSWORD = "Dangfei-Demo-2026"
ACCOUNTS = {
    "applicant": ["applicant1", "applicant2", "applicant3"],
    "org_reviewer": ["reviewer1", "reviewer2", "reviewer3"],
    "leadership": ["leader1", "leader2"],
    "finance": ["finance1", "finance2"],
    "auditor": ["auditor1"],
}
MAX_REQUESTS_PER_USER = 100_000  # a hard bound besides the clock
LINK = re.compile(r'href="(/admin/[a-z_]+/[a-z_]+/(?:\d+/change/)?)"')


@dataclass
class Result:
    role: str
    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def session():
    jar = http.cookiejar.CookieJar()
    return urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))


def get(opener, url: str) -> tuple[int, str]:
    try:
        with opener.open(url, timeout=30) as response:
            return response.status, response.read().decode(errors="replace")
    except urllib.error.HTTPError as exc:
        return exc.code, ""


def log_in(opener, base_url: str, username: str) -> str:
    _, page = get(opener, f"{base_url}/admin/login/")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    data = urllib.parse.urlencode(
        {"csrfmiddlewaretoken": token, "username": username, "password": DEMO_PASSWORD}
    ).encode()
    request = urllib.request.Request(
        f"{base_url}/admin/login/?next=/admin/", data=data, headers={"Referer": base_url}
    )
    with opener.open(request, timeout=30) as response:
        page = response.read().decode()
        if response.url.rstrip("/") != f"{base_url}/admin":
            raise RuntimeError(f"{username} 登录失败:{response.url}")
        return page


def user_journey(base_url, role, username, start: threading.Barrier, clock: dict, result):
    """Log in (before the clock starts: password hashing is deliberately slow), then read:
    the dashboard, the changelists it links to, the change pages found there."""
    opener = session()
    try:
        index = log_in(opener, base_url, username)
    except Exception as exc:  # counted, not raised: the run reports every error
        result.errors.append(f"{username} 登录:{exc}")
        index = ""
    start.wait()
    if not index:
        return
    pages = {"/admin/"} | set(LINK.findall(index))
    rng = random.Random(username)
    for _ in range(MAX_REQUESTS_PER_USER):
        if time.monotonic() >= clock["deadline"]:
            return
        path = rng.choice(sorted(pages))
        started = time.perf_counter()
        status, body = get(opener, base_url + path)
        result.latencies.append(time.perf_counter() - started)
        if status != 200:
            result.errors.append(f"{username} GET {path}: {status}")
            continue
        # Daily work: from the dashboard to a list, from a list to an item (the rows of a
        # list are the user's own, by scoping); an item's page is a leaf.
        if len(pages) < 200 and not path.endswith("/change/"):
            pages.update(LINK.findall(body))


def percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def report(results: list[Result], seconds: float) -> list[str]:
    by_role: dict[str, list[float]] = defaultdict(list)
    for result in results:
        by_role[result.role].extend(result.latencies)
    everything = [x for r in results for x in r.latencies]
    lines = [
        f"{'角色':<14}{'请求数':>8}{'吞吐(次/秒)':>14}{'p50(ms)':>10}{'p90(ms)':>10}"
        f"{'p99(ms)':>10}{'最大(ms)':>10}"
    ]
    for role, values in [*sorted(by_role.items()), ("合计", everything)]:
        lines.append(
            f"{role:<14}{len(values):>8}{len(values) / seconds:>14.1f}"
            f"{percentile(values, 0.5) * 1000:>10.1f}{percentile(values, 0.9) * 1000:>10.1f}"
            f"{percentile(values, 0.99) * 1000:>10.1f}{max(values, default=0) * 1000:>10.1f}"
        )
    if everything:
        lines.append(f"平均延迟 {statistics.mean(everything) * 1000:.1f} ms")
    return lines


INVARIANTS = """
from django.db.models import Count, Sum
from projects.models import Disbursement, FundingPolicy, Invoice, Project
problems = []
for policy in FundingPolicy.objects.all():
    if policy.committed() > policy.pool_total:
        problems.append(f"{policy.year} 年度经费池超支:{policy.committed()} > {policy.pool_total}")
for project in Project.objects.annotate(paid=Sum("disbursements__amount")):
    paid = project.paid or 0
    settled = project.settlement_amount
    if settled is not None and not (paid <= settled <= (project.approved_amount or 0)):
        approved = project.approved_amount
        problems.append(f"{project.code}: 拨付 {paid} / 结算 {settled} / 核定 {approved}")
duplicates = Invoice.objects.values("identity").annotate(n=Count("pk")).filter(n__gt=1)
problems += [f"发票重复:{row['identity']}" for row in duplicates]
print("\\n".join(problems) if problems else "INVARIANTS-OK")
"""


def check_invariants(env: dict) -> list[str]:
    import subprocess

    problems = []
    for args in (["verify_history"], ["shell", "-c", INVARIANTS]):
        result = subprocess.run(
            [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True
        )
        output = (result.stdout + result.stderr).strip()
        if result.returncode != 0 or (args[0] == "shell" and "INVARIANTS-OK" not in output):
            problems.append(output)
    return problems


def run(base_url: str, duration: float, users_per_role: int) -> tuple[list[Result], float]:
    results, threads = [], []
    clock: dict[str, float] = {}
    count = users_per_role * len(ACCOUNTS)

    def start_clock():
        clock["started"] = time.monotonic()
        clock["deadline"] = clock["started"] + duration

    start = threading.Barrier(count, action=start_clock, timeout=300)
    for role, accounts in ACCOUNTS.items():
        for i in range(users_per_role):
            result = Result(role)
            results.append(result)
            username = accounts[i % len(accounts)]
            thread = threading.Thread(
                target=user_journey,
                args=(base_url, role, username, start, clock, result),
                daemon=True,
            )
            threads.append(thread)
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=duration + 360)
    return results, time.monotonic() - clock["started"]


def require_loopback(base_url: str) -> None:
    host = urllib.parse.urlsplit(base_url).hostname or ""
    if host != "localhost" and not ipaddress.ip_address(host).is_loopback:
        raise SystemExit(f"只对本机回环地址施压:{base_url}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="党费项目化管理 回环负载测试(有界)")
    parser.add_argument("--duration", type=float, default=30, help="秒,缺省 30")
    parser.add_argument("--users-per-role", type=int, default=2, help="每个角色的并发用户数")
    parser.add_argument("--workers", type=int, default=3, help="gunicorn 进程数")
    parser.add_argument("--base-url", help="已在本机运行的服务(须有演示数据);缺省自行启动")
    args = parser.parse_args(argv)
    if not 0 < args.duration <= 600 or not 0 < args.users_per_role <= 20:
        raise SystemExit("持续时间须在 (0, 600] 秒,每角色并发数须在 1..20")

    if args.base_url:
        require_loopback(args.base_url)
        results, seconds = run(args.base_url, args.duration, args.users_per_role)
        problems = []
        env = None
    else:
        from tests.production.server import serving

        with tempfile.TemporaryDirectory() as tmp:
            with serving(Path(tmp), workers=args.workers) as (base_url, env):
                print(
                    f"gunicorn({args.workers} 进程)+ {env['DATABASE_URL'].split('://')[0]}:{base_url}"
                )
                results, seconds = run(base_url, args.duration, args.users_per_role)
                problems = check_invariants(env)
    errors = [e for r in results for e in r.errors]
    print(f"时长 {seconds:.1f} 秒,并发用户 {len(results)}(每角色 {args.users_per_role})")
    print("\n".join(report(results, seconds)))
    print(f"错误 {len(errors)} 个" + (":" + ";".join(errors[:10]) if errors else ""))
    if env is not None:
        print("不变量:" + ("全部成立(经费池、结算、发票唯一、历史链)" if not problems else ""))
    for problem in problems:
        print(problem)
    return 1 if errors or problems else 0


if __name__ == "__main__":
    sys.exit(main())
