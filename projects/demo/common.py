"""What the demo modules share: the year's funding policy and an all-met checklist."""

from decimal import Decimal

from projects.models import FundingPolicy
from projects.models.choices import CHECKLIST_FIELDS

CHECKLIST_YES = dict.fromkeys(CHECKLIST_FIELDS, True)


def demo_policy(year: int) -> FundingPolicy:
    """The demo year's pool (¥200,000) and caps, created once whichever module runs first."""
    policy, _ = FundingPolicy.objects.get_or_create(
        year=year,
        defaults={
            "pool_total": Decimal("200000.00"),
            "grade1_cap": Decimal("50000.00"),
            "grade2_cap": Decimal("20000.00"),
            "grade3_cap": Decimal("8000.00"),
        },
    )
    return policy
