import os

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.test.utils import override_settings

from accounts.demo import DEMO_PASSWORD, DemoNameTaken, load_organizations_and_users
from accounts.roles import Role


class Command(BaseCommand):
    help = "填充演示数据:组织、各角色用户(可重复运行,不会重复创建)。"

    def add_arguments(self, parser):
        parser.add_argument(
            "--allow-demo-accounts",
            action="store_true",
            help="在非调试环境中也创建演示账号(密码公开,只用于演示)。",
        )

    def handle(self, *args, **options):
        allowed = (
            settings.DEBUG
            or options["allow_demo_accounts"]
            or os.environ.get("DJANGO_ALLOW_DEMO_DATA", "") == "1"
        )
        if not allowed:
            raise CommandError(
                "演示数据只用于演示:它会创建使用公开演示密码的领导小组、财政科账号。"
                "当前不是调试环境(DJANGO_DEBUG 未开启),已拒绝执行,未做任何改动。"
                "确需在此环境载入演示数据,请加参数 --allow-demo-accounts"
                "(或设置环境变量 DJANGO_ALLOW_DEMO_DATA=1)。"
            )
        # The demo drives projects through the real services, which mail the next actor
        # after each step; those demo mails are kept in memory instead of flooding the console.
        with override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend"):
            try:
                with transaction.atomic():
                    data = load_organizations_and_users()
                    extra = self.load_projects(data)
            except DemoNameTaken as taken:
                raise CommandError(
                    f"以下账号名已被非演示账号使用:{taken}。演示数据不会修改这些账号"
                    "(密码、组织、角色均保持不变),已停止,未做任何改动。"
                ) from taken
        self.stdout.write(self.style.SUCCESS("演示数据已就绪。"))
        self.stdout.write(f"所有演示账号的密码:{DEMO_PASSWORD}")
        required = set(settings.TWO_FACTOR_REQUIRED_ROLES)
        for username, user in data["users"].items():
            roles = "、".join(Role(r).label for r in sorted(user.role_names))
            second = " · 须双重验证" if required & user.role_names else ""
            self.stdout.write(f"  {username:<12} {roles} · {user.organization}{second}")
        if required:
            self.stdout.write(
                "标注“须双重验证”的账号首次登录时,输入密码后会进入“绑定身份验证器”页面:"
                "用手机上的身份验证器应用扫描二维码,输入显示的 6 位验证码,抄下恢复码;"
                "以后每次登录在密码之后输入验证码。"
            )
        for line in extra:
            self.stdout.write(line)

    def load_projects(self, data) -> list[str]:
        try:
            from projects.demo import load_projects
        except ImportError:
            return []
        return load_projects(data)
