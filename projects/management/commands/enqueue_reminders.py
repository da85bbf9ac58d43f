"""Queue today's reminders as a background job (issue 13), e.g. from cron once a day:

    python manage.py enqueue_reminders --owner admin

A `run_worker` process sends them (projects.reminders.send_reminders); the owner sees the
job and its result in 我的下载. `send_reminders` still sends them at once, in the foreground.
"""

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from accounts.models import User
from projects.models.jobs import BackgroundJob
from projects.services.errors import WorkflowError
from projects.services.jobs import job_start


class Command(BaseCommand):
    help = "把今天的待办提醒作为后台任务排队(由 run_worker 进程发送,结果见发起人的“我的下载”)。"

    def add_arguments(self, parser):
        parser.add_argument("--owner", required=True, help="发起人账号(在“我的下载”中看到结果)")

    def handle(self, *args, owner, **options):
        user = User.objects.filter(username=owner, is_active=True).first()
        if user is None:
            raise CommandError(f"找不到有效的账号“{owner}”。")
        today = timezone.localdate()
        try:
            job = job_start(
                kind=BackgroundJob.Kind.REMINDERS,
                owner=user,
                title=f"发送待办提醒({today:%Y年%m月%d日})",
                params={"today": today.isoformat()},
            )
        except WorkflowError as exc:
            raise CommandError(";".join(exc.messages)) from exc
        self.stdout.write(self.style.SUCCESS(f"已排队:后台任务 {job.pk}。"))
