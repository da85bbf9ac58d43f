"""The five roles of DESIGN.md §1, as Django groups, and the model permissions each holds.

Model permissions only open the admin's doors (which pages a role may view or change at
all); who may do what to which project is decided by the predicates in
projects/permissions.py. Group names are a contract.
"""

from fnmatch import fnmatch

from django.db import models


class Role(models.TextChoices):
    APPLICANT = "applicant", "项目负责人"
    ORG_REVIEWER = "org_reviewer", "项目部(基层党组织)"
    LEADERSHIP = "leadership", "地区项目化管理领导小组"
    FINANCE = "finance", "财政科"
    AUDITOR = "auditor", "监督查阅"


# Roles that see every organisation's rows.
GLOBAL_ROLES = frozenset({Role.LEADERSHIP, Role.FINANCE, Role.AUDITOR})

# (app_label, codename pattern) per role; patterns let later models join a role's set
# without touching this table. Re-applied after every migrate (see accounts.apps).
_VIEW_ALL = [("accounts", "view_*"), ("projects", "view_*")]
ROLE_PERMISSIONS: dict[str, list[tuple[str, str]]] = {
    Role.APPLICANT: [
        *_VIEW_ALL,
        ("projects", "add_project"),
        ("projects", "change_project"),
        ("projects", "add_budgetline"),
        ("projects", "change_budgetline"),
        ("projects", "delete_budgetline"),
        ("projects", "add_progressreport"),
        ("projects", "change_progressreport"),
        ("projects", "add_problemreport"),
        ("projects", "change_problemreport"),
        ("projects", "add_changerequest"),
        ("projects", "add_summaryreport"),
        ("projects", "change_summaryreport"),
        ("projects", "add_document"),
        ("projects", "add_invoice"),
        ("projects", "change_invoice"),
        ("projects", "delete_invoice"),
        ("projects", "import_invoice"),
    ],
    Role.ORG_REVIEWER: [
        *_VIEW_ALL,
        ("projects", "add_project"),
        ("projects", "change_project"),
        ("projects", "add_budgetline"),
        ("projects", "change_budgetline"),
        ("projects", "delete_budgetline"),
        ("projects", "change_progressreport"),
        ("projects", "change_problemreport"),
        ("projects", "change_changerequest"),
        ("projects", "add_document"),
        ("projects", "add_invoice"),
        ("projects", "change_invoice"),
        ("projects", "delete_invoice"),
        ("projects", "import_invoice"),
        ("projects", "export_*"),
    ],
    Role.LEADERSHIP: [
        *_VIEW_ALL,
        ("projects", "change_project"),
        ("projects", "add_fundingpolicy"),
        ("projects", "change_fundingpolicy"),
        ("projects", "change_problemreport"),
        ("projects", "change_changerequest"),
        ("projects", "add_document"),
        # Earlier years' projects come in from spreadsheets (historical import).
        ("projects", "import_project"),
        ("accounts", "export_*"),
        ("projects", "export_*"),
    ],
    Role.FINANCE: [
        *_VIEW_ALL,
        ("projects", "change_project"),
        ("projects", "change_invoice"),
        # The risk rules' keyword list (issue 12) is finance's to keep.
        ("projects", "add_riskkeyword"),
        ("projects", "change_riskkeyword"),
        ("projects", "add_disbursement"),
        ("projects", "import_disbursement"),
        ("accounts", "export_*"),
        ("projects", "export_*"),
    ],
    Role.AUDITOR: [*_VIEW_ALL, ("accounts", "export_*"), ("projects", "export_*")],
}


def role_names(user) -> frozenset[str]:
    if not user or not user.is_authenticated:
        return frozenset()
    return user.role_names


def has_role(user, role: str) -> bool:
    return role in role_names(user)


def sees_everything(user) -> bool:
    return bool(user.is_superuser or role_names(user) & GLOBAL_ROLES)


def is_read_only(user) -> bool:
    """An auditor who holds no other role changes nothing, anywhere (DESIGN.md §1)."""
    names = role_names(user)
    return not user.is_superuser and Role.AUDITOR in names and len(names) == 1


def role_labels(user) -> list[str]:
    return [Role(name).label for name in sorted(role_names(user)) if name in Role.values]


def sync_role_groups(sender=None, using: str = "default", **kwargs) -> None:
    """Create the role groups and give each exactly the permissions of ROLE_PERMISSIONS."""
    from django.contrib.auth.models import Group, Permission

    permissions = list(
        Permission.objects.using(using)
        .filter(content_type__app_label__in=["accounts", "projects"])
        .select_related("content_type")
    )
    for role, patterns in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.using(using).get_or_create(name=role)
        wanted = [
            perm
            for perm in permissions
            if any(
                perm.content_type.app_label == app and fnmatch(perm.codename, pattern)
                for app, pattern in patterns
            )
        ]
        group.permissions.set(wanted)
