from django.core.management.base import BaseCommand
from django.utils import timezone

from projects.reminders import send_reminders


class Command(BaseCommand):
    help = (
        "向相关人员发送待办提醒(逾期初审、逾期未报的月度进展报告、待处理的变更申请、"
        "问题上报和待验收项目);同一事项同一天只提醒一次。"
    )

    def handle(self, *args, **options):
        lines = send_reminders(timezone.localdate())
        for line in lines:
            self.stdout.write(line)
        sent = sum(1 for line in lines if line.startswith("已提醒"))
        self.stdout.write(self.style.SUCCESS(f"共发送 {sent} 封提醒邮件。"))
