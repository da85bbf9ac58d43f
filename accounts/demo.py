"""Fictional organisations and one user per role (DESIGN.md §6 demo_data)."""

from django.contrib.auth.models import Group

from accounts.models import Organization, User
from accounts.roles import Role

DEMO_PASSWORD = "Dangfei-Demo-2026"

WORK_COMMITTEE = {
    "name": "青禾地区工委",
    "short_name": "地区工委",
    "uscc": "91350100M000100Y43",
    "payee_name": "青禾地区工委党费专户",
    "bank_name": "示例银行青禾支行",
    "bank_account": "6222000000000001",
}
GRASSROOTS = [
    ("青禾社区第一党支部", "社区一支部", "91110108551385082Q", "6222000000000011"),
    ("青禾科技园联合党委", "科技园党委", "", "6222000000000022"),
    ("青禾实验学校党总支", "学校党总支", "", "6222000000000033"),
]
# (username, surname, given name, title, roles); one applicant and reviewer per organisation.
GLOBAL_USERS = [
    ("leader1", "周", "明远", "地区工委副书记(组长)", [Role.LEADERSHIP]),
    ("leader2", "吴", "静", "组宣科科长", [Role.LEADERSHIP]),
    ("finance1", "郑", "晓燕", "财政科会计", [Role.FINANCE]),
    ("finance2", "冯", "立", "财政科科长", [Role.FINANCE, Role.LEADERSHIP]),
    ("auditor1", "陈", "审", "纪检监督员", [Role.AUDITOR]),
]
ORG_PEOPLE = [
    (("赵", "一帆"), ("钱", "书记")),
    (("孙", "二楠"), ("李", "委员")),
    (("王", "三石"), ("刘", "支书")),
]


class DemoNameTaken(Exception):
    """A demo username belongs to an account demo_data did not create."""

    def __init__(self, usernames: list[str]):
        self.usernames = usernames
        super().__init__("、".join(usernames))


def demo_usernames() -> list[str]:
    names = [row[0] for row in GLOBAL_USERS]
    for index in range(1, len(ORG_PEOPLE) + 1):
        names += [f"applicant{index}", f"reviewer{index}"]
    return names


def _user(username, surname, given, title, organization, roles) -> User:
    user, created = User.objects.update_or_create(
        username=username,
        demo_account=True,
        defaults={
            "last_name": surname,
            "first_name": given,
            "title": title,
            "organization": organization,
            "is_staff": True,
            "is_active": True,
            "email": f"{username}@example.org",
        },
    )
    if created:
        user.set_password(DEMO_PASSWORD)
        user.save(update_fields=["password"])
    user.groups.set(Group.objects.filter(name__in=roles))
    return user


def load_organizations_and_users() -> dict:
    """Create (or bring back to their demo state) the demo organisations and accounts.

    Raises DemoNameTaken, before writing anything, when a demo username already belongs to
    an account that demo_data did not create: that account keeps its password, organisation
    and roles, and the demo projects are not signed in a real person's name.
    """
    taken = list(
        User.objects.filter(username__in=demo_usernames(), demo_account=False)
        .order_by("username")
        .values_list("username", flat=True)
    )
    if taken:
        raise DemoNameTaken(taken)
    root, _ = Organization.objects.update_or_create(
        name=WORK_COMMITTEE["name"],
        defaults={**WORK_COMMITTEE, "kind": Organization.Kind.WORK_COMMITTEE, "parent": None},
    )
    orgs = []
    for name, short, code, account in GRASSROOTS:
        org, _ = Organization.objects.update_or_create(
            name=name,
            defaults={
                "short_name": short,
                "kind": Organization.Kind.GRASSROOTS,
                "parent": root,
                "uscc": code,
                "payee_name": name,
                "bank_name": "示例银行青禾支行",
                "bank_account": account,
            },
        )
        orgs.append(org)
    users = {}
    for username, surname, given, title, roles in GLOBAL_USERS:
        users[username] = _user(username, surname, given, title, root, roles)
    for index, (org, (applicant, reviewer)) in enumerate(zip(orgs, ORG_PEOPLE, strict=True), 1):
        users[f"applicant{index}"] = _user(
            f"applicant{index}", *applicant, "党员", org, [Role.APPLICANT]
        )
        users[f"reviewer{index}"] = _user(
            f"reviewer{index}", *reviewer, "党组织书记", org, [Role.ORG_REVIEWER]
        )
    return {"root": root, "orgs": orgs, "users": users}
