"""A project with 500 invoices and 100 history rows (a valid chain) for the change page."""

import datetime
from decimal import Decimal


def big_project(user):
    from django.db import transaction
    from django.utils import timezone

    from projects.history import compute_digest
    from projects.models import BudgetLine, Invoice, Project, ProjectHistory

    project = Project.objects.filter(title="基准大项目").first()
    if project is not None:
        return project
    template = Project.objects.filter(state="in_progress").select_related("leader").first()
    with transaction.atomic():
        project = Project.objects.create(
            code="BENCH-BIG",
            year=template.year,
            title="基准大项目",
            category="training",
            organization_id=template.organization_id,
            leader_id=template.leader_id,
            proposed_grade=3,
            state="in_progress",
        )
        line = BudgetLine.objects.create(
            project=project,
            item="materials",
            description="资料",
            quantity=Decimal("1"),
            unit_price=Decimal("1000"),
            amount=Decimal("1000"),
        )
        Invoice.objects.bulk_create(
            Invoice(
                project=project,
                budget_line=line,
                kind="vat_ordinary",
                code="044001900111",
                number=f"{i:08d}",
                identity=f"BENCH-BIG-{i:08d}",
                issue_date=timezone.localdate(),
                seller_name="基准商店",
                seller_tax_id="91350100M000100Y43",
                buyer_name="基准",
                amount=Decimal("10.00"),
                tax=Decimal("0.00"),
                total=Decimal("10.00"),
                created_by=user,
            )
            for i in range(500)
        )
        prev, digest = "draft", ""
        at = timezone.now() - datetime.timedelta(days=200)
        for seq in range(1, 101):
            # 100 rows: submit/org_return pairs, ending in the project's state via start.
            name, to_state = ("submit", "org_review") if seq % 2 else ("org_return", "returned")
            if seq == 100:
                name, to_state = "start", "in_progress"
            row = ProjectHistory(
                project=project,
                seq=seq,
                transition=name,
                from_state=prev,
                to_state=to_state,
                actor=user,
                actor_name="基准",
                actor_organization="基准",
                actor_roles="基准",
                opinion="意见",
                created_at=at + datetime.timedelta(hours=seq),
                prev_digest=digest,
            )
            row.digest = compute_digest(row)
            row.save(force_insert=True)
            prev, digest = to_state, row.digest
    return project
