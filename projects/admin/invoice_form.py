"""The invoice form of the admin: typed fields, the scanner and file capture, money through
the one parser."""

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError

from projects.admin import capture
from projects.models.money import Invoice
from projects.services.invoices import (
    INVOICE_FIELDS,
    invoice_duplicates,
    invoice_validate,
)

INVOICE_DATA_FIELDS = ["project", *INVOICE_FIELDS]
CHECK_FIELDS = ["check_status", "check_reason"]
# The amounts are read by the one money parser (1,000.00 yes; 1e3, +100, 12.345 no; a minus
# for a 红字发票).
MONEY_FIELDS = {"amount": ("金额", True), "tax": ("税额", True), "total": ("价税合计", False)}


CAPTURE_FIELDS = ["capture_payload", "capture_file", "capture_token"]
CAPTURE_ACCEPT = ".xml,.ofd,.pdf,.png,.jpg,.jpeg,.zip"
TAKE_CAPTURED = "_take_captured"


class InvoiceForm(forms.ModelForm):
    """Validation only (the row itself and the one-claim rule); saving is the service's.

    On the add page it also takes the invoice as captured (issue 12): the scanner's payload
    or an e-file, read again here whatever the page's script filled in. Typed values that
    differ from the capture are refused field by field until the user takes the captured
    values (one button) or corrects them.
    """

    capture_payload = forms.CharField(
        label="扫码录入",
        required=False,
        max_length=600,
        help_text="用扫码枪扫描发票上的二维码(或粘贴二维码内容)后按回车,下列各项自动填入,核对后保存。",
        widget=forms.TextInput(
            attrs={"data-capture-payload": "", "autocomplete": "off", "class": "vLargeTextField"}
        ),
    )
    capture_file = forms.FileField(
        label="发票文件",
        required=False,
        help_text="数电发票 XML、OFD、PDF、发票图片(PNG/JPG)或税务平台下载的 zip;"
        "原文件原样保存在发票旁,并记录其 SHA-256。",
        widget=forms.FileInput(attrs={"data-capture-file": "", "accept": CAPTURE_ACCEPT}),
    )
    capture_token = forms.CharField(
        required=False, widget=forms.HiddenInput(attrs={"data-capture-token": ""})
    )

    class Meta:
        model = Invoice
        fields = [*INVOICE_DATA_FIELDS, *CHECK_FIELDS]
        widgets = {"item_names": forms.Textarea(attrs={"rows": 2, "cols": 60})}

    captured = None
    offer_take = False
    suggestion = None

    def _read_capture(self, data):
        """The Captured invoice of this submission (None if nothing was captured)."""
        request = getattr(self, "request", None)
        upload = data.get("capture_file")
        token = data.get("capture_token") or ""
        payload = (data.get("capture_payload") or "").strip()
        try:
            if upload:
                captured = capture.capture_file(upload.read(), upload.name)
                captured.token = capture.stash(request, captured.original) if request else ""
                self.data = self.data.copy()
                self.data["capture_token"] = captured.token
                return captured
            if token:
                original = capture.unstash(request, token) if request else None
                if original is None:
                    self.add_error(None, "读取的发票文件已过期,请重新选择文件。")
                    return None
                captured = capture.capture_file(original.content, original.name)
                captured.token = token
                return captured
            if payload:
                return capture.capture_payload(payload)
        except ValidationError as exc:
            field = "capture_file" if upload or token else "capture_payload"
            for message in exc.messages:
                self.add_error(field, message)
        return None

    def _take(self, data, captured):
        """The user chose the captured values: they replace what was typed."""
        for name, value in captured.form_values().items():
            if name not in self.fields or value in (None, ""):
                continue
            data[name] = value
            self._errors.pop(name, None)

    def _field_errors(self) -> bool:
        return any(name != NON_FIELD_ERRORS for name in self._errors)

    def clean(self):
        data = super().clean()
        project = data.get("project") or getattr(self.instance, "project", None)
        user = getattr(self, "request_user", None)
        if self.instance.pk is None and "capture_token" in self.fields:
            captured = self._read_capture(data)
            if captured is not None:
                self.captured = captured
                self.suggestion = capture.suggestion_for(project, captured.items)
                if TAKE_CAPTURED in self.data:
                    self._take(data, captured)
                else:
                    typed = {name: data.get(name) for name in capture.FORM_FIELDS}
                    found = capture.differences(captured, typed)
                    if found:
                        self.offer_take = True
                        self.add_error(
                            None, f"录入的内容与{captured.label}不一致,请核对或采用文件中的数值:"
                        )
                        for message in found:
                            self.add_error(None, message)
                    elif any(
                        name in self._errors and value not in (None, "")
                        for name, value in captured.form_values().items()
                    ):
                        self.offer_take = True
                        self.add_error(
                            None,
                            f"已读取{captured.label}中的发票,请点击“采用文件中的数值”填入后核对。",
                        )
        if project is None or "number" not in self.fields or user is None:
            return data
        # The service's checks repeat the fields' own (a blank or malformed amount): run them
        # once the fields are valid, so that each error is shown once, beside its field.
        if "code" in self.fields and not self.fields["code"].disabled and not self._field_errors():
            budget_lines = {line.pk: line for line in project.budget_lines.all()}
            clean = invoice_validate(
                {**data, "budget_line": data.get("budget_line")}, budget_lines=budget_lines
            )
            for message in clean.errors:
                self.add_error(None, message)
            if not clean.errors:
                duplicate = invoice_duplicates(
                    identities=[clean.identity], actor=user, exclude_pk=self.instance.pk
                )
                if duplicate:
                    self.add_error("number", duplicate[clean.identity])
        return data
