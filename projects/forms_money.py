"""Forms of the money transitions (三(四)): the final accounts with the request for
settlement, leadership's payable limit, and finance's payment record."""

from decimal import Decimal

from django import forms
from django.utils import timezone

from projects.forms import TransitionForm, transition_form
from projects.models.money import Disbursement
from projects.money import ZERO, format_cny

MONEY_FIELD = {"max_digits": 14, "decimal_places": 2, "min_value": ZERO}


@transition_form("request_settlement")
class RequestSettlementForm(TransitionForm):
    """决算清单: the actual spend of every budget line, saved with the request."""

    opinion_required = False
    opinion_label = "申请说明"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        from projects.settlement import final_accounts

        self.accounts = final_accounts(self.project) if self.project is not None else None
        for row in self.accounts.rows if self.accounts else []:
            self.fields[f"actual_{row.line.pk}"] = forms.DecimalField(
                label=f"实际支出:{row.line}",
                help_text=(
                    f"预算 {format_cny(row.budgeted)},发票 {format_cny(row.invoiced)},"
                    f"其中合格 {format_cny(row.qualified)}"
                ),
                initial=row.actual,
                **MONEY_FIELD,
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

    payable_limit = forms.DecimalField(
        label="批准拨付限额", min_value=Decimal("0.01"), max_digits=14, decimal_places=2
    )

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


@transition_form("settle")
class SettleForm(TransitionForm):
    """The payment voucher; the payee defaults to the organisation's own account (拨付)."""

    opinion_required = False
    opinion_label = "备注"

    voucher_number = forms.CharField(label="支付凭证号", max_length=40)
    voucher_date = forms.DateField(label="凭证日期")
    payment_method = forms.ChoiceField(label="支付方式", choices=Disbursement.Method.choices)
    payee_name = forms.CharField(label="收款人", max_length=200)
    payee_bank = forms.CharField(label="开户银行", max_length=100)
    payee_account = forms.CharField(label="银行账号", max_length=40)
    bank_serial = forms.CharField(label="银行流水号", max_length=60, required=False)
    paid_on = forms.DateField(label="实际支付日期", required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.project is None:
            return
        from projects.settlement import payee_defaults

        today = timezone.localdate()
        for name, value in {**payee_defaults(self.project), "voucher_date": today}.items():
            self.fields[name].initial = value
        qualified, unqualified = self.project.invoice_totals()
        limit = self.project.payable_limit or ZERO
        self.fields["voucher_number"].help_text = (
            f"结算金额 = min(合格发票 {format_cny(qualified)},批准限额 {format_cny(limit)})"
            f" = {format_cny(min(qualified, limit))};不合格发票 {format_cny(unqualified)}"
            "由项目部自行承担。"
        )

    def clean_voucher_number(self) -> str:
        from projects.settlement import normalise_text

        number = normalise_text(self.cleaned_data["voucher_number"]).upper()
        if Disbursement.objects.filter(voucher_number=number).exists():
            raise forms.ValidationError("该支付凭证号已被使用,凭证号不能重复。")
        return number
