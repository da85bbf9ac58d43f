from django.core.management.base import BaseCommand
from django.db import transaction
from django.test.utils import override_settings

from accounts.demo import DEMO_PASSWORD, load_organizations_and_users
from accounts.roles import Role


class Command(BaseCommand):
    help = "填充演示数据:组织、各角色用户(可重复运行,不会重复创建)。"

    def handle(self, *args, **options):
        # The demo drives projects through the real services, which mail the next actor
        # after each step; those demo mails are kept in memory instead of flooding the console.
        with override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend"):
            with transaction.atomic():
                data = load_organizations_and_users()
                extra = self.load_projects(data)
        self.stdout.write(self.style.SUCCESS("演示数据已就绪。"))
        self.stdout.write(f"所有演示账号的密码:{DEMO_PASSWORD}")
        for username, user in data["users"].items():
            roles = "、".join(Role(r).label for r in sorted(user.role_names))
            self.stdout.write(f"  {username:<12} {roles} · {user.organization}")
        for line in extra:
            self.stdout.write(line)

    def load_projects(self, data) -> list[str]:
        try:
            from projects.demo import load_projects
        except ImportError:
            return []
        return load_projects(data)
