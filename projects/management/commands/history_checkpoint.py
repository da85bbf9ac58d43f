import json

from django.core.management.base import BaseCommand, CommandError

from projects.services import events


class Command(BaseCommand):
    help = (
        "写出审批历史的检查点(全局序号、摘要、记录数、时间),供保存在数据库之外"
        "(打印、发送给审计人员或另处存放);verify_history --checkpoint 用它核验。"
    )

    def add_arguments(self, parser):
        parser.add_argument("--out", required=True, help="检查点文件路径(JSON)")

    def handle(self, *args, **options):
        head = events.checkpoint()
        try:
            with open(options["out"], "w", encoding="utf-8") as handle:
                json.dump(head, handle, ensure_ascii=False, indent=2)
        except OSError as exc:
            raise CommandError(f"无法写入检查点文件:{exc}") from exc
        self.stdout.write(
            self.style.SUCCESS(
                f"检查点已写出:第 {head['global_seq']} 条,共 {head['row_count']} 条记录,"
                f"摘要 {head['digest'][:16]}…({options['out']})"
            )
        )
