"""verify_archive FILE (contract): the four checks of DA/T 70 on an archive package, a Chinese
report, a non-zero exit on any failure."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

# A package larger than this is not read into memory (the builder's own limit is far below).
MAX_FILE_BYTES = 4 * 1024 * 1024 * 1024


class Command(BaseCommand):
    help = "对档案包进行四性检测(真实性、完整性、可用性、安全性,DA/T 70)。"

    def add_arguments(self, parser):
        parser.add_argument("file", help="档案包文件(ZIP)")

    def handle(self, *args, file, **options):
        from projects.archive.checks import verify_package

        path = Path(file)
        try:
            if not path.is_file():
                raise CommandError(f"文件“{file}”不存在。")
            if path.stat().st_size > MAX_FILE_BYTES:
                raise CommandError(f"文件“{file}”过大,不是本系统的档案包。")
            data = path.read_bytes()
        except OSError as exc:
            raise CommandError(f"不能读取文件“{file}”:{exc.strerror or exc}") from exc
        report = verify_package(data, name=path.name)
        self.stdout.write(report.text(), ending="")
        if not report.ok:
            raise CommandError("档案包未通过四性检测。", returncode=1)
