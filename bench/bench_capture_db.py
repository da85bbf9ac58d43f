"""Capture into the database (issue 12): 1,000 数电 XML invoices from one zip into a project
through the invoice import page's service, against the limit, alternating in one run.

- product: ``invoice_import(project=…, source=zip, filename="….zip", budget_line=…,
  dry_run=False)``: the one capture reader (defusedxml, zip bounds, every field read and
  cross-checked), the same validation and normalisation as a typed invoice, the in-file and
  stored duplicate check against the whole database, the project row locked, the zip kept
  as the original (written through Django's storage), bulk_create and the signed event;
- limit: the same zip opened with zipfile, every member parsed with lxml alone, the fields
  pulled out, and ``Invoice.objects.bulk_create`` of the same rows (no checks at all).

Each run is a transaction that is rolled back, so every run sees the same database. Use a
database of your own filled by generate.py, e.g.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/h_risk \\
        .venv/bin/python bench/generate.py --projects 20000 --invoices 100000 --years 3
    DATABASE_URL=… .venv/bin/python bench/bench_capture_db.py [--invoices 1000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import datetime
import io
import os
import statistics
import tempfile
import time
import zipfile

from bench_capture import lxml_limit
from common import setup


class Rollback(Exception):
    pass


def bundle_of(count: int, project, day: datetime.date) -> bytes:
    from tests.projects.capture.makers import einvoice_xml

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for index in range(count):
            number = f"2692400000{index:010d}"
            content = einvoice_xml(
                number, issue_time=day.isoformat(), buyer=project.organization.name
            )
            archive.writestr(f"dzfp_{number}_示例文具有限公司.xml", content)
    return buffer.getvalue()


def in_rollback(func):
    from django.db import transaction

    def run():
        try:
            with transaction.atomic():
                func()
                raise Rollback
        except Rollback:
            pass

    return run


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--invoices", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    setup()
    from django.conf import settings
    from django.db import connection

    from projects.models import BudgetLine, Project
    from projects.models.money import Invoice
    from projects.services.invoice_imports import invoice_import
    from projects.services.invoices import invoice_identity

    settings.MEDIA_ROOT = tempfile.mkdtemp(prefix="bench-capture-")
    project = (
        Project.objects.filter(state="in_progress", budget_lines__isnull=False)
        .select_related("organization", "leader")
        .order_by("-year", "pk")
        .first()
    )
    if project is None:
        raise SystemExit("数据库中没有实施中且有预算明细的项目:请先运行 generate.py。")
    actor = project.leader
    line = BudgetLine.objects.filter(project=project).order_by("pk").first()
    day = datetime.date.today()
    bundle = bundle_of(args.invoices, project, day)
    stored = Invoice.objects.count()
    print(
        f"数据库 {connection.vendor}:{Project.objects.count()} 个项目,{stored} 张发票;"
        f"zip {len(bundle) // 1024} KB,{args.invoices} 张"
    )

    def product():
        result = invoice_import(
            project=project,
            source=bundle,
            actor=actor,
            dry_run=False,
            filename="dzfp_批量.zip",
            budget_line=line,
        )
        assert result.created == args.invoices, result.messages()[:3]

    def limit():
        rows = lxml_limit(bundle)
        Invoice.objects.bulk_create(
            [
                Invoice(
                    project=project,
                    budget_line=line,
                    created_by=actor,
                    kind="digital",
                    code="",
                    identity=invoice_identity("", row["number"]),
                    **row,
                )
                for row in rows
            ],
            batch_size=1000,
        )

    product_times, limit_times = [], []
    for _ in range(args.repeat):
        for func, times in ((product, product_times), (limit, limit_times)):
            started = time.perf_counter()
            in_rollback(func)()
            times.append(time.perf_counter() - started)
    assert Invoice.objects.count() == stored  # every run rolled back
    p, lim = statistics.median(product_times), statistics.median(limit_times)
    load = " ".join(f"{v:.2f}" for v in os.getloadavg())
    print(f"负载(1/5/15 分钟): {load}")
    print(
        f"{args.invoices} 张数电 XML 从一个 zip 录入项目(完整校验 + 数据库查重 + 原件保存 + 事件): "
        f"产品 {p * 1000:.0f} ms,极限(zipfile + lxml + bulk_create){lim * 1000:.0f} ms,"
        f"比值 {p / lim:.2f}×(目标 ≤ 2×)"
    )
    print(
        "  各次(产品/极限 ms): "
        + ", ".join(
            f"{a * 1000:.0f}/{b * 1000:.0f}"
            for a, b in zip(product_times, limit_times, strict=True)
        )
    )


if __name__ == "__main__":
    main()
