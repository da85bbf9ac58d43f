from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from projects.reminders import send_reminders


class Command(BaseCommand):
    help = (
        "向相关人员发送待办提醒(逾期初审、逾期未报的月度进展报告、待处理的变更申请、"
        "问题上报和待验收项目);同一事项同一天只提醒一次,发送失败的下次重发。"
    )

    def handle(self, *args, **options):
        run = send_reminders(timezone.localdate())
        for line in run.lines:
            self.stdout.write(line)
        sent = sum(1 for line in run.lines if line.startswith("已提醒"))
        self.stdout.write(self.style.SUCCESS(f"共发送 {sent} 封提醒邮件。"))
        if run.failed:
            # A non-zero exit, so that cron or the monitoring sees it.
            raise CommandError(
                f"有 {len(run.failed)} 封提醒邮件发送失败(这些事项未标记为已提醒,"
                f"下次运行时重发):" + ";".join(run.failed)
            )
