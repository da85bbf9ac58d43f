"""Import N invoices (default 10,000) into one project, side by side in one run:

- product: projects.settlement.invoice_import(project, rows, actor=..., dry_run=False), the
  issue-5 service with full validation and duplicate checks (target: within 3× of the limit);
- limit: Invoice.objects.bulk_create of the same rows (no checks);
- peer: django-import-export's default row-by-row import of the same rows.

Each run works inside a transaction that is rolled back, so the runs see the same database.
If projects.settlement has no invoice_import yet, the script says so and measures the other
two.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench \\
        .venv/bin/python bench/bench_invoice_import.py
"""

import argparse
import datetime
from decimal import Decimal

from common import bench_superuser, setup, timed


class Rollback(Exception):
    pass


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=10000)
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    setup()

    import tablib
    from django.db import transaction
    from import_export import resources

    from projects import settlement
    from projects.models import BudgetLine, Invoice, Project

    user = bench_superuser()
    project = (
        Project.objects.filter(state="in_progress", budget_lines__isnull=False)
        .select_related("organization")
        .first()
    )
    line = BudgetLine.objects.filter(project=project).first()
    day = project.start_date or datetime.date.today()
    rows = [
        {
            "kind": "vat_ordinary",
            "code": "044001900111",
            "number": f"{90000000 + i:08d}",
            "issue_date": day,
            "seller_name": "基准商店",
            "seller_tax_id": "91350100M000100Y43",
            "buyer_name": project.organization.name,
            "amount": Decimal("10.00"),
            "tax": Decimal("0.60"),
            "total": Decimal("10.60"),
            "budget_line": line.pk,
        }
        for i in range(args.rows)
    ]

    def in_rollback(func):
        def run():
            try:
                with transaction.atomic():
                    func()
                    raise Rollback
            except Rollback:
                pass

        return run

    def bulk():
        Invoice.objects.bulk_create(
            Invoice(
                project=project,
                budget_line_id=row["budget_line"],
                identity=f"{row['code']}-{row['number']}",
                created_by=user,
                **{k: v for k, v in row.items() if k != "budget_line"},
            )
            for row in rows
        )

    class DefaultInvoiceResource(resources.ModelResource):
        class Meta:
            model = Invoice
            import_id_fields = ["identity"]  # its duplicate check: one lookup a row
            fields = ["project", "budget_line", "identity", "created_by", *list(rows[0])]

    def peer():
        data = tablib.Dataset(headers=["project", "identity", "created_by", *list(rows[0])])
        for row in rows:
            identity = f"{row['code']}-{row['number']}"
            data.append([project.pk, identity, user.pk, *row.values()])
        result = DefaultInvoiceResource().import_data(data, dry_run=False)
        assert not result.has_errors(), result.row_errors()[:1]

    runs = {"bulk_create(极限)": bulk, "django-import-export 默认逐行导入(同类)": peer}
    service = getattr(settlement, "invoice_import", None)
    if service is None:
        print("projects.settlement.invoice_import 尚不存在(由 issue 5 实现),只测量极限与同类。")
    else:
        runs = {
            "产品导入(完整校验与查重)": lambda: service(project, rows, actor=user, dry_run=False),
            **runs,
        }
    times = {name: timed(in_rollback(func), args.repeat) for name, func in runs.items()}
    limit = times["bulk_create(极限)"]
    print(f"导入 {args.rows} 张发票(中位数,重复 {args.repeat} 次)")
    for name, seconds in times.items():
        print(f"  {name}: {seconds:.2f} 秒,{seconds / limit:.2f}× 极限")


if __name__ == "__main__":
    main()
