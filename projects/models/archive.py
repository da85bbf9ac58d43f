"""The archive package of a closed project (issue 13): the zip built on `close`, stored once
through Django's storage API so that every later download serves exactly the bytes whose
digest the history chain recorded (event "archive_package")."""

from django.db import models
from django.utils import timezone


def package_path(instance, filename: str) -> str:
    # Named by content: a rebuild of the same project writes the same name and the same bytes.
    return f"archive/{instance.project.code}-v{instance.version}-{instance.sha256[:16]}.zip"


class ArchivePackage(models.Model):
    project = models.ForeignKey(
        "projects.Project",
        on_delete=models.PROTECT,
        related_name="archive_packages",
        verbose_name="项目",
    )
    version = models.PositiveIntegerField("版本", default=1)
    sha256 = models.CharField("SHA-256", max_length=64)
    sm3 = models.CharField("SM3", max_length=64)
    size = models.PositiveBigIntegerField("大小(字节)")
    file = models.FileField("档案包", upload_to=package_path, max_length=200)
    created_at = models.DateTimeField("生成时间", default=timezone.now)

    class Meta:
        verbose_name = "档案包"
        verbose_name_plural = "档案包"
        ordering = ["project", "-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["project", "version"], name="archive_package_version_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.project.code} 档案包 第{self.version}版"
