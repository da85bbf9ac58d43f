from django.core.management.base import BaseCommand, CommandError

from projects.history import verify_project_rows
from projects.models import Project, ProjectHistory


class Command(BaseCommand):
    help = "核验审批历史:每条记录的签名哈希链是否完整,报告第一条被改动或缺失的记录。"

    def handle(self, *args, **options):
        breaks = []
        checked = 0
        projects = Project.objects.order_by("pk").values_list("pk", "state")
        for chunk_start in range(0, projects.count(), 1000):
            chunk = list(projects[chunk_start : chunk_start + 1000])
            rows_by_project: dict[int, list] = {pk: [] for pk, _ in chunk}
            for row in (
                ProjectHistory.objects.filter(project_id__in=rows_by_project)
                .order_by("project_id", "seq")
                .iterator(chunk_size=2000)
            ):
                rows_by_project[row.project_id].append(row)
                checked += 1
            for pk, state in chunk:
                problem = verify_project_rows(pk, state, rows_by_project[pk])
                if problem:
                    breaks.append(problem)
        if breaks:
            for problem in breaks:
                self.stderr.write(str(problem))
            raise CommandError(f"审批历史核验失败:{len(breaks)} 个项目的历史链断裂。")
        self.stdout.write(self.style.SUCCESS(f"审批历史完整:核验 {checked} 条记录。"))
