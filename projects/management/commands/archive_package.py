"""archive_package CODE --out FILE (contract): write the stored archive package of the closed
project with that code, the same bytes the project page offers."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from projects.models import Project
from projects.services.errors import WorkflowError


class Command(BaseCommand):
    help = "导出已结项归档项目的档案包(与项目页面提供的档案包字节相同)。"

    def add_arguments(self, parser):
        parser.add_argument("code", help="项目编号,例如 2026-0012")
        parser.add_argument("--out", required=True, help="写入的文件路径")

    def handle(self, *args, code, out, **options):
        from projects.archive.package import stored_package

        project = Project.objects.filter(code=(code or "").strip()).first()
        if project is None:
            raise CommandError(f"没有项目编号为“{code}”的项目。")
        try:
            package, data = stored_package(project)
        except WorkflowError as exc:
            raise CommandError(";".join(exc.messages)) from exc
        try:
            Path(out).write_bytes(data)
        except OSError as exc:
            raise CommandError(f"不能写入文件“{out}”:{exc.strerror or exc}") from exc
        self.stdout.write(
            f"已写出项目 {project.code} 的档案包(第{package.version}版,{len(data)} 字节)到 {out}\n"
            f"SHA-256:{package.sha256}\nSM3:{package.sm3}"
        )
