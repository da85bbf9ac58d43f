from django.contrib.auth.models import AbstractUser, UserManager
from django.core.exceptions import ValidationError
from django.db import models
from stdnum.cn import uscc
from stdnum.exceptions import ValidationError as StdnumError

from accounts.scoping import ScopedQuerySet


def validate_uscc(value: str) -> None:
    """统一社会信用代码 (GB 32100-2015), check character included."""
    try:
        uscc.validate(value)
    except StdnumError as exc:
        raise ValidationError("统一社会信用代码无效(应为18位且校验码正确)。") from exc


class OrganizationQuerySet(ScopedQuerySet):
    scope_organization_field = "pk"


class Organization(models.Model):
    """A party organisation: the work committee at the root, grassroots ones below it."""

    class Kind(models.TextChoices):
        WORK_COMMITTEE = "work_committee", "地区工委"
        GRASSROOTS = "grassroots", "基层党组织(二级党组织)"

    name = models.CharField("名称", max_length=100, unique=True)
    short_name = models.CharField("简称", max_length=40, blank=True)
    kind = models.CharField("类型", max_length=20, choices=Kind.choices, default=Kind.GRASSROOTS)
    parent = models.ForeignKey(
        "self",
        verbose_name="上级组织",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    uscc = models.CharField(
        "统一社会信用代码", max_length=18, blank=True, validators=[validate_uscc]
    )
    # Payee details used when funds are disbursed to the organisation (拨付).
    payee_name = models.CharField("收款户名", max_length=100, blank=True)
    bank_name = models.CharField("开户银行", max_length=100, blank=True)
    bank_account = models.CharField("银行账号", max_length=40, blank=True)
    contact_phone = models.CharField("联系电话", max_length=30, blank=True)
    is_active = models.BooleanField("启用", default=True)

    objects = OrganizationQuerySet.as_manager()

    class Meta:
        verbose_name = "党组织"
        verbose_name_plural = "党组织"
        ordering = ["kind", "name"]
        permissions = [
            ("import_organization", "可以导入党组织"),
            ("export_organization", "可以导出党组织"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind="work_committee", parent__isnull=True)
                | models.Q(kind="grassroots", parent__isnull=False),
                name="organization_root_is_work_committee",
                violation_error_message="地区工委是根组织;基层党组织必须有上级组织。",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        ancestor = self.parent
        while ancestor is not None:
            if ancestor.pk == self.pk and self.pk is not None:
                raise ValidationError({"parent": "上级组织不能形成循环。"})
            ancestor = ancestor.parent


class UserQuerySet(ScopedQuerySet):
    scope_organization_field = "organization"


class ScopedUserManager(UserManager.from_queryset(UserQuerySet)):
    pass


class User(AbstractUser):
    """A person using the back-office. Roles are Django groups (accounts.roles.Role)."""

    organization = models.ForeignKey(
        Organization,
        verbose_name="所属组织",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="members",
    )
    title = models.CharField("职务", max_length=60, blank=True)
    phone = models.CharField("电话", max_length=30, blank=True)
    # Set only by demo_data on the accounts it creates; it never touches any other account.
    demo_account = models.BooleanField("演示账号", default=False, editable=False)

    objects = ScopedUserManager()

    class Meta(AbstractUser.Meta):
        verbose_name = "用户"
        verbose_name_plural = "用户"
        permissions = [("import_user", "可以导入用户"), ("export_user", "可以导出用户")]

    def __str__(self) -> str:
        full = f"{self.last_name}{self.first_name}".strip()
        return f"{full}({self.username})" if full else self.username

    @property
    def display_name(self) -> str:
        return f"{self.last_name}{self.first_name}".strip() or self.username

    @property
    def role_names(self) -> frozenset[str]:
        """The user's role group names, fetched once per user object."""
        cached = getattr(self, "_role_names", None)
        if cached is None:
            cached = (
                frozenset(self.groups.values_list("name", flat=True)) if self.pk else frozenset()
            )
            self._role_names = cached
        return cached
