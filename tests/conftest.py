"""Role users as fixtures (STYLE.md): an applicant and a reviewer of organisation A, a
reviewer of organisation B (the outsider), leadership, finance and an auditor."""

import os
from pathlib import Path

import pytest
from django.conf import settings

# The tests' databases are throwaway ones: demo_data may create its demo accounts there
# (outside DEBUG it refuses unless asked; tests/accounts/test_setup.py checks the refusal).
os.environ.setdefault("DJANGO_ALLOW_DEMO_DATA", "1")

# Password hashing at full strength costs ~0.2 s a user; tests need logins, not strength.
settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# The test client's force_login() skips the sign-in steps, so the second factor is not
# required by default here; tests/twofactor/ and the browser tests (tests/browser/conftest)
# require it for leadership, finance and superusers, as production does.
settings.TWO_FACTOR_REQUIRED_ROLES = []

from accounts.roles import Role  # noqa: E402
from tests.factories import OrganizationFactory, UserFactory, WorkCommitteeFactory  # noqa: E402

# TEST_STORAGE=memory (`make test` runs the file-touching modules so, see the Makefile):
# the default storage is Django's InMemoryStorage and MEDIA_ROOT a folder that does not
# exist; a test fails if anything created it, i.e. wrote a file to disk beside the storage
# API (an app server behind a load balancer must keep nothing on its own disk).
MEMORY_STORAGE = os.environ.get("TEST_STORAGE") == "memory"
IN_MEMORY = {"BACKEND": "django.core.files.storage.InMemoryStorage"}


@pytest.fixture(autouse=True)
def _media_in_tmp(request, settings, tmp_path_factory):
    # Uploads, archive packages and generated files of a test go to a folder of its own,
    # never into the project's var/media.
    if not MEMORY_STORAGE:
        settings.MEDIA_ROOT = str(tmp_path_factory.mktemp("media"))
        yield
        return
    absent = tmp_path_factory.getbasetemp() / f"absent-media-{request.node.nodeid.__hash__()}"
    settings.MEDIA_ROOT = str(absent)
    settings.STORAGES = {**settings.STORAGES, "default": IN_MEMORY}
    yield
    # Fixtures such as `media` may have pointed MEDIA_ROOT elsewhere: neither may exist.
    for root in {absent, Path(settings.MEDIA_ROOT)}:
        assert not root.exists(), f"写入了本地磁盘:{root}"


@pytest.fixture
def work_committee(db):
    return WorkCommitteeFactory()


@pytest.fixture
def org_a(work_committee):
    return OrganizationFactory(name="甲社区党支部", parent=work_committee)


@pytest.fixture
def org_b(work_committee):
    return OrganizationFactory(name="乙社区党支部", parent=work_committee)


@pytest.fixture
def applicant(org_a):
    return UserFactory(username="alice", organization=org_a, roles=[Role.APPLICANT])


@pytest.fixture
def reviewer(org_a):
    return UserFactory(
        username="bob", organization=org_a, title="支部书记", roles=[Role.ORG_REVIEWER]
    )


@pytest.fixture
def outsider(org_b):
    return UserFactory(username="charlie", organization=org_b, roles=[Role.ORG_REVIEWER])


@pytest.fixture
def outsider_applicant(org_b):
    return UserFactory(username="carol", organization=org_b, roles=[Role.APPLICANT])


@pytest.fixture
def leader(work_committee):
    return UserFactory(
        username="dora", organization=work_committee, title="副书记", roles=[Role.LEADERSHIP]
    )


@pytest.fixture
def leader2(work_committee):
    return UserFactory(
        username="dan", organization=work_committee, title="组宣科", roles=[Role.LEADERSHIP]
    )


@pytest.fixture
def finance(work_committee):
    return UserFactory(
        username="erin", organization=work_committee, title="会计", roles=[Role.FINANCE]
    )


@pytest.fixture
def auditor(work_committee):
    return UserFactory(username="frank", organization=work_committee, roles=[Role.AUDITOR])


@pytest.fixture
def role_users(applicant, reviewer, outsider, leader, finance, auditor):
    return {
        "applicant": applicant,
        "org_reviewer": reviewer,
        "outsider": outsider,
        "leadership": leader,
        "finance": finance,
        "auditor": auditor,
    }
