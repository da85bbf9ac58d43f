"""The archive package of a project with N invoices, each with its original (issue 13):
the time of the whole build (package.package_build_bytes: the four PDF/A documents, the
originals, the history, the ledger, manifest.xml with SHA-256 and SM3, the deterministic
zip) and the share of it spent rendering the PDFs; against a floor (the same entries,
already rendered, written by zipfile with SHA-256 only), alternating, median of repeats,
in one run. verify_archive's four checks on the built package are timed too.

    DATABASE_URL=... .venv/bin/python bench/bench_archive.py [--invoices 500] [--kb 60]

Uses a settled project of the database (e.g. after `manage.py demo_data`); the invoices,
originals and issued document versions it adds are rolled back at the end (the files go
to a temporary MEDIA_ROOT).
"""

from __future__ import annotations

import argparse
import hashlib
import io
import os
import statistics
import sys
import tempfile
import time
import zipfile
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import setup  # noqa: E402


def _original(kb: int) -> bytes:
    """A real one-page PDF of about `kb` KiB (incompressible content), as uploaded."""
    import pikepdf

    pdf = pikepdf.new()
    pdf.add_blank_page()
    pdf.Root.Scan = pdf.make_stream(os.urandom(kb * 1024))
    out = io.BytesIO()
    pdf.save(out)
    return out.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--invoices", type=int, default=500)
    parser.add_argument("--kb", type=int, default=60, help="size of each original, in KiB")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    os.environ["DJANGO_MEDIA_ROOT"] = tempfile.mkdtemp(prefix="bench-archive-")
    setup()

    from django.core.files.base import ContentFile
    from django.db import transaction
    from django.utils import timezone

    from projects.archive.checks import verify_package
    from projects.archive.package import package_build_bytes, package_entries
    from projects.models import Document, Project
    from projects.models.money import Invoice

    project = Project.objects.filter(state="settled").order_by("pk").first()
    if project is None:
        raise SystemExit("没有已结算的项目:请先运行 manage.py demo_data。")
    with transaction.atomic():
        line = project.budget_lines.order_by("pk").first()
        actor = project.leader
        for i in range(args.invoices):
            body = _original(args.kb)
            document = Document(
                project=project,
                kind=Document.Kind.INVOICE_SCAN,
                original_name=f"发票{i:03d}.pdf",
                content_type="application/pdf",
                size=len(body),
                sha256=hashlib.sha256(body).hexdigest(),
                uploaded_by=actor,
            )
            document.file.save(f"{i}.pdf", ContentFile(body), save=False)
            document.save()
            Invoice.objects.create(
                project=project,
                budget_line=line,
                kind=Invoice.Kind.DIGITAL,
                number=f"BENCH{i:015d}",
                identity=f"bench:{project.pk}:{i}",
                issue_date=timezone.localdate(),
                seller_name="基准供应商",
                seller_tax_id="91350100M000100Y43",
                buyer_name=project.organization.name,
                amount=Decimal("10.00"),
                tax=Decimal("0.00"),
                total=Decimal("10.00"),
                scan=document,
                created_by=actor,
            )
        # The floor's input: the same entries, rendered once, outside the timed runs.
        rendered, _rows, _retention = package_entries(project, actor=actor)

        def floor():
            out = io.BytesIO()
            with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as archive:
                for entry in sorted(rendered, key=lambda e: e.path):
                    hashlib.sha256(entry.data).hexdigest()
                    archive.writestr(entry.path, entry.data)
            return out.getvalue()

        times = {"product": [], "pdf": [], "floor": [], "verify": []}
        built = package_build_bytes(project, actor=actor)  # warm: fonts, templates
        assert package_build_bytes(project, actor=actor).data == built.data  # deterministic
        for _ in range(args.repeat):
            built = package_build_bytes(project, actor=actor)
            times["product"].append(built.timings["total"])
            times["pdf"].append(built.timings["pdf"])
            started = time.perf_counter()
            floor_bytes = floor()
            times["floor"].append(time.perf_counter() - started)
            started = time.perf_counter()
            # Not against the history: this build was not recorded (it is rolled back).
            report = verify_package(built.data, use_database=False)
            times["verify"].append(time.perf_counter() - started)
        transaction.set_rollback(True)
    total = statistics.median(times["product"])
    pdf = statistics.median(times["pdf"])
    low = statistics.median(times["floor"])
    check = statistics.median(times["verify"])
    load = os.getloadavg()[0]
    print(f"档案包 {project.code}:{args.invoices} 张发票,每张原件 {args.kb} KiB(负载 {load:.1f})")
    size = len(built.data) / 1048576
    print(f"  生成档案包(产品) {total:.2f} s,{size:.1f} MiB,{len(built.files)} 个文件")
    print(f"    其中渲染 PDF {pdf:.2f} s,占 {pdf / total:.0%}")
    print(f"    其余(读取原件、历史、清单、SHA-256 + SM3、打包) {total - pdf:.2f} s")
    print(
        f"  下限(同样的条目直接写 zip,仅 SHA-256) {low:.2f} s,{len(floor_bytes) / 1048576:.1f} MiB"
    )
    print(f"  比值:产品 / 下限 {total / low:.1f}×;不含 PDF 渲染 {(total - pdf) / low:.1f}×")
    print(f"  四性检测(verify_archive 同一包) {check:.2f} s,{'通过' if report.ok else '未通过'}")


if __name__ == "__main__":
    main()
