"""The import/export resources (DESIGN.md §6): scoped, formula-safe, typed, Chinese-headed.

django-import-export 4.4.3 has traps these close (issue 6):
- the import resolves rows through its own queryset, not the admin's get_queryset, so a
  scoped user could overwrite another organisation's row by naming its key: every lookup
  here goes through `Model.objects.visible_to(user)`, and a key that exists outside the
  user's scope is an error on that row, never an update;
- numbers and dates would be written to xlsx as text: every widget uses
  coerce_to_string=False, and the streaming writer keeps Decimal/date cells typed;
- its formula escaping strips only a leading "=": every text cell goes through the one
  neutraliser (projects.exchange.writer.neutralise), undone on import after the cell's
  blanks are trimmed, so a round trip gives back the same text;
- an import commits valid rows beside invalid ones unless rollback_on_validation_errors is
  passed: the admin mixins always pass it (all-or-nothing).

Historical projects (earlier years' spreadsheets) enter only as finished records of a past
year, through projects.services.historical_import (the same caps, pool and invariants as the
transitions, one signed 'import' event). An import never changes an existing project: an
unchanged row is skipped (so re-importing an export is a no-op), a changed one is refused.

Disbursements and invoices are export-only here: disbursements are written only by the
`settle` transition (append-only ledger, disbursed ≤ settlement ≤ approved). Invoice import
belongs to the money side (projects/services/invoice_imports.py).
"""

from __future__ import annotations

from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from import_export import fields, resources

from accounts.models import Organization, User
from accounts.roles import GLOBAL_ROLES, sees_everything
from projects.exchange.widgets import (
    ChoiceWidget,
    DateWidget,
    MoneyWidget,
    RolesWidget,
    ScopedForeignKeyWidget,
    YesNoWidget,
    column,
)
from projects.exchange.writer import clean_imported_text, neutralise
from projects.models import Disbursement, Invoice

# --- the safe base resource -----------------------------------------------------------------


class SafeResource(resources.ModelResource):
    """Scoped, formula-safe, typed, Chinese-headed; imports are all-or-nothing (admin)."""

    # May a user who sees only their own organisation create new rows with this resource?
    scoped_may_create = True

    class Meta:
        clean_model_instances = True
        skip_unchanged = True
        report_skipped = True
        use_transactions = True

    def __init__(self, user=None, **kwargs):
        super().__init__(**kwargs)
        if user is None:
            raise TypeError("导入导出必须指明操作用户(用于限定可见范围)。")
        self.user = user
        for field in self.fields.values():
            if isinstance(field.widget, ScopedForeignKeyWidget):
                field.widget.user = user

    @property
    def scoped(self) -> bool:
        return not sees_everything(self.user)

    def get_queryset(self):
        return self._meta.model._default_manager.visible_to(self.user)

    # -- import ----------------------------------------------------------------------------

    def before_import(self, dataset, **kwargs):
        # Without its key column every row would fail with the library's English message
        # (and a traceback): one Chinese sentence for the file instead.
        super().before_import(dataset, **kwargs)
        headers = dataset.headers or []
        missing = [
            self.fields[name].column_name
            for name in self.get_import_id_fields()
            if self.fields[name].column_name not in headers
        ]
        if missing:
            raise ValidationError(
                f"文件缺少“{'、'.join(missing)}”列,未导入任何数据。请使用下载的导入模板。"
            )

    def before_import_row(self, row, **kwargs):
        for key, value in list(row.items()):
            row[key] = clean_imported_text(value)

    def _lookup(self, row) -> dict:
        lookup = {}
        for name in self.get_import_id_fields():
            field = self.fields[name]
            lookup[field.attribute] = field.clean(row)
        return lookup

    def get_instance(self, instance_loader, row):
        instance = super().get_instance(instance_loader, row)
        if instance is not None:
            return instance
        lookup = self._lookup(row)
        if any(value in (None, "") for value in lookup.values()):
            return None
        if self._meta.model._default_manager.filter(**lookup).exists():
            # The key exists outside the user's scope: never an update, never a confirmation.
            raise ValidationError(
                f"“{'/'.join(str(v) for v in lookup.values())}”不在您的管理范围内或已被占用,"
                "不能导入。"
            )
        if self.scoped and not self.scoped_may_create:
            raise ValidationError(f"您只能修改本组织的{self._meta.model._meta.verbose_name}。")
        return None

    # -- export ----------------------------------------------------------------------------

    def export_field(self, field, instance, **kwargs):
        return neutralise(super().export_field(field, instance, **kwargs))

    def export_columns(self) -> list[tuple[str, str, object]]:
        """(header, values_list path, widget) for the streaming export."""
        return [
            (field.column_name, field.attribute, field.widget) for field in self.get_export_fields()
        ]

    def export_queryset(self, queryset):
        """The rows to stream, always cut down to the user's scope."""
        return queryset & self._meta.model._default_manager.visible_to(self.user)


# --- organisations and users ----------------------------------------------------------------


class OrganizationResource(SafeResource):
    scoped_may_create = False

    name = column("name", "名称")
    short_name = column("short_name", "简称")
    kind = column("kind", "类型", ChoiceWidget(Organization.Kind.choices))
    parent = column("parent", "上级组织", ScopedForeignKeyWidget(Organization, "name"))
    uscc = column("uscc", "统一社会信用代码")
    payee_name = column("payee_name", "收款户名")
    bank_name = column("bank_name", "开户银行")
    bank_account = column("bank_account", "银行账号")
    contact_phone = column("contact_phone", "联系电话")
    is_active = column("is_active", "启用", YesNoWidget())

    class Meta(SafeResource.Meta):
        model = Organization
        import_id_fields = ["name"]
        fields = [
            "name",
            "short_name",
            "kind",
            "parent",
            "uscc",
            "payee_name",
            "bank_name",
            "bank_account",
            "contact_phone",
            "is_active",
        ]

    def before_import_row(self, row, **kwargs):
        super().before_import_row(row, **kwargs)
        if self.scoped and row.get("上级组织"):
            # Scoped users see only their own organisation, so they may not re-parent it.
            row.pop("上级组织")

    def export_columns(self):
        return [
            (header, "parent__name" if path == "parent" else path, widget)
            for header, path, widget in super().export_columns()
        ]


class UserResource(SafeResource):
    username = column("username", "用户名")
    last_name = column("last_name", "姓")
    first_name = column("first_name", "名")
    organization = column("organization", "所属组织", ScopedForeignKeyWidget(Organization, "name"))
    title = column("title", "职务")
    phone = column("phone", "电话")
    email = column("email", "电子邮箱")
    roles = fields.Field(attribute=None, column_name="角色", widget=RolesWidget())
    is_active = column("is_active", "启用", YesNoWidget())

    class Meta(SafeResource.Meta):
        model = User
        import_id_fields = ["username"]
        fields = [
            "username",
            "last_name",
            "first_name",
            "organization",
            "title",
            "phone",
            "email",
            "roles",
            "is_active",
        ]
        skip_unchanged = False

    def dehydrate_roles(self, user):
        return self.fields["roles"].widget.render([g.name for g in user.groups.all()])

    def before_import_row(self, row, **kwargs):
        super().before_import_row(row, **kwargs)
        if self.scoped:
            # A grassroots user manages only the people of their own organisation.
            row["所属组织"] = self.user.organization.name

    def import_instance(self, instance, row, **kwargs):
        errors = {}
        try:
            super().import_instance(instance, row, **kwargs)
        except ValidationError as exc:
            errors = exc.update_error_dict(errors)
        try:
            instance._imported_roles = self.fields["roles"].widget.clean(row.get("角色"))
        except ValueError as exc:
            errors["roles"] = [str(exc)]
        else:
            self._check_roles(instance, errors)
        if instance.pk is None:
            instance.is_staff = True
            instance.set_unusable_password()  # the administrator sets a password later
        if errors:
            raise ValidationError(errors)

    def _check_roles(self, instance, errors) -> None:
        granted = set(instance._imported_roles)
        if self.scoped and granted & set(GLOBAL_ROLES):
            errors["roles"] = ["您只能授予本组织的角色(项目负责人、项目部)。"]
        if instance.is_superuser and not self.user.is_superuser:
            errors["username"] = ["不能通过导入修改系统管理员。"]

    def save_m2m(self, instance, row, **kwargs):
        if not self._is_dry_run(kwargs) or kwargs.get("using_transactions"):
            instance.groups.set(Group.objects.filter(name__in=instance._imported_roles))

    def _is_dry_run(self, kwargs) -> bool:
        return bool(kwargs.get("dry_run"))

    def export_columns(self):
        return [
            (header, {"organization": "organization__name"}.get(path, path), widget)
            for header, path, widget in super().export_columns()
            if path is not None
        ]

    def export_queryset(self, queryset):
        return super().export_queryset(queryset).prefetch_related("groups")


# --- money records (export only) ------------------------------------------------------------


class DisbursementResource(SafeResource):
    project = column("project__code", "项目编号")
    project_title = column("project__title", "项目名称")
    organization = column("project__organization__name", "申报组织")
    amount = column("amount", "金额", MoneyWidget("金额"))
    purpose = column("purpose", "用途")
    voucher_number = column("voucher_number", "支付凭证号")
    voucher_date = column("voucher_date", "凭证日期", DateWidget("凭证日期"))
    method = column("method", "支付方式", ChoiceWidget(Disbursement.Method.choices))
    payee_name = column("payee_name", "收款人")
    payee_bank = column("payee_bank", "开户银行")
    payee_account = column("payee_account", "银行账号")
    bank_serial = column("bank_serial", "银行流水号")
    paid_on = column("paid_on", "实际支付日期", DateWidget("实际支付日期"))
    reverses = column("reverses__voucher_number", "冲销的原凭证号")
    note = column("note", "备注")

    class Meta(SafeResource.Meta):
        model = Disbursement
        fields = [
            "project",
            "project_title",
            "organization",
            "amount",
            "purpose",
            "voucher_number",
            "voucher_date",
            "method",
            "payee_name",
            "payee_bank",
            "payee_account",
            "bank_serial",
            "paid_on",
            "reverses",
            "note",
        ]


class InvoiceResource(SafeResource):
    project = column("project__code", "项目编号")
    organization = column("project__organization__name", "申报组织")
    kind = column("kind", "票据种类", ChoiceWidget(Invoice.Kind.choices))
    code = column("code", "发票代码")
    number = column("number", "发票号码")
    issue_date = column("issue_date", "开票日期", DateWidget("开票日期"))
    seller_name = column("seller_name", "销售方名称")
    seller_tax_id = column("seller_tax_id", "销售方纳税人识别号")
    buyer_name = column("buyer_name", "购买方名称(抬头)")
    amount = column("amount", "金额", MoneyWidget("金额"))
    tax = column("tax", "税额", MoneyWidget("税额"))
    total = column("total", "价税合计", MoneyWidget("价税合计"))
    check_status = column("check_status", "审核结果", ChoiceWidget(Invoice.CheckStatus.choices))
    check_reason = column("check_reason", "不合格原因")

    class Meta(SafeResource.Meta):
        model = Invoice
        fields = [
            "project",
            "organization",
            "kind",
            "code",
            "number",
            "issue_date",
            "seller_name",
            "seller_tax_id",
            "buyer_name",
            "amount",
            "tax",
            "total",
            "check_status",
            "check_reason",
        ]
