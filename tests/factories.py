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
