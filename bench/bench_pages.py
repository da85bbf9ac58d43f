"""Pages side by side in one run, through Django's test Client on the benchmark database:

- the project changelist (filtered, searched, sorted by the same column) against a bare
  ModelAdmin over the same table with plain columns and the same page size (bench/urls.py):
  the limit, target within 1.5×; as a superuser (every organisation) and as an org reviewer
  (one organisation);
- the project change page of a project with 500 invoices and 100 history rows;
- the index page (to-do lists and pool figures) as leadership, finance and an org reviewer;
- the invoice changelist and the statistics report of the current year.

Prints median times and query counts (query counts are asserted in tests; times only here).
The two changelists are timed alternately, so a load spike on the machine hits both.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench .venv/bin/python bench/bench_pages.py
"""

import argparse
import statistics
import time

from common import bench_superuser, setup

SEARCH = "state__exact=in_progress&q=党员"
INVOICES = "/admin/projects/invoice/"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=9)
    parser.add_argument("--sql", action="store_true", help="print each page's SQL")
    args = parser.parse_args()
    setup()

    from django.test.utils import override_settings, setup_test_environment

    setup_test_environment()
    with override_settings(ROOT_URLCONF="bench.urls", DEBUG=False):
        run(args)


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


def run(args):
    from bench_fixtures import big_project
    from django.contrib import admin
    from django.db import connection
    from django.test import Client

    from bench.urls import bare_site

    root = bench_superuser()
    project = big_project(root)
    reviewer = role_user("org_reviewer", organization_id=project.organization_id)
    users = {
        "超级用户": root,
        "领导小组": role_user("leadership"),
        "财政科": role_user("finance"),
        "项目部": reviewer,
    }
    clients = {}
    for name, user in users.items():
        clients[name] = Client()
        clients[name].force_login(user)

    def changelists(who):
        user = users[who]
        product = f"/admin/projects/project/?{SEARCH}&o={sort_by(admin.site, user, 'title')}"
        bare = f"/bare/projects/project/?{SEARCH}&o={sort_by(bare_site, user, 'title')}"
        return product, bare

    pairs = {who: changelists(who) for who in ("超级用户", "项目部")}
    pages = {
        "项目修改页(500 张发票、100 条历史)": (
            "超级用户",
            f"/admin/projects/project/{project.pk}/change/",
        ),
        "工作台首页 · 领导小组": ("领导小组", "/admin/"),
        "工作台首页 · 财政科": ("财政科", "/admin/"),
        "工作台首页 · 项目部": ("项目部", "/admin/"),
        "发票列表(财政科,待审核)": ("财政科", f"{INVOICES}?check_status__exact=pending"),
        "统计报表": ("领导小组", "/admin/reports/"),
    }

    def count_queries(who, url):
        client = clients[who]
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        queries = []

        def record(execute, sql, params, many, context):
            queries.append(sql)
            return execute(sql, params, many, context)

        with connection.execute_wrapper(record):
            client.get(url)
        if args.sql:
            print(url, *queries, sep="\n    ")
        return len(queries)

    def once(who, url):
        started = time.perf_counter()
        clients[who].get(url)
        return time.perf_counter() - started

    print(f"页面耗时(中位数,重复 {args.repeat} 次)")
    for who, (product, bare) in pairs.items():
        counts = count_queries(who, product), count_queries(who, bare)
        times = ([], [])
        for _ in range(args.repeat):  # alternate, so both see the same machine load
            times[0].append(once(who, product))
            times[1].append(once(who, bare))
        p, b = statistics.median(times[0]), statistics.median(times[1])
        print(
            f"  项目列表 · {who}(筛选+搜索+排序):产品 {p * 1000:.0f} 毫秒 {counts[0]} 次查询,"
            f"裸 ModelAdmin {b * 1000:.0f} 毫秒 {counts[1]} 次查询:{p / b:.2f}× 极限"
        )
    for name, (who, url) in pages.items():
        count = count_queries(who, url)
        seconds = statistics.median(once(who, url) for _ in range(args.repeat))
        print(f"  {name}: {seconds * 1000:.0f} 毫秒,{count} 次查询")


if __name__ == "__main__":
    main()
