import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from accounts.models import Organization, User
from tests.factories import OrganizationFactory

pytestmark = pytest.mark.django_db


def test_custom_user_model_is_in_use(applicant, org_a):
    assert get_user_model() is User
    assert applicant.organization == org_a
    assert applicant.title == "党员"
    assert str(applicant) == f"{applicant.display_name}(alice)"


@pytest.mark.parametrize("code", ["91350100M000100Y43", "91110108551385082Q"])
def test_valid_uscc_is_accepted(code, work_committee):
    org = Organization(name="某组织", parent=work_committee, uscc=code)
    org.full_clean()


@pytest.mark.parametrize("code", ["91350100M000100Y44", "123", "91110108551385082"])
def test_invalid_uscc_is_refused_in_chinese(code, work_committee):
    org = Organization(name="某组织", parent=work_committee, uscc=code)
    with pytest.raises(ValidationError) as err:
        org.full_clean()
    assert "统一社会信用代码无效" in str(err.value)


def test_grassroots_organization_needs_a_parent():
    with pytest.raises(IntegrityError), transaction.atomic():
        Organization.objects.create(name="孤立支部", kind=Organization.Kind.GRASSROOTS)


def test_organizations_form_a_tree(work_committee):
    child = OrganizationFactory(parent=work_committee)
    assert list(work_committee.children.all()) == [child]


def test_scoping_by_organization(applicant, outsider, leader, org_a, org_b):
    assert list(Organization.objects.visible_to(applicant)) == [org_a]
    assert set(User.objects.visible_to(outsider)) == {outsider}
    assert set(Organization.objects.visible_to(leader)) >= {org_a, org_b}
