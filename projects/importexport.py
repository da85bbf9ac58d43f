"""Excel in and out (DESIGN.md §6): safe django-import-export resources and a streaming export.

django-import-export 4.4.3 has traps this module closes (issue 6):
- the import resolves rows through its own queryset, not the admin's get_queryset, so a
  scoped user could overwrite another organisation's row by naming its key: every lookup
  here goes through `Model.objects.visible_to(user)`, and a key that exists outside the
  user's scope is an error on that row, never an update;
- numbers and dates would be written to xlsx as text: every widget uses
  coerce_to_string=False, and the streaming writer keeps Decimal/date cells typed;
- its formula escaping strips only a leading "=": text cells starting with = + - @ tab or
  CR are neutralised by prefixing an apostrophe (and restored on import, so a round trip
  gives back the same text);
- an import commits valid rows beside invalid ones unless rollback_on_validation_errors is
  passed: the admin mixins always pass it (all-or-nothing).

Historical projects (earlier years' spreadsheets) enter only as finished records (closed,
rejected, withdrawn or terminated) of a past year, through `historical_project_create`: one
atomic service that inserts the project and its one history row (transition "import", signed
by the importing user) through services.append_history, so verify_history holds for them and
nothing bypasses the chain. An import never changes an existing project: an unchanged row
is skipped (so re-importing an export is a no-op), a changed one is refused.

Disbursements and invoices are export-only here: disbursements are written only by the
`settle` transition (append-only ledger, disbursed ≤ settlement ≤ approved); a second code
path that writes money rows from a spreadsheet would bypass that invariant. Invoice import
belongs to projects/services/invoice_imports.py (issue 5).
"""

from __future__ import annotations

import datetime
import os
import tempfile
from collections.abc import Iterable, Iterator
from decimal import Decimal, InvalidOperation

from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Sum
from django.http import FileResponse
from django.utils import timezone
from import_export import fields, resources, widgets

from accounts.models import Organization, User
from accounts.roles import GLOBAL_ROLES, Role, sees_everything
from projects.models import Disbursement, Invoice, Project, State
from projects.models.choices import FINAL_STATES, AllowedUse, Category, Grade, Origin, Term
from projects.money import ZERO, to_money

# Characters that make a spreadsheet treat a text cell as a formula (CSV/formula injection).
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def neutralise(value):
    """Text that a spreadsheet would run as a formula is prefixed with an apostrophe."""
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


def restore(value):
    """Undo `neutralise` on import, so that export → import gives back the same text."""
    if isinstance(value, str) and value.startswith("'") and value[1:2] in FORMULA_TRIGGERS:
        return value[1:]
    return value


# --- widgets --------------------------------------------------------------------------------


class MoneyWidget(widgets.DecimalWidget):
    """Decimal with 2 places; a cell stays a number in xlsx (coerce_to_string=False)."""

    def __init__(self, **kwargs):
        super().__init__(coerce_to_string=False, **kwargs)

    def clean(self, value, row=None, **kwargs):
        if self.is_empty(value):
            return None
        if isinstance(value, float):
            # openpyxl reads numeric cells as float; its shortest repr is the typed value.
            value = repr(value)
        try:
            return to_money(Decimal(str(value).replace(",", "").replace("¥", "").strip()))
        except (InvalidOperation, ValueError) as exc:
            raise ValueError(f"“{value}”不是有效的金额。") from exc

    def render(self, value, obj=None, **kwargs):
        return None if value is None else to_money(value)


class NumberWidget(widgets.IntegerWidget):
    def __init__(self, **kwargs):
        super().__init__(coerce_to_string=False, **kwargs)

    def clean(self, value, row=None, **kwargs):
        try:
            return super().clean(value, row, **kwargs)
        except (InvalidOperation, ValueError) as exc:
            raise ValueError(f"“{value}”不是有效的整数。") from exc


class DateWidget(widgets.DateWidget):
    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", coerce_to_string=False, **kwargs)

    def clean(self, value, row=None, **kwargs):
        if isinstance(value, datetime.datetime):
            return value.date()  # openpyxl reads date cells as datetimes
        try:
            return super().clean(value, row, **kwargs)
        except ValueError as exc:
            raise ValueError(f"“{value}”不是有效的日期(应为 2026-03-01 格式)。") from exc


class YesNoWidget(widgets.BooleanWidget):
    TRUE = ("是", "1", "true", "True", "TRUE", True, 1)
    FALSE = ("否", "0", "false", "False", "FALSE", False, 0, "")

    def clean(self, value, row=None, **kwargs):
        if value is None or value in self.FALSE:
            return False
        if value in self.TRUE:
            return True
        raise ValueError(f"“{value}”应为“是”或“否”。")

    def render(self, value, obj=None, **kwargs):
        return "是" if value else "否"


class ChoiceWidget(widgets.Widget):
    """A code list cell: the Chinese label on export; label or stored value on import."""

    def __init__(self, choices, **kwargs):
        super().__init__(coerce_to_string=False, **kwargs)
        self.labels = {value: str(label) for value, label in choices}
        self.values = {label: value for value, label in self.labels.items()}
        self.values.update({str(value): value for value in self.labels})
        self.empty = None if any(isinstance(v, int) for v in self.labels) else ""

    def clean(self, value, row=None, **kwargs):
        if value in (None, ""):
            return self.empty
        key = str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)
        key = key.strip()
        if key not in self.values:
            raise ValueError(f"“{value}”不在可选值中({'、'.join(self.labels.values())})。")
        return self.values[key]

    def render(self, value, obj=None, **kwargs):
        if value in (None, ""):
            return ""
        return self.labels.get(value, str(value))


class ScopedForeignKeyWidget(widgets.ForeignKeyWidget):
    """Looks the related row up only among the rows the importing user may see."""

    user = None

    def get_queryset(self, value, row, *args, **kwargs):
        return self.model._default_manager.visible_to(self.user)

    def clean(self, value, row=None, **kwargs):
        try:
            return super().clean(value, row, **kwargs)
        except self.model.DoesNotExist as exc:
            raise ValueError(
                f"找不到“{value}”({self.model._meta.verbose_name}),或不在您的管理范围内。"
            ) from exc

    def render(self, value, obj=None, **kwargs):
        if value is None:
            return ""
        return neutralise(getattr(value, self.field, ""))


def column(attribute: str, header: str, widget=None, **kwargs) -> fields.Field:
    return fields.Field(attribute=attribute, column_name=header, widget=widget, **kwargs)


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

    def before_import_row(self, row, **kwargs):
        for key, value in list(row.items()):
            value = restore(value)
            row[key] = value.strip() if isinstance(value, str) else value

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


ROLE_BY_NAME = {**{r.value: r.value for r in Role}, **{str(r.label): r.value for r in Role}}


class RolesWidget(widgets.Widget):
    """Roles as Chinese labels (or group codes), separated by 、 or commas."""

    def __init__(self, **kwargs):
        super().__init__(coerce_to_string=False, **kwargs)

    def clean(self, value, row=None, **kwargs):
        names = []
        for part in str(value or "").replace(",", "、").replace(",", "、").split("、"):
            part = part.strip()
            if not part:
                continue
            if part not in ROLE_BY_NAME:
                labels = "、".join(str(r.label) for r in Role)
                raise ValueError(f"未知角色“{part}”(可选:{labels})。")
            names.append(ROLE_BY_NAME[part])
        return sorted(set(names))

    def render(self, value, obj=None, **kwargs):
        names = set(value or [])
        return "、".join(str(r.label) for r in Role if r.value in names)


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


# --- projects -------------------------------------------------------------------------------

HISTORICAL_STATES = FINAL_STATES


class ProjectResource(SafeResource):
    code = column("code", "项目编号")
    year = column("year", "年度", NumberWidget())
    title = column("title", "项目名称")
    organization = column("organization", "申报组织", ScopedForeignKeyWidget(Organization, "name"))
    leader = column("leader", "项目负责人(用户名)", ScopedForeignKeyWidget(User, "username"))
    category = column("category", "立项支持类型", ChoiceWidget(Category.choices))
    allowed_use = column("allowed_use", "党费使用范围", ChoiceWidget(AllowedUse.choices))
    origin = column("origin", "项目来源", ChoiceWidget(Origin.choices))
    term = column("term", "项目周期", ChoiceWidget(Term.choices))
    start_date = column("start_date", "开始日期", DateWidget())
    end_date = column("end_date", "结束日期", DateWidget())
    proposed_grade = column("proposed_grade", "申报等级", ChoiceWidget(Grade.choices))
    grade = column("grade", "核定等级", ChoiceWidget(Grade.choices))
    requested_amount = column("requested_amount", "申请金额", MoneyWidget())
    approved_amount = column("approved_amount", "核定金额", MoneyWidget())
    settlement_amount = column("settlement_amount", "结算金额", MoneyWidget())
    loss_amount = column("loss_amount", "票据不合格损失", MoneyWidget())
    state = column("state", "状态", ChoiceWidget(State.choices), readonly=True)
    is_commended = column("is_commended", "优秀项目", YesNoWidget())
    purpose = column("purpose", "活动目的")
    content = column("content", "活动内容")

    class Meta(SafeResource.Meta):
        model = Project
        import_id_fields = ["code"]
        fields = [
            "code",
            "year",
            "title",
            "organization",
            "leader",
            "category",
            "allowed_use",
            "origin",
            "term",
            "start_date",
            "end_date",
            "proposed_grade",
            "grade",
            "requested_amount",
            "approved_amount",
            "settlement_amount",
            "loss_amount",
            "state",
            "is_commended",
            "purpose",
            "content",
        ]

    def before_import_row(self, row, **kwargs):
        super().before_import_row(row, **kwargs)
        if self.scoped:
            row["申报组织"] = self.user.organization.name

    def init_instance(self, row=None):
        # The state field is protected (django-fsm): a historical record gets its final
        # state when it is built, never by assignment afterwards.
        try:
            state = self.fields["state"].widget.clean((row or {}).get("状态"))
        except ValueError as exc:
            raise ValidationError({"state": [str(exc)]}) from exc
        if state not in HISTORICAL_STATES:
            labels = "、".join(str(State(s).label) for s in sorted(HISTORICAL_STATES))
            raise ValidationError(
                {
                    "state": [
                        f"往年项目只能以已办结的状态导入({labels});进行中的项目请在系统中申报。"
                    ]
                }
            )
        return Project(state=state)

    def import_instance(self, instance, row, **kwargs):
        if instance.pk is not None:
            return self._compare_existing(instance, row)
        errors = {}
        try:
            super().import_instance(instance, row, **kwargs)
        except ValidationError as exc:
            errors = exc.update_error_dict(errors)
        if not instance.code and instance.year:
            instance.code = "(导入时分配)"
        for message in historical_project_errors(instance):
            errors.setdefault("__all__", []).append(message)
        if errors:
            raise ValidationError(errors)

    def validate_instance(self, instance, import_validation_errors=None, validate_unique=True):
        # full_clean() would re-assign the protected FSM state field: leave it out.
        errors = dict(import_validation_errors or {})
        try:
            instance.full_clean(exclude=[*errors, "state"], validate_unique=validate_unique)
        except ValidationError as exc:
            errors = exc.update_error_dict(errors)
        if errors:
            raise ValidationError(errors)

    def _compare_existing(self, instance, row) -> None:
        for field in self.get_import_fields():
            if field.column_name not in row or field.attribute is None:
                continue
            try:
                new = field.clean(row)
            except ValueError:
                new = row[field.column_name]
            old = getattr(instance, field.attribute)
            if (new in (None, "") and old in (None, "")) or new == old:
                continue
            raise ValidationError(
                f"项目 {instance.code} 已存在:导入不修改已有项目(“{field.column_name}”不同)。"
            )
        instance._unchanged = True

    def skip_row(self, instance, original, row, import_validation_errors=None):
        return getattr(instance, "_unchanged", False)

    def save_instance(self, instance, is_create, row, **kwargs):
        if is_create:
            historical_project_create(instance, actor=self.user, source=kwargs.get("file_name"))

    def export_columns(self):
        paths = {"organization": "organization__name", "leader": "leader__username"}
        return [(h, paths.get(p, p), w) for h, p, w in super().export_columns()]


def historical_project_errors(project: Project) -> list[str]:
    """What a past year's finished record must satisfy before it enters the books."""
    errors = []
    this_year = timezone.localdate().year
    if project.year and project.year >= this_year:
        errors.append(f"只能导入往年({this_year}年以前)的项目;本年度项目请在系统中申报。")
    if project.leader_id and project.organization_id:
        if project.leader.organization_id != project.organization_id:
            errors.append("项目负责人不属于该申报组织。")
    approved = project.approved_amount
    settled = project.settlement_amount
    if project.grade == Grade.GRADE_4 and (approved or ZERO) != 0:
        errors.append("四级拨款项目不予资金支持,核定金额必须为 0。")
    if settled is not None and (approved is None or settled > approved):
        errors.append("结算金额不能超过核定金额。")
    if project.state == State.CLOSED and approved is None:
        errors.append("已结项归档的项目须有核定等级和核定金额。")
    if project.state == State.CLOSED and (approved or ZERO) > 0 and settled is None:
        errors.append("核定金额不为零的已归档项目须有结算金额。")
    for value in (project.requested_amount, approved, settled, project.loss_amount):
        if value is not None and value < 0:
            errors.append("金额不能为负数。")
            break
    return errors


def historical_project_create(project: Project, *, actor, source: str | None = None) -> Project:
    """Insert one past year's finished project and its signed 'import' history row, atomically.

    The project holds in its year's pool what it settled (closed) or nothing (rejected,
    withdrawn, terminated), as if it had run through the transitions.
    """
    errors = historical_project_errors(project)
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        from projects.services.projects import (
            project_code,
            project_number_reserve,
            project_number_take,
        )

        if not project.code or project.code == "(导入时分配)":
            project.number = project_number_take(project.year)
            project.code = project_code(project.year, project.number)
        else:
            project.number = int(project.code.split("-")[1])
            project_number_reserve(project.year, project.number)
        project.requested_amount = project.requested_amount or ZERO
        project.committed_amount = (
            project.settlement_amount or ZERO if project.state == State.CLOSED else ZERO
        )
        if project.state == State.CLOSED:
            project.closed_at = timezone.now()
        project.save(force_insert=True)
        locked = Project.objects.select_for_update().get(pk=project.pk)
        from projects.services import events

        events.record(
            project=locked,
            actor=actor,
            action="import",
            from_state="",
            opinion=f"从往年台账导入{f'({source})' if source else ''}",
            data={
                "grade": project.grade,
                "approved_amount": _str_or_none(project.approved_amount),
                "settlement_amount": _str_or_none(project.settlement_amount),
                "loss_amount": _str_or_none(project.loss_amount),
            },
        )
    return project


def _str_or_none(value):
    return None if value is None else str(value)


# --- money records (export only) ------------------------------------------------------------


class DisbursementResource(SafeResource):
    project = column("project__code", "项目编号")
    project_title = column("project__title", "项目名称")
    organization = column("project__organization__name", "申报组织")
    amount = column("amount", "金额", MoneyWidget())
    purpose = column("purpose", "用途")
    voucher_number = column("voucher_number", "支付凭证号")
    voucher_date = column("voucher_date", "凭证日期", DateWidget())
    method = column("method", "支付方式", ChoiceWidget(Disbursement.Method.choices))
    payee_name = column("payee_name", "收款人")
    payee_bank = column("payee_bank", "开户银行")
    payee_account = column("payee_account", "银行账号")
    bank_serial = column("bank_serial", "银行流水号")
    paid_on = column("paid_on", "实际支付日期", DateWidget())
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
    issue_date = column("issue_date", "开票日期", DateWidget())
    seller_name = column("seller_name", "销售方名称")
    seller_tax_id = column("seller_tax_id", "销售方纳税人识别号")
    buyer_name = column("buyer_name", "购买方名称(抬头)")
    amount = column("amount", "金额", MoneyWidget())
    tax = column("tax", "税额", MoneyWidget())
    total = column("total", "价税合计", MoneyWidget())
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


RESOURCES = {
    "organization": OrganizationResource,
    "user": UserResource,
    "project": ProjectResource,
    "disbursement": DisbursementResource,
    "invoice": InvoiceResource,
}
IMPORTABLE = {"organization", "user", "project"}


# --- streaming xlsx -------------------------------------------------------------------------


def _cell(value, widget):
    """Typed cell value: numbers and dates stay numbers and dates; text is neutralised."""
    return _converter(widget)(value)


def _converter(widget):
    """One conversion function per column, chosen once (not per cell)."""
    if isinstance(widget, ChoiceWidget):
        labels = widget.labels
        return lambda value: "" if value in (None, "") else labels.get(value, str(value))
    if isinstance(widget, YesNoWidget):
        return lambda value: "是" if value else "否"
    if isinstance(widget, MoneyWidget | NumberWidget | DateWidget):
        return _typed
    return _text


def _typed(value):
    if isinstance(value, datetime.datetime) and timezone.is_aware(value):
        return timezone.localtime(value).replace(tzinfo=None)
    return value


def _text(value):
    if value is None or isinstance(value, Decimal | int | float | datetime.date):
        return _typed(value)
    return neutralise(str(value))


def stream_rows(resource: SafeResource, queryset, chunk_size: int = 2000) -> Iterator[tuple]:
    """Rows as typed tuples, read in chunks through values_list (memory flat in row count)."""
    columns = resource.export_columns()
    queryset = resource.export_queryset(queryset)
    if isinstance(resource, UserResource):
        # Roles are a many-to-many: prefetched per chunk (one extra query a chunk).
        yield from _user_rows(resource, queryset, columns, chunk_size)
        return
    paths = [path for _h, path, _w in columns]
    converters = [_converter(widget) for _h, _p, widget in columns]
    for values in queryset.values_list(*paths).iterator(chunk_size=chunk_size):
        yield tuple([convert(v) for convert, v in zip(converters, values, strict=True)])


def _user_rows(resource, queryset, columns, chunk_size):
    paths = [path for _h, path, _w in columns]
    widgets_ = [widget for _h, _p, widget in columns]
    role_widget = resource.fields["roles"].widget
    for user in queryset.iterator(chunk_size=chunk_size):
        row = []
        for path, widget in zip(paths, widgets_, strict=True):
            value = user
            for part in path.split("__"):
                value = getattr(value, part, None) if value is not None else None
            row.append(_cell(value, widget))
        roles = role_widget.render([g.name for g in user.groups.all()])
        row.insert(7, roles)
        yield tuple(row)


def export_headers(resource: SafeResource) -> list[str]:
    return [field.column_name for field in resource.get_export_fields()]


def write_xlsx(path: str, headers: list[str], rows: Iterable[tuple], sheet: str = "Sheet1"):
    """XlsxWriter in constant-memory mode: each row goes to disk as it is written."""
    import xlsxwriter

    workbook = xlsxwriter.Workbook(
        path, {"constant_memory": True, "strings_to_formulas": False, "strings_to_urls": False}
    )
    worksheet = workbook.add_worksheet(sheet[:31])
    bold = workbook.add_format({"bold": True})
    date_format = workbook.add_format({"num_format": "yyyy-mm-dd"})
    money_format = workbook.add_format({"num_format": "#,##0.00"})
    worksheet.write_row(0, 0, headers, bold)
    worksheet.set_column(0, len(headers) - 1, 16)
    for r, row in enumerate(rows, start=1):
        for c, value in enumerate(row):
            if value is None:
                continue
            if isinstance(value, Decimal):
                worksheet.write_number(r, c, value, money_format)
            elif isinstance(value, datetime.datetime | datetime.date):
                worksheet.write_datetime(r, c, value, date_format)
            elif isinstance(value, int | float):
                worksheet.write_number(r, c, value)
            else:
                worksheet.write_string(r, c, value)
    workbook.close()


def xlsx_response(headers, rows, filename: str, sheet: str = "Sheet1") -> FileResponse:
    """Write to a temporary file, then stream it; the file is gone once the response closes."""
    handle, path = tempfile.mkstemp(suffix=".xlsx")
    os.close(handle)
    try:
        write_xlsx(path, headers, rows, sheet)
        stream = open(path, "rb")  # noqa: SIM115 (closed by FileResponse)
    finally:
        os.unlink(path)  # POSIX: the open handle keeps the data until it is closed
    return FileResponse(
        stream, as_attachment=True, filename=filename, content_type=XLSX_CONTENT_TYPE
    )


def export_response(resource: SafeResource, queryset, filename: str) -> FileResponse:
    name = str(resource._meta.model._meta.verbose_name)
    return xlsx_response(export_headers(resource), stream_rows(resource, queryset), filename, name)


def template_response(key: str, user) -> FileResponse:
    """An empty import template: the Chinese headers of the resource's import columns."""
    resource = RESOURCES[key](user=user)
    headers = [field.column_name for field in resource.get_import_fields()]
    name = str(resource._meta.model._meta.verbose_name)
    return xlsx_response(headers, [], f"{name}导入模板.xlsx", name)


def disbursed_totals(project_ids) -> dict[int, Decimal]:
    rows = (
        Disbursement.objects.filter(project_id__in=project_ids)
        .values("project_id")
        .annotate(total=Sum("amount"))
    )
    return {row["project_id"]: to_money(row["total"]) for row in rows}
