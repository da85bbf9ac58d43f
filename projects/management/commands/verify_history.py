import json

from django.core.management.base import BaseCommand, CommandError

from projects.services import events


class Command(BaseCommand):
    help = (
        "核验审批历史:全系统签名哈希链是否完整、每个项目的状态和金额是否与其最后一条记录一致;"
        "给出 --checkpoint 时,还核验检查点之前的记录未被改动、删除或调换顺序。"
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--checkpoint", help="history_checkpoint 写出的检查点文件(保存在数据库之外)"
        )

    def handle(self, *args, **options):
        checkpoint = None
        if options.get("checkpoint"):
            try:
                with open(options["checkpoint"], encoding="utf-8") as handle:
                    checkpoint = json.load(handle)
                int(checkpoint["global_seq"]), str(checkpoint["digest"])
            except (OSError, ValueError, KeyError, TypeError) as exc:
                raise CommandError(f"无法读取检查点文件:{exc}") from exc
        result = events.verify(checkpoint)
        if result.breaks:
            for problem in result.breaks:
                self.stderr.write(str(problem))
            raise CommandError(f"审批历史核验失败:发现 {len(result.breaks)} 处问题。")
        where = f",至检查点第 {checkpoint['global_seq']} 条无改动" if checkpoint else ""
        self.stdout.write(
            self.style.SUCCESS(
                f"审批历史完整:核验 {result.rows} 条记录、{result.projects} 个项目{where}。"
            )
        )
