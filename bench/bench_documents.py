"""The 结算单 as a PDF/A-3b record for a project with N invoices, each with its original
attached (issue 13): the product (render_pdf: PDF/A-3b, data.xml, N originals, pikepdf
tidy-up) against a floor (WeasyPrint writing the same HTML as a plain PDF, no attachments),
alternating, median of repeats, in one run.

    DATABASE_URL=... .venv/bin/python bench/bench_documents.py [--invoices 50] [--kb 60]

Uses a settled project of the database (e.g. after `manage.py demo_data`); the invoices and
originals it adds are rolled back at the end (the files go to a temporary MEDIA_ROOT).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import statistics
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import setup  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--invoices", type=int, default=50)
    parser.add_argument("--kb", type=int, default=60, help="size of each original, in KiB")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    os.environ["DJANGO_MEDIA_ROOT"] = tempfile.mkdtemp(prefix="bench-documents-")
    setup()

    import weasyprint
    from django.core.files.base import ContentFile
    from django.db import transaction
    from django.template.loader import render_to_string
    from django.test import RequestFactory
    from django.utils import timezone

    from projects.documents import verification
    from projects.documents.kinds import TEMPLATES, Kind, Subject, build_context
    from projects.documents.pdf import _fetcher_class, render_pdf
    from projects.models import Document, Project
    from projects.models.money import Invoice

    project = Project.objects.filter(state="settled").order_by("pk").first()
    if project is None:
        raise SystemExit("没有已结算的项目:请先运行 manage.py demo_data。")
    request = RequestFactory().get("/")
    with transaction.atomic():
        line = project.budget_lines.order_by("pk").first()
        actor = project.leader
        body = b"%PDF-1.4\n" + os.urandom(args.kb * 1024) + b"\n%%EOF\n"
        for i in range(args.invoices):
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
        subject = Subject(Kind.SETTLEMENT, project=project)

        def product():
            context = build_context(subject)
            issued = verification.issue(subject, context, request=request)
            return render_pdf(subject, context, issued, base_url="http://testserver/")

        def floor():
            context = build_context(subject)
            issued = verification.issue(subject, context, request=request)
            html = render_to_string(TEMPLATES[subject.kind], {**context, "verification": issued})
            return weasyprint.HTML(
                string=html, base_url="http://testserver/", url_fetcher=_fetcher_class()()
            ).write_pdf()

        product(), floor()  # warm: fonts, templates
        times = {"product": [], "floor": []}
        sizes = {}
        for _ in range(args.repeat):
            for name, func in (("product", product), ("floor", floor)):
                started = time.perf_counter()
                sizes[name] = len(func())
                times[name].append(time.perf_counter() - started)
        transaction.set_rollback(True)
    p, f = statistics.median(times["product"]), statistics.median(times["floor"])
    print(f"结算单 {project.code}:{args.invoices} 张发票,每张原件 {args.kb} KiB")
    print(f"  产品(PDF/A-3b + data.xml + 原件) {p:.2f} s,{sizes['product'] / 1048576:.1f} MiB")
    print(f"  下限(同一 HTML 的普通 PDF)      {f:.2f} s,{sizes['floor'] / 1048576:.1f} MiB")
    print(f"  比值 {p / f:.2f}×")


if __name__ == "__main__":
    main()
