import factory
from django.contrib.auth.models import Group

from accounts.models import Organization, User

PASSWORD = "Test-Password-2026"


class WorkCommitteeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organization
        django_get_or_create = ["name"]

    name = "测试地区工委"
    kind = Organization.Kind.WORK_COMMITTEE
    parent = None


class OrganizationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organization

    name = factory.Sequence(lambda n: f"测试第{n}党支部")
    kind = Organization.Kind.GRASSROOTS
    parent = factory.SubFactory(WorkCommitteeFactory)
    payee_name = factory.LazyAttribute(lambda o: o.name)
    bank_name = "测试银行"
    bank_account = factory.Sequence(lambda n: f"62220000{n:08d}")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    last_name = "测"
    first_name = factory.Sequence(lambda n: f"试{n}")
    title = "党员"
    is_staff = True
    organization = factory.SubFactory(OrganizationFactory)
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def roles(self, create, extracted, **kwargs):
        if create and extracted:
            self.groups.set(Group.objects.filter(name__in=extracted))
        if create:
            self.save()
            self._role_names = None


# --- projects -----------------------------------------------------------------------------
import datetime  # noqa: E402
from decimal import Decimal  # noqa: E402

from django.utils import timezone  # noqa: E402

from projects.models import BudgetLine, FundingPolicy, Project  # noqa: E402


class FundingPolicyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = FundingPolicy
        django_get_or_create = ["year"]

    year = factory.LazyFunction(lambda: timezone.localdate().year)
    pool_total = Decimal("100000.00")
    grade1_cap = Decimal("30000.00")
    grade2_cap = Decimal("15000.00")
    grade3_cap = Decimal("5000.00")


class ProjectFactory(factory.django.DjangoModelFactory):
    """A complete draft application (all five sections, valid dates)."""

    class Meta:
        model = Project

    number = factory.Sequence(lambda n: n + 1)
    code = factory.LazyAttribute(lambda o: f"{o.year}-{o.number:04d}")
    year = factory.LazyFunction(lambda: timezone.localdate().year)
    title = factory.Sequence(lambda n: f"党员学习教育项目{n}")
    category = "training"
    origin = "self_planned"
    term = "short"
    start_date = factory.LazyFunction(lambda: timezone.localdate())
    end_date = factory.LazyFunction(lambda: timezone.localdate() + datetime.timedelta(days=60))
    organization = factory.SubFactory(OrganizationFactory)
    leader = factory.SubFactory(
        UserFactory, organization=factory.SelfAttribute("..organization"), roles=["applicant"]
    )
    leader_profile = "长期从事党务工作。"
    purpose = "提高党员理论水平。"
    content = "组织专题学习。"
    plan = "每月一次集中学习。"
    expected_outcome = "全体党员参加。"
    proposed_grade = 3


class BudgetLineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = BudgetLine

    project = factory.SubFactory(ProjectFactory)
    item = "materials"
    description = "学习资料"
    quantity = Decimal("10")
    unit_price = Decimal("100.00")
    amount = factory.LazyAttribute(lambda o: o.quantity * o.unit_price)
