"""A project with 500 invoices and 100 history rows (a valid chain) for the change page."""

from decimal import Decimal


def big_project(user):
    from django.db import transaction
    from django.utils import timezone

    from projects.models import BudgetLine, Invoice, Project
    from projects.services import events

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
        prev = "draft"
        for seq in range(1, 101):
            # 100 events through the one writer (a valid chain), ending in the project's state.
            name = "submit" if seq % 2 else "org_return"
            if seq == 100:
                name = "start"
            events.record(actor=user, action=name, project=project, from_state=prev, opinion="意见")
            prev = project.state
    return project
