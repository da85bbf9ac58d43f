"""Forms of the money side (三(四)): the final accounts with the request for settlement,
leadership's payable limit, finance's payment record (settle, a corrected payment) and the
reversal. Every amount goes through projects.money.parse_money (forms_fields.MoneyField)."""

from django import forms
from django.utils import timezone

from projects.forms import DateWidget, TransitionForm, transition_form
from projects.forms_fields import DateField, MoneyField
from projects.models.money import Disbursement
from projects.money import ZERO, format_cny, normalise_text
from projects.services.disbursements import PAYMENT_FIELDS, payee_defaults
from projects.services.final_accounts import final_accounts_get


@transition_form("request_settlement")
class RequestSettlementForm(TransitionForm):
    """决算清单: the actual spend of every budget line, saved with the request."""

    opinion_required = False
    opinion_label = "申请说明"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.accounts = final_accounts_get(project=self.project) if self.project else None
        for row in self.accounts.rows if self.accounts else []:
            self.fields[f"actual_{row.line.pk}"] = MoneyField(
                f"实际支出:{row.line}",
                help_text=(
                    f"预算 {format_cny(row.budgeted)},发票 {format_cny(row.invoiced)},"
                    f"其中合格 {format_cny(row.qualified)}"
                ),
                initial=row.actual,
            )

    def decision(self) -> dict:
        data = dict(self.cleaned_data)
        data["actual_amounts"] = {
            int(name.removeprefix("actual_")): data.pop(name)
            for name in list(data)
            if name.startswith("actual_")
        }
        return data


@transition_form("approve_payment")
class ApprovePaymentForm(TransitionForm):
    opinion_label = "审批意见"

    payable_limit = MoneyField("批准拨付限额", allow_zero=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.project is None:
            return
        approved = self.project.approved_amount or ZERO
        claimed = self.project.claimed_total()
        field = self.fields["payable_limit"]
        field.initial = min(approved, claimed)
        field.help_text = (
            f"不得超过核定金额 {format_cny(approved)},"
            f"也不得超过发票申报合计 {format_cny(claimed)}。"
        )


class PaymentForm(forms.Form):
    """The voucher and the payee of a payment: the one field list (PAYMENT_FIELDS)."""

    voucher_number = forms.CharField(label="支付凭证号", max_length=40)
    voucher_date = DateField("凭证日期", widget=DateWidget())
    payment_method = forms.ChoiceField(label="支付方式", choices=Disbursement.Method.choices)
    payee_name = forms.CharField(label="收款人", max_length=200)
    payee_bank = forms.CharField(label="开户银行", max_length=100)
    payee_account = forms.CharField(label="银行账号", max_length=40)
    bank_serial = forms.CharField(label="银行流水号", max_length=60, required=False)
    paid_on = DateField("实际支付日期", required=False, widget=DateWidget())

    def set_payee_defaults(self, project) -> None:
        for name, value in {
            **payee_defaults(project),
            "voucher_date": timezone.localdate(),
        }.items():
            self.fields[name].initial = value

    def clean_voucher_number(self) -> str:
        number = normalise_text(self.cleaned_data["voucher_number"]).upper()
        if Disbursement.objects.filter(voucher_number=number).exists():
            raise forms.ValidationError("该支付凭证号已被使用,凭证号不能重复。")
        return number


@transition_form("settle")
class SettleForm(TransitionForm, PaymentForm):
    """The payment voucher; the payee defaults to the organisation's own account (拨付)."""

    opinion_required = False
    opinion_label = "备注"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.project is None:
            return
        self.set_payee_defaults(self.project)

    def settlement_figures(self) -> list[tuple[str, str, str]]:
        """The box at the top of the settle form: (label, amount, note) rows; 结算金额 is
        the smaller of the qualified invoices and the approved limit (三(四))."""
        if self.project is None:
            return []
        qualified, unqualified = self.project.invoice_totals()
        limit = self.project.payable_limit or ZERO
        return [
            ("合格发票合计", format_cny(qualified), "财务审核为合格的票据"),
            ("批准拨付限额", format_cny(limit), "领导审批拨付时批准"),
            ("结算金额", format_cny(min(qualified, limit)), "取以上两者中较小者,即本次拨付金额"),
            ("票据不合格损失", format_cny(unqualified), "不合格票据金额,由项目部自行承担"),
        ]


class RecordForm(PaymentForm):
    """补录拨付: a corrected payment after a reversal, within the settlement amount."""

    amount = MoneyField("拨付金额", allow_zero=False)
    purpose = forms.CharField(label="用途", max_length=200, required=False)
    field_order = ["amount", "purpose", *PAYMENT_FIELDS]


class ReverseForm(forms.Form):
    """红字冲销 of one payment: a new voucher and the reason."""

    voucher_number = forms.CharField(label="冲销凭证号", max_length=40)
    voucher_date = DateField("凭证日期", initial=timezone.localdate)
    reason = forms.CharField(label="冲销原因", max_length=200, widget=forms.Textarea({"rows": 3}))


class RecheckForm(forms.Form):
    """改判 of an invoice's check: the new conclusion and the required reason."""

    conclusion = forms.TypedChoiceField(
        label="改判为",
        choices=[("qualified", "合格"), ("unqualified", "不合格")],
        coerce=lambda value: value == "qualified",
        widget=forms.RadioSelect,
    )
    reason = forms.CharField(label="改判理由", max_length=200, widget=forms.Textarea({"rows": 3}))
