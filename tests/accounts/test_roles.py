import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command

from accounts.roles import ROLE_PERMISSIONS, Role, is_read_only, sees_everything, sync_role_groups

pytestmark = pytest.mark.django_db


def test_every_role_group_exists_after_migrate():
    assert set(Group.objects.values_list("name", flat=True)) >= set(Role.values)


def test_role_groups_have_their_permissions():
    applicant = Group.objects.get(name=Role.APPLICANT)
    auditor = Group.objects.get(name=Role.AUDITOR)
    codes = set(applicant.permissions.values_list("codename", flat=True))
    assert {"view_organization", "view_user"} <= codes
    assert "change_user" not in codes
    auditor_codes = set(auditor.permissions.values_list("codename", flat=True))
    assert auditor_codes and all(code.startswith(("view_", "export_")) for code in auditor_codes)


def test_sync_repairs_a_tampered_group():
    group = Group.objects.get(name=Role.AUDITOR)
    group.permissions.clear()
    Group.objects.filter(name=Role.FINANCE).delete()
    sync_role_groups()
    assert Group.objects.get(name=Role.AUDITOR).permissions.exists()
    assert Group.objects.filter(name=Role.FINANCE).exists()


def test_every_role_has_a_permission_table():
    assert set(ROLE_PERMISSIONS) == set(Role.values)


def test_global_roles_see_everything(role_users):
    assert not sees_everything(role_users["applicant"])
    assert not sees_everything(role_users["org_reviewer"])
    assert sees_everything(role_users["leadership"])
    assert sees_everything(role_users["finance"])
    assert sees_everything(role_users["auditor"])


def test_only_the_pure_auditor_is_read_only(role_users):
    assert is_read_only(role_users["auditor"])
    assert not is_read_only(role_users["leadership"])


def test_migrate_is_repeatable():
    call_command("migrate", verbosity=0)
    assert Group.objects.filter(name__in=Role.values).count() == len(Role.values)
