"""Data in two organisations for the authorization walk: organisation A (home of the scoped
roles) and organisation B (the other one), each with an approved project driven through the
real services, plus one row of every other model a ModelAdmin may show, so that the walker
covers admins registered later without being told about them."""

from __future__ import annotations

import datetime
import itertools
from dataclasses import dataclass, field
from decimal import Decimal

from django.apps import apps
from django.contrib.auth.models import Group
from django.core.files.base import ContentFile
from django.db import models
from django.utils import timezone

from accounts.models import Organization, User
from accounts.roles import Role
from projects.services import apply_transition
from tests.factories import (
    BudgetLineFactory,
    FundingPolicyFactory,
    OrganizationFactory,
    ProjectFactory,
    UserFactory,
    WorkCommitteeFactory,
)
from tests.projects.conftest import CHECKLIST_YES

# Strings that belong to organisation B only: none may appear on a page served to a scoped
# user of organisation A.
OTHER_MARKERS = ["乙社区党支部", "乙方专属", "carol_b", "6222999988887777"]

# Roles walked; the scoped ones live in organisation A.
ROLES = ["anonymous", "applicant", "org_reviewer", "leadership", "finance", "auditor", "superuser"]
SCOPED_ROLES = {"applicant", "org_reviewer"}

_unique = itertools.count(1)


@dataclass
class World:
    orgs: dict[str, Organization]
    users: dict[str, User | None]
    projects: dict[str, object]
    objects: dict[type, dict[str, models.Model]] = field(default_factory=dict)

    def object_for(self, model, side: str) -> models.Model:
        """An object of `model` owned by organisation `side` ("own"=A, "other"=B)."""
        per_side = self.objects.setdefault(model, {})
        if side not in per_side:
            per_side[side] = find_or_build(model, self, side)
        return per_side[side]


def build_world() -> World:
    root = WorkCommitteeFactory()
    org_a = OrganizationFactory(name="甲社区党支部", parent=root)
    org_b = OrganizationFactory(name="乙社区党支部", parent=root, bank_account="6222999988887777")
    users = {
        "anonymous": None,
        "applicant": UserFactory(username="alice", organization=org_a, roles=[Role.APPLICANT]),
        "org_reviewer": UserFactory(username="bob", organization=org_a, roles=[Role.ORG_REVIEWER]),
        "leadership": UserFactory(username="dora", organization=root, roles=[Role.LEADERSHIP]),
        "finance": UserFactory(username="erin", organization=root, roles=[Role.FINANCE]),
        "auditor": UserFactory(username="frank", organization=root, roles=[Role.AUDITOR]),
        "superuser": UserFactory(username="root", organization=root, is_superuser=True, roles=[]),
        "other_applicant": UserFactory(
            username="carol_b", organization=org_b, roles=[Role.APPLICANT]
        ),
        "other_reviewer": UserFactory(
            username="charlie", organization=org_b, roles=[Role.ORG_REVIEWER]
        ),
    }
    FundingPolicyFactory()
    projects = {
        "own": _approved_project(org_a, users["applicant"], users["org_reviewer"], users, "甲方"),
        "other": _approved_project(
            org_b, users["other_applicant"], users["other_reviewer"], users, "乙方专属"
        ),
    }
    world = World(orgs={"own": org_a, "other": org_b}, users=users, projects=projects)
    world.objects[Organization] = {"own": org_a, "other": org_b}
    world.objects[User] = {"own": users["applicant"], "other": users["other_applicant"]}
    return world


def _approved_project(org, leader, reviewer, users, prefix):
    project = ProjectFactory(organization=org, leader=leader, title=f"{prefix}项目")
    BudgetLineFactory(project=project, quantity=Decimal("2"), unit_price=Decimal("500.00"))
    project = apply_transition(project, "submit", actor=leader)
    project = apply_transition(
        project, "org_approve", actor=reviewer, opinion="同意上报", **CHECKLIST_YES
    )
    return apply_transition(
        project,
        "approve",
        actor=users["leadership"],
        opinion="同意立项",
        grade=3,
        approved_amount="1000.00",
    )


def scope_field(model) -> str | None:
    return getattr(model._default_manager.get_queryset(), "scope_organization_field", None)


def find_or_build(model, world: World, side: str) -> models.Model:
    """An existing row of the side's organisation, or a new one filled in generically."""
    lookup = scope_field(model)
    rows = model._default_manager.all()
    if lookup:
        rows = rows.filter(**{lookup: world.orgs[side].pk})
    elif model is Group:
        rows = rows.filter(name=Role.APPLICANT)
    existing = rows.order_by("pk").first()
    return existing if existing is not None else autofill(model, world, side)


def autofill(model, world: World, side: str) -> models.Model:
    """A valid row with every required field filled in: test data for the walker only (the
    application itself creates these rows through its services)."""
    values = {}
    for f in model._meta.concrete_fields:
        if f.primary_key or f.null or f.has_default() or getattr(f, "auto_now_add", False):
            continue
        values[f.name] = _value_for(f, model, world, side)
    obj = model(**values)
    obj.save()
    return obj


def _value_for(f, model, world: World, side: str):
    n = next(_unique)
    if isinstance(f, models.ForeignKey):
        target = f.related_model
        if target is Organization:
            return world.orgs[side]
        if target is User:
            return world.projects[side].leader
        if target is apps.get_model("projects", "Project"):
            return world.projects[side]
        if target is model:
            raise LookupError(f"{model.__name__}.{f.name}: required self reference")
        return world.object_for(target, side)
    if f.choices:
        return f.choices[0][0]
    if isinstance(f, models.FileField):
        return ContentFile(b"%PDF-1.4 walker", name=f"walker-{n}.pdf")
    if isinstance(f, models.DecimalField):
        return Decimal("0.00") if f.name == "tax" else Decimal("1.00")
    if isinstance(f, models.BooleanField):
        return False
    if isinstance(f, models.IntegerField):
        return n
    if isinstance(f, models.DateTimeField):
        return timezone.now()
    if isinstance(f, models.DateField):
        return datetime.date.today().replace(day=1)
    if isinstance(f, models.JSONField):
        return {}
    if isinstance(f, models.CharField | models.TextField):
        prefix = "乙方专属" if side == "other" else "甲方"
        text = f"{prefix}{f.name}{n}"
        return text[: f.max_length] if f.max_length else text
    raise LookupError(f"{model.__name__}.{f.name}: no walker value for {type(f).__name__}")
