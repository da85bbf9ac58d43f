"""The project resource: export of the project list, and import of past years' finished
records through projects.services.historical_import (nothing else writes them)."""

from __future__ import annotations

from django.core.exceptions import ValidationError

from accounts.models import Organization, User
from projects.exchange.resources import SafeResource
from projects.exchange.widgets import (
    ChoiceWidget,
    DateWidget,
    MoneyWidget,
    NumberWidget,
    ScopedForeignKeyWidget,
    YesNoWidget,
    column,
)
from projects.models import Project, State
from projects.models.choices import AllowedUse, Category, Grade, Origin, Term
from projects.services.historical_import import (
    HISTORICAL_STATES,
    historical_project_create,
    historical_project_errors,
)


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
    start_date = column("start_date", "开始日期", DateWidget("开始日期"))
    end_date = column("end_date", "结束日期", DateWidget("结束日期"))
    proposed_grade = column("proposed_grade", "申报等级", ChoiceWidget(Grade.choices))
    grade = column("grade", "核定等级", ChoiceWidget(Grade.choices))
    requested_amount = column("requested_amount", "申请金额", MoneyWidget("申请金额"))
    approved_amount = column("approved_amount", "核定金额", MoneyWidget("核定金额"))
    settlement_amount = column("settlement_amount", "结算金额", MoneyWidget("结算金额"))
    loss_amount = column("loss_amount", "票据不合格损失", MoneyWidget("票据不合格损失"))
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
        for message in historical_project_errors(instance):
            errors.setdefault("__all__", []).append(message)
        if errors:
            raise ValidationError(errors)

    def validate_instance(self, instance, import_validation_errors=None, validate_unique=True):
        # full_clean() would re-assign the protected FSM state field: leave it out.
        errors = dict(import_validation_errors or {})
        try:
            # A row without a code gets the next number of its year when it is saved.
            exclude = [*errors, "state", *([] if instance.code else ["code"])]
            instance.full_clean(exclude=exclude, validate_unique=validate_unique)
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
