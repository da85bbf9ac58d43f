"""Import N invoices (default 10,000) into one running project, side by side in one run:

- product: projects.services.invoice_imports.invoice_import(project=project, source=rows,
  actor=leader, dry_run=False),
  the one invoice import (full validation, in-file and stored duplicate checks, all or
  nothing, project row locked): target within 3× of the limit;
- limit: Invoice.objects.bulk_create of the same rows (no checks);
- peer: django-import-export's default row-by-row import of the same rows;
- for information: the product reading the same rows from an uploaded xlsx file.

Each run works inside a transaction that is rolled back, so every run sees the same database
(on the city-scale database the duplicate check looks the 10,000 identities up among the
million stored ones). On a database without a running project (a bare checkout), --fresh
builds a throw-away test database with one project driven through the real services.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench \\
        .venv/bin/python bench/bench_invoice_import.py
    .venv/bin/python bench/bench_invoice_import.py --fresh      # SQLite, throw-away database
"""

import argparse
import datetime
from decimal import Decimal
from io import BytesIO

from common import setup, timed


class Rollback(Exception):
    pass


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=10000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--fresh", action="store_true", help="a throw-away test database")
    parser.add_argument("--no-peer", action="store_true", help="skip the slow peer")
    args = parser.parse_args()
    setup()
    if not args.fresh:
        return run(args, existing_project())
    from django.conf import settings
    from django.test.utils import setup_databases, setup_test_environment, teardown_databases

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    setup_test_environment()
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


def run(args, project):
    import tablib
    from import_export import resources

    from projects.exchange.writer import add_sheet
    from projects.models import BudgetLine, Invoice
    from projects.services.invoice_imports import COLUMNS, invoice_import
    from projects.services.invoices import invoice_identity

    actor = project.leader
    line = BudgetLine.objects.filter(project=project).order_by("pk").first()
    day = min(project.start_date or datetime.date.today(), datetime.date.today())
    # The same rows for every run, as the e-invoice platform's export lists them.
    rows = [
        {
            "kind": "vat_ordinary",
            "code": "3100231130",
            "number": f"{90000000 + i:08d}",
            "issue_date": day,
            "seller_name": "示例文化用品有限公司",
            "seller_tax_id": "91350100M000100Y43",
            "buyer_name": project.organization.name,
            "amount": Decimal("100.50"),
            "tax": Decimal("0.00"),
            "total": Decimal("100.50"),
            "budget_line": line.pk,
        }
        for i in range(args.rows)
    ]

    def bulk():
        Invoice.objects.bulk_create(
            [
                Invoice(
                    project=project,
                    created_by=actor,
                    identity=invoice_identity(row["code"], row["number"]),
                    **{**row, "budget_line": line},
                )
                for row in rows
            ],
            batch_size=1000,
        )

    def product():
        # Plain dicts in, the budget line by its 序号 as a user gives it: the service
        # validates each row from scratch.
        data = [{**row, "budget_line": 1} for row in rows]
        result = invoice_import(project=project, source=data, actor=actor, dry_run=False)
        assert result.created == len(rows), result.messages()[:3]

    upload = xlsx_bytes(rows, COLUMNS, add_sheet, line_number=1)

    def product_xlsx():
        result = invoice_import(project=project, source=upload, actor=actor, dry_run=False)
        assert result.created == len(rows), result.messages()[:3]

    class DefaultInvoiceResource(resources.ModelResource):
        class Meta:
            model = Invoice
            import_id_fields = ["identity"]  # its duplicate check: one lookup a row
            fields = ["project", "identity", "created_by", *list(rows[0])]

    def peer():
        data = tablib.Dataset(headers=["project", "identity", "created_by", *list(rows[0])])
        for row in rows:
            identity = invoice_identity(row["code"], row["number"])
            data.append([project.pk, identity, actor.pk, *row.values()])
        result = DefaultInvoiceResource().import_data(data, dry_run=False)
        assert not result.has_errors(), result.row_errors()[:1]

    runs = {
        "bulk_create(极限)": (bulk, args.repeat),
        "产品导入(完整校验与查重)": (product, args.repeat),
        "产品导入(同样的行,从上传的 xlsx 读取)": (product_xlsx, args.repeat),
    }
    if not args.no_peer:
        runs["django-import-export 默认逐行导入(同类)"] = (peer, 1)
    stored = Invoice.objects.count()
    times = {name: timed(in_rollback(func), repeat) for name, (func, repeat) in runs.items()}
    limit = times["bulk_create(极限)"]
    print(f"导入 {args.rows} 张发票到 1 个项目(库中已有 {stored} 张发票;中位数)")
    for name, seconds in times.items():
        print(f"  {name}: {seconds:.2f} 秒,{seconds / limit:.2f}× 极限")


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
        body.append([values[field_of[h]] for h in header])
    add_sheet(workbook, "发票清单", header, body, first=True)
    buffer = BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


if __name__ == "__main__":
    main()
