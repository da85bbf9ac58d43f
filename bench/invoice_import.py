"""Benchmark: importing 10,000 invoices with full validation and the duplicate check, against
a raw bulk_create of the same rows (target: within 3×). Timings live here, never in tests.

    .venv/bin/python bench/invoice_import.py            # SQLite (a throw-away test database)
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/money .venv/bin/python bench/invoice_import.py
"""

import os
import sys
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.test.utils import setup_databases, setup_test_environment, teardown_databases  # noqa: E402

ROWS = int(os.environ.get("BENCH_ROWS", "10000"))


def main() -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    setup_test_environment()
    config = setup_databases(verbosity=0, interactive=False)
    try:
        run()
    finally:
        teardown_databases(config, verbosity=0)


def run() -> None:
    from django.utils import timezone

    from accounts.roles import Role
    from projects.invoice_import import invoice_import
    from projects.models.money import Invoice
    from projects.services import apply_transition
    from projects.settlement import invoice_identity
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
    line = project.budget_lines.get()
    today = timezone.localdate()

    def rows(offset):
        return [
            {
                "发票代码": "3100231130",
                "发票号码": f"{offset + i:08d}",
                "开票日期": today,
                "销售方名称": "示例文化用品有限公司",
                "销售方纳税人识别号": "91350100M000100Y43",
                "购买方名称": project.organization.name,
                "金额": 100.5,
                "税额": 0,
                "价税合计": 100.5,
                "预算明细": 1,
            }
            for i in range(ROWS)
        ]

    raw = [
        Invoice(
            project=project,
            budget_line=line,
            kind="vat_ordinary",
            code="3100231130",
            number=f"{50000000 + i:08d}",
            identity=invoice_identity("3100231130", f"{50000000 + i:08d}"),
            issue_date=today,
            seller_name="示例文化用品有限公司",
            seller_tax_id="91350100M000100Y43",
            buyer_name=project.organization.name,
            amount=Decimal("100.50"),
            tax=Decimal("0.00"),
            total=Decimal("100.50"),
            created_by=project.leader,
        )
        for i in range(ROWS)
    ]
    started = time.perf_counter()
    Invoice.objects.bulk_create(raw, batch_size=1000)
    raw_seconds = time.perf_counter() - started

    data = rows(10000000)
    started = time.perf_counter()
    result = invoice_import(project, data, actor=project.leader, dry_run=False)
    import_seconds = time.perf_counter() - started
    assert result.created == ROWS, result.messages()[:5]
    print(f"{settings.DATABASES['default']['ENGINE'].rsplit('.', 1)[-1]}: {ROWS} invoices")
    print(f"  raw bulk_create        {raw_seconds:6.2f} s")
    print(
        f"  invoice_import         {import_seconds:6.2f} s  ({import_seconds / raw_seconds:.1f}×)"
    )


if __name__ == "__main__":
    main()
