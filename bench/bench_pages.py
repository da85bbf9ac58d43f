"""Pages side by side in one run, through Django's test Client on the benchmark database.

1. The project changelist against the strict limit (bench/urls.py `StrictProjectAdmin`: a
   bare ModelAdmin without a full COUNT(*) and without SELECT DISTINCT year, with the
   product's columns, joins, search fields and page size), product and limit alternated:
   as a superuser (every organisation) and as an org reviewer (one organisation). The
   search is one organisation's name: for the superuser it narrows 100,000 projects to that
   organisation's (~170 closed ones), for its reviewer the page is full (50 rows).
2. Every page of each role's day (project lists, a running project's page, the dashboards,
   the invoice list, the statistics, the ledgers, my downloads …): median time and query
   count. With `--small URL` the pages are measured in child processes on the small and the
   city database alternately (`--rounds`), and a growth table is printed (city / small).

Query counts are asserted in tests; times only here. Nothing is written: the run happens
in one transaction that is rolled back (its superuser and sessions included).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_city .venv/bin/python \\
        bench/bench_pages.py --small postgres://postgres@127.0.0.1:5432/bench_small
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

from common import setup


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=9)
    parser.add_argument("--sql", action="store_true", help="print each page's SQL")
    parser.add_argument("--small", help="DATABASE_URL of the 10× smaller database (growth)")
    parser.add_argument("--rounds", type=int, default=3, help="alternations small/city")
    parser.add_argument("--pages-json", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--only", help="measure only pages whose name contains this")
    args = parser.parse_args()
    small = city = None
    if args.small:
        small, city = measure_growth(args)
    setup()

    from django.db import transaction
    from django.test.utils import override_settings, setup_test_environment

    setup_test_environment()
    # force_login() skips the sign-in steps: the second factor is not asked for here.
    bench_settings = override_settings(
        ROOT_URLCONF="bench.urls", DEBUG=False, TWO_FACTOR_REQUIRED_ROLES=[]
    )
    with bench_settings, transaction.atomic():
        run(args, small, city)
        transaction.set_rollback(True)


def measure_pages(args, url: str) -> dict:
    """Every page on the database at `url`, in a child process (Django reads one database)."""
    command = [sys.executable, __file__, "--pages-json", "--repeat", str(args.repeat)]
    if args.only:
        command += ["--only", args.only]
    env = {**os.environ, "DATABASE_URL": url}
    out = subprocess.run(command, env=env, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def measure_growth(args) -> tuple[dict, dict]:
    """Small and city databases alternately, `--rounds` times each (so a load spike on the
    shared machine hits both), the median per page over the rounds."""
    runs = {"small": [], "city": []}
    for round_ in range(args.rounds):
        for name, url in (("small", args.small), ("city", os.environ["DATABASE_URL"])):
            print(f"第 {round_ + 1} 轮 {name}({url.rsplit('/', 1)[-1]})……{load()}", flush=True)
            runs[name].append(measure_pages(args, url))

    def medians(results):
        return {
            page: {
                field: statistics.median(result[page][field] for result in results)
                for field in ("ms", "sql_ms", "queries", "rows")
            }
            for page in results[0]
        }

    return medians(runs["small"]), medians(runs["city"])


def rows_shown(response) -> int:
    """The rows of the page's main list (a changelist's result_list), 0 for other pages."""
    context = response.context
    cl = context.get("cl") if context is not None else None
    return len(cl.result_list) if cl is not None else 0


def load() -> str:
    return "负载 " + " ".join(f"{value:.2f}" for value in os.getloadavg())


def role_user(group, **filters):
    from accounts.models import User

    return User.objects.filter(groups__name=group, is_active=True, **filters).order_by("pk").first()


def sort_by(site, user, field: str) -> str:
    """The changelist's `o` value that sorts by `field` descending on this admin site."""
    from django.test import RequestFactory

    from projects.models import Project

    model_admin = site._registry[Project]
    request = RequestFactory().get("/")
    request.user = user
    names = list(model_admin.get_list_display(request))
    if model_admin.get_actions(request):
        names.insert(0, "action_checkbox")
    return f"-{names.index(field)}"


def subjects():
    """Who and what the pages are measured for: the same kind of row at every scale."""
    from django.db.models import Count

    from accounts.models import Organization, User
    from projects.models import Project

    top = Organization.objects.filter(parent__isnull=True).order_by("pk").first()
    root = User.objects.create_superuser(
        "bench_pages_root", password=None, last_name="基准", organization=top
    )
    # The organisation with the most closed projects: its reviewer's page is full.
    org_id = (
        Project.objects.filter(state="closed")
        .values("organization_id")
        .annotate(n=Count("pk"))
        .order_by("-n", "organization_id")[0]["organization_id"]
    )
    organization = Organization.objects.get(pk=org_id)
    # A running project with invoices (its page's heaviest part, the invoices and their
    # risk rules, is skipped for a project without any): the same kind of page at every
    # scale, not an empty one on one database and a full one on the other.
    running_ones = Project.objects.filter(state="in_progress", invoices__isnull=False).distinct()
    running = (
        running_ones.filter(organization_id=org_id).order_by("pk").first()
        or running_ones.order_by("pk").first()
    )
    users = {
        "超级用户": root,
        "领导小组": role_user("leadership"),
        "财政科": role_user("finance"),
        "项目部": role_user("org_reviewer", organization_id=org_id),
        "项目负责人": role_user("applicant", organization_id=org_id),
    }
    return users, organization, running


def run(args, small, city=None):
    from django.contrib import admin
    from django.db import connection
    from django.test import Client
    from django.utils import timezone

    from bench.urls import strict_site

    users, organization, running = subjects()
    clients = {}
    for name, user in users.items():
        clients[name] = Client()
        clients[name].force_login(user)
    search = f"state__exact=closed&q={organization.name}"

    def changelists(who):
        user = users[who]
        product = f"/admin/projects/project/?{search}&o={sort_by(admin.site, user, 'title')}"
        strict = f"/strict/projects/project/?{search}&o={sort_by(strict_site, user, 'title')}"
        return product, strict

    year = timezone.localdate().year
    pages = {
        "项目列表 · 超级用户": ("超级用户", "/admin/projects/project/"),
        "项目列表 · 领导小组": ("领导小组", "/admin/projects/project/"),
        "项目列表 · 财政科(待审核结算)": (
            "财政科",
            "/admin/projects/project/?state__exact=settlement_review",
        ),
        "项目列表 · 项目部": ("项目部", "/admin/projects/project/"),
        "项目列表 · 项目负责人": ("项目负责人", "/admin/projects/project/"),
        "项目修改页(实施中)": ("项目部", f"/admin/projects/project/{running.pk}/change/"),
        "工作台首页 · 超级用户": ("超级用户", "/admin/"),
        "工作台首页 · 领导小组": ("领导小组", "/admin/"),
        "工作台首页 · 财政科": ("财政科", "/admin/"),
        "工作台首页 · 项目部": ("项目部", "/admin/"),
        "工作台首页 · 项目负责人": ("项目负责人", "/admin/"),
        "发票列表(财政科,待审核)": (
            "财政科",
            "/admin/projects/invoice/?check_status__exact=pending",
        ),
        "发票列表 · 项目部": ("项目部", "/admin/projects/invoice/"),
        "拨付列表 · 财政科": ("财政科", "/admin/projects/disbursement/"),
        "统计报表 · 领导小组": ("领导小组", "/admin/reports/"),
        "统计报表 · 项目部": ("项目部", "/admin/reports/"),
        "经费池台账 · 财政科": ("财政科", f"/admin/projects/ledger/{year}/"),
        "组织台账 · 项目部": (
            "项目部",
            f"/admin/projects/ledger/{year}/org/{organization.pk}/",
        ),
        "我的下载 · 财政科": ("财政科", "/admin/projects/backgroundjob/"),
    }
    if args.only:
        pages = {name: page for name, page in pages.items() if args.only in name}

    def count_queries(who, url):
        client = clients[who]
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        queries = []

        def record(execute, sql, params, many, context):
            started = time.perf_counter()
            try:
                return execute(sql, params, many, context)
            finally:
                queries.append((time.perf_counter() - started, sql))

        with connection.execute_wrapper(record):
            client.get(url)
        if args.sql:
            print(url, *(f"{s * 1000:6.1f} ms  {q[:300]}" for s, q in queries), sep="\n    ")
        return len(queries), sum(s for s, _ in queries)

    def once(who, url):
        started = time.perf_counter()
        clients[who].get(url)
        return time.perf_counter() - started

    measured = city or {}
    for name, (who, url) in pages.items() if city is None else ():
        count, sql = count_queries(who, url)
        seconds = statistics.median(once(who, url) for _ in range(args.repeat))
        measured[name] = {
            "ms": seconds * 1000,
            "queries": count,
            "sql_ms": sql * 1000,
            "rows": rows_shown(clients[who].get(url)),
        }
    if args.pages_json:
        print(json.dumps(measured, ensure_ascii=False))
        return

    from projects.models import Project

    print(f"{Project.objects.count():,} 个项目;{load()}")
    print(f"项目列表对严格极限(交替,中位数,重复 {args.repeat} 次;筛选 已结项 + 搜索组织名 + 排序)")
    for who in ("超级用户", "项目部"):
        product, strict = changelists(who)
        counts = count_queries(who, product)[0], count_queries(who, strict)[0]
        times = ([], [])
        for _ in range(args.repeat):  # alternate, so both see the same machine load
            times[0].append(once(who, product))
            times[1].append(once(who, strict))
        p, s = statistics.median(times[0]), statistics.median(times[1])
        print(
            f"  项目列表 · {who}:产品 {p * 1000:.1f} 毫秒 {counts[0]} 次查询,"
            f"严格极限 {s * 1000:.1f} 毫秒 {counts[1]} 次查询:{p / s:.2f}×"
        )
    print(f"  {load()}")
    print(f"各页面(中位数,重复 {args.repeat} 次;SQL 为单次请求内查询耗时之和)")
    if small is None:
        for name, row in measured.items():
            print(
                f"  {name}: {row['ms']:.1f} 毫秒(SQL {row['sql_ms']:.1f}),{row['queries']} 次查询"
            )
    else:
        print(f"  小库与城市交替 {args.rounds} 轮,每轮各页面中位数,再取各轮中位数")
        print("  页面 | 小库 毫秒(SQL)/查询/行 | 城市 毫秒(SQL)/查询/行 | 增长(耗时)")
        for name, row in measured.items():
            base = small.get(name)
            if base is None:
                continue
            print(
                f"  {name} | {base['ms']:.1f}({base['sql_ms']:.1f})/{base['queries']}/"
                f"{base['rows']:.0f} | {row['ms']:.1f}({row['sql_ms']:.1f})/{row['queries']}/"
                f"{row['rows']:.0f} | {row['ms'] / base['ms']:.2f}×"
            )
    print(f"  {load()}")


if __name__ == "__main__":
    main()
