"""Pages side by side in one run, through Django's test Client on the benchmark database:

- the project changelist (filtered, searched, sorted) against a bare ModelAdmin over the same
  table with plain columns (bench/urls.py): the limit, target within 1.5×;
- the project change page of a project with 500 invoices and 100 history rows;
- the index page (to-do lists and pool figures);
- the statistics report of the current year.

Prints median times and query counts (query counts are asserted in tests; times only here).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench .venv/bin/python bench/bench_pages.py
"""

import argparse

from common import bench_superuser, setup, timed


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--sql", action="store_true", help="print each page's SQL")
    args = parser.parse_args()
    setup()

    from django.db import connection
    from django.test import Client
    from django.test.utils import override_settings, setup_test_environment

    setup_test_environment()
    with override_settings(ROOT_URLCONF="bench.urls", DEBUG=False):
        from bench_fixtures import big_project

        user = bench_superuser()
        client = Client()
        client.force_login(user)
        project = big_project(user)
        query = "?state__exact=in_progress&q=党员&o=-2"
        pages = {
            "项目列表(产品)": "/admin/projects/project/" + query,
            "项目列表(裸 ModelAdmin,极限)": "/bare/projects/project/" + query,
            "项目修改页(500 张发票、100 条历史)": f"/admin/projects/project/{project.pk}/change/",
            "工作台首页": "/admin/",
            "统计报表": "/admin/reports/",
        }
        results = {}
        for name, url in pages.items():
            response = client.get(url)
            assert response.status_code == 200, (name, response.status_code)
            queries = []

            def record(execute, sql, params, many, context, queries=queries):
                queries.append(sql)
                return execute(sql, params, many, context)

            with connection.execute_wrapper(record):
                client.get(url)
            if args.sql:
                print(name, *queries, sep="\n    ")
            results[name] = (timed(lambda url=url: client.get(url), args.repeat), len(queries))
    limit = results["项目列表(裸 ModelAdmin,极限)"][0]
    print(f"页面耗时(中位数,重复 {args.repeat} 次)")
    for name, (seconds, count) in results.items():
        ratio = f",{seconds / limit:.2f}× 裸列表" if name.startswith("项目列表") else ""
        print(f"  {name}: {seconds * 1000:.0f} 毫秒,{count} 次查询{ratio}")


if __name__ == "__main__":
    main()
