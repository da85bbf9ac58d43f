"""Issued documents (issue 13): one row per version of a printed document, so that the QR on
a paper copy can be checked later at /verify/<token>/ (genuine? still current?).

A version is issued the first time a document is printed with content that differs from its
latest version (the digest of the data it shows). The token is an HMAC over the row's
identity and digest, keyed by DOCUMENT_VERIFY_KEY from the environment: only its SHA-256 is
stored, so the database alone neither yields a token nor lets anyone forge one.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone

from accounts.scoping import ScopedQuerySet


class IssuedDocument(models.Model):
    class Kind(models.TextChoices):
        APPLICATION = "application", "项目申请书"
        ACCEPTANCE = "acceptance", "验收意见"
        FINAL_ACCOUNTS = "final_accounts", "决算清单"
        SETTLEMENT = "settlement", "项目资金结算单"
        DISCLOSURE = "disclosure", "党费使用情况公示"

    kind = models.CharField("文书类别", max_length=20, choices=Kind.choices)
    # What the document is about: "project:<pk>" or "disclosure:<org pk>:<year>".
    subject = models.CharField("文书对象", max_length=60)
    project = models.ForeignKey(
        "projects.Project",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="issued_documents",
        verbose_name="项目",
    )
    organization = models.ForeignKey(
        "accounts.Organization", on_delete=models.PROTECT, related_name="+", verbose_name="党组织"
    )
    year = models.PositiveIntegerField("年度", null=True, blank=True)
    version = models.PositiveIntegerField("版本")
    issued_at = models.DateTimeField("出具时间", default=timezone.now)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="出具人",
    )
    # What the document shows: {"summary": [[label, value], ...], "data": {...}}.
    snapshot = models.JSONField("文书内容")
    digest = models.CharField("内容摘要(SHA-256)", max_length=64)
    token_digest = models.CharField("核验码摘要", max_length=64, unique=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "已出具文书"
        verbose_name_plural = "已出具文书"
        ordering = ["kind", "subject", "version"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "subject", "version"], name="issued_document_version_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.subject} 第{self.version}版"
