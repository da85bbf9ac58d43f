"""Import N invoices (default 10,000) into one running project the way a user does it,
against the limit, alternating the two in one run:

- product: the real page through the real views (Django test Client, logged in as the
  project's leader, who may import): POST the xlsx to the import page (upload → parse →
  validate → duplicate check → preview page, the validated rows kept in the database), then
  POST 确认导入 (the stored rows → re-check under the project lock → bulk_create → signed
  event → redirect). Preview, confirm and the whole path are timed separately;
- limit: Invoice.objects.bulk_create of the same rows (ready model objects, no checks).

Product and limit alternate (which goes first alternates too); medians are printed with the
load average. Every run works inside a transaction that is rolled back (the login session
and the preview row included), so each run sees the same database: on the city-scale
database the duplicate check looks the 10,000 identities up among the million stored ones.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_city \\
        .venv/bin/python bench/bench_invoice_import.py [--rows 10000] [--repeat 5]
    .venv/bin/python bench/bench_invoice_import.py --fresh      # SQLite, throw-away database
"""

import argparse
import datetime
import os
import statistics
import time
from decimal import Decimal
from io import BytesIO

from common import setup


class Rollback(Exception):
    pass


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=10000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--fresh", action="store_true", help="a throw-away test database")
    parser.add_argument("--profile", action="store_true", help="profile one product run")
    args = parser.parse_args()
    setup()
    from django.conf import settings
    from django.test.utils import setup_databases, setup_test_environment, teardown_databases

    setup_test_environment()  # the test Client's host "testserver" is allowed
    if not args.fresh:
        return run(args, existing_project())
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    config = setup_databases(verbosity=0, interactive=False)
    try:
        run(args, fresh_project())
    finally:
        teardown_databases(config, verbosity=0)


def existing_project():
    from projects.models import Project

    project = (
        Project.objects.filter(state="in_progress", budget_lines__isnull=False)
        .select_related("organization", "leader")
        .order_by("-year", "pk")
        .first()
    )
    if project is None:
        raise SystemExit("数据库中没有实施中且有预算明细的项目:请先运行 generate.py,或加 --fresh。")
    return project


def fresh_project():
    from accounts.roles import Role
    from projects.services import apply_transition
    from tests.factories import BudgetLineFactory, FundingPolicyFactory, ProjectFactory, UserFactory

    FundingPolicyFactory(pool_total=Decimal("10000000"), grade3_cap=Decimal("5000000"))
    leader = UserFactory(roles=[Role.LEADERSHIP])
    project = ProjectFactory()
    reviewer = UserFactory(organization=project.organization, roles=[Role.ORG_REVIEWER])
    BudgetLineFactory(project=project, quantity=Decimal("1"), unit_price=Decimal("5000000"))
    for name, actor, decision in (
        ("submit", project.leader, {}),
        ("org_approve", reviewer, {"opinion": "同意"}),
        ("approve", leader, {"opinion": "同意", "grade": 3, "approved_amount": "5000000"}),
        ("start", project.leader, {}),
    ):
        project = apply_transition(project, name, actor=actor, **decision)
    return project


def rolled_back(func):
    """Run func() in a transaction that is rolled back; return what it returned."""
    from django.db import transaction

    out = []
    try:
        with transaction.atomic():
            out.append(func())
            raise Rollback
    except Rollback:
        pass
    return out[0]


def run(args, project):
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.db import connection
    from django.test import Client
    from django.urls import reverse

    from projects.exchange.writer import add_sheet
    from projects.models import BudgetLine, Invoice
    from projects.services.invoice_imports import COLUMNS
    from projects.services.invoices import invoice_identity, invoice_series

    actor = project.leader
    line = BudgetLine.objects.filter(project=project).order_by("pk").first()
    day = min(project.start_date or datetime.date.today(), datetime.date.today())
    sellers = [
        ("示例文化用品有限公司", "91350100M000100Y43"),
        ("示例印务有限公司", "91110108551385082Q"),
    ]
    # As varied as a real list: nearly every amount differs, dates spread over 90 days, two
    # sellers (so the once-per-value parsing gains nothing from a uniform file).
    # SQLite checks amount + tax = total in binary floats: there, cents in quarters only.
    step = 25 if connection.vendor == "sqlite" else 1
    rows = []
    for i in range(args.rows):
        amount = Decimal(f"{50 + (i * 37) % 9000}.{(i * step) % 100:02d}")
        tax = Decimal(f"{(i * 7) % 60}.{(i * 3 * step) % 100:02d}")
        seller, tax_id = sellers[i % 2]
        rows.append(
            {
                "kind": "vat_ordinary",
                "code": "3100231130",
                "number": f"{90000000 + i:08d}",
                "issue_date": day - datetime.timedelta(days=i % 90),
                "seller_name": seller,
                "seller_tax_id": tax_id,
                "buyer_name": project.organization.name,
                "amount": amount,
                "tax": tax,
                "total": amount + tax,
            }
        )
    upload = xlsx_bytes(rows, COLUMNS, add_sheet, line_number=1)
    url = reverse("projects:invoice_import", args=[project.pk])
    client = Client()

    def limit():
        started = time.perf_counter()
        Invoice.objects.bulk_create(
            [
                Invoice(
                    project=project,
                    created_by=actor,
                    budget_line=line,
                    identity=invoice_identity(row["code"], row["number"]),
                    series=(
                        series := invoice_series(row["seller_tax_id"], row["code"], row["number"])
                    )[0],
                    serial=series[1],
                    **row,
                )
                for row in rows
            ],
            batch_size=1000,
        )
        return time.perf_counter() - started

    def product():
        client.force_login(actor)  # untimed; its session row is rolled back too
        started = time.perf_counter()
        page = client.post(url, {"file": SimpleUploadedFile("发票清单.xlsx", upload)})
        previewed = time.perf_counter()
        token = page.context["token"] if page.context else ""
        assert page.status_code == 200 and token, page.content.decode()[:2000]
        done = client.post(url, {"token": token, "sha256": page.context["result"].sha256})
        confirmed = time.perf_counter()
        assert done.status_code == 302, done.content.decode()[:2000]
        assert Invoice.objects.filter(project=project, number__gte="90000000").count() >= len(rows)
        return previewed - started, confirmed - previewed

    if args.profile:
        import cProfile
        import pstats

        profiler = cProfile.Profile()
        profiler.runcall(rolled_back, product)
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(45)
        pstats.Stats(profiler).sort_stats("tottime").print_stats(25)
        return
    stored = Invoice.objects.count()
    times = {"limit": [], "preview": [], "confirm": [], "whole": []}
    loads = []
    for i in range(args.repeat):
        order = ("limit", "product") if i % 2 == 0 else ("product", "limit")
        for kind in order:
            if kind == "limit":
                times["limit"].append(rolled_back(limit))
            else:
                preview, confirm = rolled_back(product)
                times["preview"].append(preview)
                times["confirm"].append(confirm)
                times["whole"].append(preview + confirm)
        loads.append(os.getloadavg()[0])
        pairs = " ".join(f"{k} {v[-1]:.2f}" for k, v in times.items())
        print(
            f"  第{i + 1}轮({'先极限' if i % 2 == 0 else '先产品'}):{pairs} 秒;负载 {loads[-1]:.2f}"
        )
    median = {k: statistics.median(v) for k, v in times.items()}
    base = median["limit"]
    print(
        f"经页面导入 {args.rows} 张发票到 1 个项目(库中已有 {stored} 张发票;"
        f"{args.repeat} 轮交替,中位数;xlsx {len(upload) / 1024:.0f} KiB)"
    )
    print(f"  极限 bulk_create:{base:.2f} 秒")
    for key, label in (("preview", "上传并预览"), ("confirm", "确认导入"), ("whole", "整个路径")):
        print(f"  {label}:{median[key]:.2f} 秒,{median[key] / base:.2f}× 极限")
    ratios = [w / b for w, b in zip(times["whole"], times["limit"], strict=True)]
    print(f"  每轮整个路径比值:{'、'.join(f'{r:.2f}×' for r in ratios)}")
    print(f"  负载均值(1 分钟):{min(loads):.2f}–{max(loads):.2f};uptime:{os.getloadavg()}")


def xlsx_bytes(rows, columns, add_sheet, *, line_number):
    """The rows as the xlsx a user uploads (Chinese headers, the line by its 序号)."""
    from openpyxl import Workbook

    workbook = Workbook()
    header = list(columns)
    field_of = dict(columns)
    kind_label = "增值税普通发票"
    body = []
    for row in rows:
        values = {**row, "budget_line": line_number, "kind": kind_label}
        body.append([values.get(field_of[h]) for h in header])
    add_sheet(workbook, "发票清单", header, body, first=True)
    buffer = BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


if __name__ == "__main__":
    main()
