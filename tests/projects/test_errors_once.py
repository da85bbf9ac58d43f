"""Each error is shown once, in the right place (issue 11, finding 13): not as a message
banner and again as the form's error, not under Django's "请更正以下错误。" as a second notice,
not once more on every row of an import the missing column made fail."""

import re
from decimal import Decimal

import pytest
import tablib
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from projects.models import Invoice, ProgressReport, Project
from tests.factories import BudgetLineFactory, ProjectFactory, UserFactory
from tests.projects import fixtures_money, fixtures_running
from tests.projects.fixtures_money import add_invoices, request_and_approve, settle_decision

pytestmark = pytest.mark.django_db
accepted = fixtures_money.accepted
in_progress = fixtures_running.in_progress


def page_text(response) -> str:
    """The words a user sees on the page (no scripts, no tags)."""
    html = response.content.decode()
    body = html[html.index("<body") :]
    body = re.sub(r"<script.*?</script>", " ", body, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", body))


def shown_once(response, message: str) -> bool:
    return page_text(response).count(message) == 1


def transition(project, name):
    return reverse("admin:projects_project_transition", args=[project.pk, name])


def test_a_refused_decision_is_stated_once(client, draft, reviewer):
    # The project is still a draft: the reviewer's 初审 is refused by its state.
    client.force_login(reviewer)
    response = client.post(
        transition(draft, "org_approve"), {"opinion": "同意", "expected_state": "org_review"}
    )
    assert response.status_code == 200
    assert shown_once(response, "不能执行“初审通过,报领导小组”")


def test_an_unmet_condition_is_the_forms_error_once_tried(client, org_a, applicant, policy):
    project = ProjectFactory(organization=org_a, leader=applicant, purpose="")
    BudgetLineFactory(project=project, quantity=Decimal("1"), unit_price=Decimal("100.00"))
    client.force_login(applicant)
    url = transition(project, "submit")
    missing = "申请书各部分(负责人简介、活动目的、活动内容、活动计划、预期目标)须全部填写"
    # Before trying, the condition stands above the form...
    assert shown_once(client.get(url), f"条件未满足:{missing}")
    # ...after trying, it is the form's error: once, not also the warning above.
    response = client.post(url, {"opinion": "", "expected_state": "draft"})
    assert shown_once(response, missing)
    assert "条件未满足" not in page_text(response)
    project.refresh_from_db()
    assert project.state == "draft"


def test_settling_with_unchecked_invoices_is_refused_once(
    client, accepted, applicant, reviewer, leader, finance, advance
):
    add_invoices(accepted, applicant, Decimal("100.00"))
    project = request_and_approve(
        accepted, reviewer=reviewer, leader=leader, limit="100.00", advance=advance
    )
    client.force_login(finance)
    data = {k: str(v) for k, v in settle_decision(project).items()}
    response = client.post(
        transition(project, "settle"), {**data, "opinion": "拨付", "expected_state": "payment"}
    )
    assert response.status_code == 200
    assert shown_once(response, "还有发票未经财政科审核")
    assert Project.objects.get(pk=project.pk).state == "payment"


def test_an_invoice_field_error_is_shown_only_beside_its_field(client, accepted, applicant):
    client.force_login(applicant)
    url = reverse("admin:projects_invoice_add") + f"?project={accepted.pk}"
    response = client.post(url, {"project": accepted.pk, "number": "12345678", "amount": "abc"})
    assert response.status_code == 200
    # The field says it; the invoice rules' summary above the form does not say it again.
    assert shown_once(response, "请填写税额。")
    assert shown_once(response, "请填写价税合计。")
    assert "请填写金额。" not in page_text(response)
    assert not Invoice.objects.exists()


def test_a_refusal_of_no_field_is_the_notice_itself(client, in_progress, applicant):
    # A month outside the project's period is refused by the service's check: no field's.
    client.force_login(applicant)
    data = {"project": in_progress.pk, "month": "2001-01", "progress": "学习两次"}
    response = client.post(reverse("admin:projects_progressreport_add"), data)
    assert response.status_code == 200
    text = page_text(response)
    assert text.count("不在项目实施期") == 1
    assert "请更正以下错误" not in text
    assert not ProgressReport.objects.exists()


def test_a_field_error_keeps_the_general_notice(client, in_progress, applicant):
    client.force_login(applicant)
    data = {"project": in_progress.pk, "month": timezone.localdate().strftime("%Y-%m")}
    response = client.post(reverse("admin:projects_progressreport_add"), data)
    assert response.status_code == 200
    assert shown_once(response, "请更正以下错误。")


def test_an_import_without_its_key_column_says_so_once_in_chinese(client, work_committee):
    superuser = UserFactory(username="root", organization=work_committee, is_superuser=True)
    client.force_login(superuser)
    data = tablib.Dataset(headers=["项目名称", "年度"])
    data.append(["甲", "2020"])
    data.append(["乙", "2021"])
    upload = SimpleUploadedFile("项目.xlsx", data.export("xlsx"))
    response = client.post(
        reverse("admin:projects_project_import"), {"format": "0", "import_file": upload}
    )
    assert response.status_code == 200
    text = page_text(response)
    assert text.count("文件缺少“项目编号”列") == 1
    assert "Traceback" not in text and "import_id_fields" not in text and "Column" not in text


def test_a_decision_posted_without_the_state_it_was_made_on_says_so(client, draft, applicant):
    # The hidden expected_state is drawn beside no field: its "required" error was shown
    # nowhere, so a post from an incomplete page silently did nothing.
    client.force_login(applicant)
    response = client.post(transition(draft, "submit"), {"opinion": ""})
    assert response.status_code == 200
    assert shown_once(response, "页面已过期或不完整,请重新打开项目页后再操作。")
    draft.refresh_from_db()
    assert draft.state == "draft"
