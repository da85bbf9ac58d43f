"""Import previews kept in the database, so any app process can confirm what another previewed.

A preview is what the 确认导入 step needs of an upload, keyed by a random token and tied to
the user who uploaded it (and, for an invoice import, the project): for a table import the
uploaded file's bytes; for an invoice import the rows validated at the preview (compressed
JSON, services.invoice_imports.rows_pack) followed by a zip's bytes when the zip is kept as
the invoices' original, the file's SHA-256 in `meta` — the file is parsed once. Nothing of
it is on an app server's disk; rows expire after PREVIEW_TTL and are purged lazily.
"""

from django.conf import settings
from django.db import models


class ImportPreview(models.Model):
    class Kind(models.TextChoices):
        TABLE = "table", "批量导入(项目、组织、用户)"
        INVOICES = "invoices", "发票导入"

    token = models.CharField("令牌", max_length=64, unique=True)
    kind = models.CharField("类型", max_length=10, choices=Kind.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        related_name="+",
        verbose_name="上传人",
    )
    project = models.ForeignKey(
        "projects.Project",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="项目",
    )
    data = models.BinaryField("文件内容")
    # What the confirm step needs besides the bytes (the file's name, a chosen budget line).
    meta = models.JSONField("附带信息", default=dict, blank=True)
    created_at = models.DateTimeField("上传时间", auto_now_add=True)
    expires_at = models.DateTimeField("过期时间", db_index=True)

    class Meta:
        verbose_name = "导入预览"
        verbose_name_plural = "导入预览"

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.token[:8]}"
