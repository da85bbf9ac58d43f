"""Printing the same document at the same moment on PostgreSQL (each thread its own
connection): one version is issued and every copy carries the same, genuine code."""

from decimal import Decimal

import pytest

from projects.documents.kinds import Kind, Subject, build_context
from projects.documents.verification import issue, verify
from projects.models import IssuedDocument, Project
from tests.projects import fixtures_money
from tests.projects.fixtures_money import add_invoices
from tests.projects.test_money_concurrency import race

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
accepted = fixtures_money.accepted


def test_simultaneous_prints_issue_one_version(accepted, applicant):
    add_invoices(accepted, applicant, Decimal("800.00"))

    def print_once(_i):
        project = Project.objects.select_related("organization", "leader").get(pk=accepted.pk)
        subject = Subject(Kind.FINAL_ACCOUNTS, project=project)
        return issue(subject, build_context(subject)).token

    tokens = race(print_once)
    assert all(isinstance(t, str) for t in tokens), tokens
    assert len(set(tokens)) == 1
    assert IssuedDocument.objects.filter(kind=Kind.FINAL_ACCOUNTS).count() == 1
    assert verify(tokens[0]).status == "genuine"
