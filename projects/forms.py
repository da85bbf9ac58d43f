"""The form behind each transition button: every step is a signed, dated decision with at
least an opinion (DESIGN.md §3). Areas register their forms with @transition_form."""

from decimal import Decimal

from django import forms
from django.contrib.admin.widgets import AdminDateWidget
from django.core.exceptions import ValidationError

from projects.dates import parse_date, parse_month
from projects.models.choices import CHECKLIST, AcceptanceConclusion, Grade
from projects.money import format_cny

DATE_PLACEHOLDER = "例:2026-12-10 或 2026年12月10日"


class DateWidget(AdminDateWidget):
    """A date box with an example in it and the admin's calendar; on a phone the page's
    script (static/dangfei/forms.js) turns it into the phone's own date picker."""

    def __init__(self, attrs=None, format=None):
        attrs = {
            "placeholder": DATE_PLACEHOLDER,
            "data-date-input": "",
            "autocomplete": "off",
            "size": 24,
            **(attrs or {}),
        }
        super().__init__(attrs=attrs, format=format or "%Y-%m-%d")


class DateField(forms.DateField):
    """Dates as people write them, through the one parser (projects/dates.parse_date):
    2026年12月10日, 2026-12-10, 2026/12/10, 2026.12.10, 20261210."""

    widget = DateWidget

    def to_python(self, value):
        if value in self.empty_values:
            return None
        return parse_date(value, str(self.label or "日期"))

    def strptime(self, value, format):  # never reached: to_python parses
        return parse_date(value, str(self.label or "日期"))


class MonthWidget(forms.DateInput):
    """The browser's month picker (<input type="month">, value "YYYY-MM"); where a browser
    has none, a text box that reads 2026-09 or 2026年9月 (projects.dates.parse_month)."""

    input_type = "month"

    def __init__(self, attrs=None):
        super().__init__(attrs={"placeholder": "例:2026-09", **(attrs or {})}, format="%Y-%m")

    def format_value(self, value):
        if isinstance(value, str):
            try:
                value = parse_month(value)
            except ValidationError:
                return value
        return super().format_value(value)


class MonthField(forms.DateField):
    """A report month, stored as its first day."""

    widget = MonthWidget

    def to_python(self, value):
        if value in self.empty_values:
            return None
        return parse_month(value, str(self.label or "月份"))

    def strptime(self, value, format):  # never reached: to_python parses
        return parse_month(value, str(self.label or "月份"))


# transition name -> form class; filled below and by the area modules.
TRANSITION_FORMS: dict[str, type["TransitionForm"]] = {}


def transition_form(*names: str):
    """Class decorator: use this form for the named transitions."""

    def register(cls):
        for name in names:
            TRANSITION_FORMS[name] = cls
        return cls

    return register


class TransitionForm(forms.Form):
    """Base: the opinion, and the state the user saw (a stale or doubled post is refused)."""

    opinion_required = True
    opinion_label = "意见"

    expected_state = forms.CharField(widget=forms.HiddenInput)
    opinion = forms.CharField(label="意见", widget=forms.Textarea(attrs={"rows": 4}))

    def __init__(self, *args, project=None, actor=None, transition=None, **kwargs):
        self.project = project
        self.actor = actor
        self.transition = transition
        initial = {
            "expected_state": project.state if project is not None else "",
            **kwargs.pop("initial", {}),
        }
        super().__init__(*args, initial=initial, **kwargs)
        self.fields["opinion"].required = self.opinion_required
        self.fields["opinion"].label = self.opinion_label

    def _post_clean(self):
        # The hidden state is not drawn beside a field: a post without it (a form saved from
        # an old page, a hand-made request) would show no error at all. Say it once, above.
        super()._post_clean()
        if self._errors.pop("expected_state", None):
            self.add_error(None, "页面已过期或不完整,请重新打开项目页后再操作。")

    def decision(self) -> dict:
        """Keyword arguments for services.apply_transition (besides actor)."""
        return dict(self.cleaned_data)


def form_for(name: str) -> type[TransitionForm]:
    return TRANSITION_FORMS.get(name, TransitionForm)


# --- the forms of the application and running transitions (DESIGN.md §3) -------------------

CHECKLIST_CHOICES = [("yes", "符合"), ("no", "不符合")]


def _checklist_field(label: str) -> forms.TypedChoiceField:
    return forms.TypedChoiceField(
        label=label,
        choices=CHECKLIST_CHOICES,
        coerce=lambda value: value == "yes",
        widget=forms.RadioSelect,
        error_messages={"required": "请对这一项作出判断。"},
    )


class ChecklistForm(TransitionForm):
    """二(二): every reviewer answers the six approval conditions."""

    checklist_fields = [name for name, _ in CHECKLIST]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, label in CHECKLIST:
            self.fields[name] = _checklist_field(label)
        # The opinion comes last, after the checklist it sums up.
        self.order_fields([*self.checklist_fields, "opinion"])


@transition_form("submit")
class SubmitForm(TransitionForm):
    opinion_required = False
    opinion_label = "附言(可不填)"


@transition_form("withdraw")
class WithdrawForm(TransitionForm):
    opinion_label = "撤回理由"


@transition_form("org_approve")
class OrgApproveForm(ChecklistForm):
    # 三(二)2: 项目部初审, 经负责人签字.
    opinion_label = "初审意见"


@transition_form("org_return")
class OrgReturnForm(ChecklistForm):
    # 三(二)2: 项目部有权向项目申请人提出质疑.
    opinion_label = "质疑意见(需修改之处)"


@transition_form("org_reject")
class OrgRejectForm(ChecklistForm):
    opinion_label = "不通过的理由"


@transition_form("approve")
class ApproveForm(ChecklistForm):
    """复审: decides the grade and the approved amount (二(三))."""

    opinion_label = "复审意见"

    grade = forms.TypedChoiceField(label="核定等级", choices=Grade.choices, coerce=int)
    approved_amount = forms.DecimalField(
        label="核定金额(元)",
        max_digits=14,
        decimal_places=2,
        min_value=Decimal("0"),
        error_messages={
            "invalid": "请输入数字金额,例如 3000.00。",
            "min_value": "核定金额不能为负数。",
            "max_decimal_places": "金额最多保留两位小数。",
        },
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        project = self.project
        if project is not None and not self.is_bound:
            self.initial.setdefault("grade", project.proposed_grade)
            self.initial.setdefault("approved_amount", project.requested_amount)
        self.order_fields(["grade", "approved_amount", *self.checklist_fields, "opinion"])

    def clean(self):
        cleaned = super().clean()
        grade, amount = cleaned.get("grade"), cleaned.get("approved_amount")
        if self.project is None or grade is None or amount is None:
            return cleaned
        # A friendly early answer; the service re-checks under the pool lock.
        for message in self.project.approval_errors(grade, amount, self.project.policy()):
            self.add_error(None, message)
        return cleaned

    def help_rows(self) -> list[tuple[str, str]]:
        """What the leadership member needs beside the form: request, caps, pool."""
        project = self.project
        policy = project.policy()
        rows = [("申请金额", format_cny(project.requested_amount))]
        if policy is None:
            return [*rows, ("年度经费政策", f"{project.year}年度尚未设定")]
        rows += [(Grade(g).label + "上限", format_cny(policy.cap_for(g))) for g in (1, 2, 3)]
        rows.append(("年度经费剩余", format_cny(policy.remaining(excluding=project))))
        return rows


@transition_form("leadership_return")
class LeadershipReturnForm(ChecklistForm):
    opinion_label = "退回意见(需修改之处)"


@transition_form("reject")
class RejectForm(ChecklistForm):
    opinion_label = "不通过的理由"


@transition_form("start")
class StartForm(TransitionForm):
    opinion_required = False
    opinion_label = "说明(可不填)"


@transition_form("finish")
class FinishForm(TransitionForm):
    # 三(一)5: 总结报告经项目部审核.
    opinion_label = "项目部审核意见"


@transition_form("rectify")
class RectifyForm(TransitionForm):
    opinion_label = "整改意见"


@transition_form("accept")
class AcceptForm(TransitionForm):
    opinion_label = "验收意见"

    conclusion = forms.ChoiceField(
        label="验收结论",
        choices=[
            (AcceptanceConclusion.EXCELLENT.value, AcceptanceConclusion.EXCELLENT.label),
            (AcceptanceConclusion.PASS.value, AcceptanceConclusion.PASS.label),
        ],
        widget=forms.RadioSelect,
        help_text="验收不合格请使用“整改”。",
    )


@transition_form("close")
class CloseForm(TransitionForm):
    opinion_required = False
    opinion_label = "归档说明(可不填)"

    is_commended = forms.BooleanField(label="评为优秀项目(予以表扬和宣传)", required=False)


@transition_form("terminate")
class TerminateForm(TransitionForm):
    opinion_label = "终止理由"
