"""The invoice import page parses the upload once: the preview keeps the validated rows in
the database (bound to the user, the project and the file's SHA-256, expiring) and the
confirm step stores those rows, re-checking under the project lock only what can change
meanwhile. Each refusal is a Chinese message and writes nothing."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from projects.models import ImportPreview, ProjectHistory
from projects.models.money import Invoice
from projects.services.invoice_imports import rows_freeze, rows_thaw, rows_unpack
from projects.services.invoices import invoice_add
from tests.factories import ProjectFactory
from tests.projects import fixtures_money
from tests.projects.test_import_previews import invoice_file

pytestmark = pytest.mark.django_db
accepted = fixtures_money.accepted


def url(project):
    return reverse("projects:invoice_import", args=[project.pk])


def preview(client, project, user, numbers=("00000001", "00000002")):
    client.force_login(user)
    page = client.post(url(project), {"file": invoice_file(project, numbers)})
    assert page.status_code == 200 and page.context["token"], page.content.decode()[:500]
    return {"token": page.context["token"], "sha256": page.context["result"].sha256}


def nothing_written():
    return (
        not Invoice.objects.exists()
        and not ProjectHistory.objects.filter(transition="invoice_import").exists()
    )


def test_the_preview_keeps_the_validated_rows_not_the_file(client, accepted, applicant):
    form = preview(client, accepted, applicant)
    stored = ImportPreview.objects.get(token=form["token"])
    frozen, original = rows_unpack(bytes(stored.data))
    assert original == b"" and b"PK" not in bytes(stored.data)[:16]  # no file to parse again
    assert [cells[0] for cells in frozen["rows"]] == [2, 3]  # the validated rows, by row
    assert stored.meta["sha256"] == form["sha256"]
    assert stored.user == applicant and stored.project == accepted

    done = client.post(url(accepted), form)
    assert done.status_code == 302 and Invoice.objects.count() == 2
    first = Invoice.objects.get(number="00000001")
    assert first.identity == "310023113000000001" and first.created_by == applicant
    assert first.total == 100 and first.issue_date == timezone.localdate()
    event = ProjectHistory.objects.get(transition="invoice_import")
    assert event.data["file_sha256"] == form["sha256"] and event.data["count"] == 2
    assert not ImportPreview.objects.filter(token=form["token"]).exists()


def test_frozen_rows_thaw_to_the_same_values(accepted, applicant):
    from projects.services.invoice_imports import invoice_import

    result = invoice_import(
        project=accepted, source=invoice_file(accepted), actor=applicant, dry_run=True
    )
    thawed = rows_thaw(rows_freeze(result.rows))
    for before, after in zip(result.rows, thawed, strict=True):
        expected = {k: v for k, v in before.values.items() if k != "budget_line"}
        assert {k: v for k, v in after.values.items() if k != "budget_line_id"} == expected
        assert after.values["budget_line_id"] == before.values["budget_line"].pk
        assert after.row_number == before.row_number


def test_an_expired_preview_is_refused(client, accepted, applicant):
    form = preview(client, accepted, applicant)
    ImportPreview.objects.update(expires_at=timezone.now() - datetime.timedelta(seconds=1))
    page = client.post(url(accepted), form)
    assert "导入已完成或已过期" in page.content.decode() and nothing_written()


def test_a_preview_of_a_project_that_moved_on_is_refused(
    client, accepted, applicant, reviewer, advance
):
    form = preview(client, accepted, reviewer)
    line = accepted.budget_lines.get()
    invoice_add(project=accepted, actor=applicant, **fixtures_money.invoice_data(accepted))
    advance(
        accepted,
        ("request_settlement", reviewer, {"opinion": "", "actual_amounts": {line.pk: "1000.00"}}),
    )
    page = client.post(url(accepted), form)
    assert page.status_code == 403 and "无权导入发票" in page.content.decode()
    assert Invoice.objects.count() == 1
    assert not ProjectHistory.objects.filter(transition="invoice_import").exists()


def test_the_service_refuses_under_the_lock_when_the_state_moved_on(
    accepted, applicant, reviewer, advance
):
    from projects.services.errors import WorkflowError
    from projects.services.invoice_imports import invoice_import_confirm, invoice_import_preview

    result = invoice_import_preview(
        project=accepted,
        content=invoice_file(accepted).getvalue(),
        actor=reviewer,
        filename="发票.xlsx",
    )
    line = accepted.budget_lines.get()
    invoice_add(project=accepted, actor=applicant, **fixtures_money.invoice_data(accepted))
    advance(
        accepted,
        ("request_settlement", reviewer, {"opinion": "", "actual_amounts": {line.pk: "1000.00"}}),
    )
    with pytest.raises(WorkflowError, match="不能导入发票"):
        invoice_import_confirm(
            project=accepted, token=result.token, sha256=result.sha256, actor=reviewer
        )
    assert Invoice.objects.count() == 1
    assert ImportPreview.objects.filter(token=result.token).exists()  # rolled back


def test_a_preview_of_another_user_is_refused(client, accepted, applicant, reviewer):
    # The organisation's reviewer may import into this project, but not confirm the
    # leader's preview.
    form = preview(client, accepted, applicant)
    client.force_login(reviewer)
    page = client.post(url(accepted), form)
    assert "导入已完成或已过期" in page.content.decode() and nothing_written()
    assert ImportPreview.objects.filter(token=form["token"]).exists()


def test_a_doubled_confirm_stores_once(client, accepted, applicant):
    form = preview(client, accepted, applicant)
    assert client.post(url(accepted), form).status_code == 302
    again = client.post(url(accepted), form)
    assert "导入已完成或已过期" in again.content.decode()
    assert Invoice.objects.count() == 2
    assert ProjectHistory.objects.filter(transition="invoice_import").count() == 1


def test_an_invoice_added_by_someone_else_meanwhile_refuses_the_whole_batch(
    client, accepted, applicant, reviewer
):
    form = preview(client, accepted, applicant, numbers=("00000001", "00000002", "00000003"))
    data = fixtures_money.invoice_data(accepted, code="3100231130", number="00000002")
    invoice_add(project=accepted, actor=reviewer, **data)  # typed in by hand meanwhile
    page = client.post(url(accepted), form)
    text = page.content.decode()
    assert page.status_code == 200 and "第3行" in text and "已在项目" in text
    assert "未导入任何发票" in text
    assert Invoice.objects.count() == 1  # only the hand-typed one
    assert not ProjectHistory.objects.filter(transition="invoice_import").exists()


def test_a_budget_line_removed_meanwhile_refuses_the_batch(client, accepted, applicant):
    form = preview(client, accepted, applicant)
    accepted.budget_lines.all().delete()  # the plan changed between preview and confirm
    page = client.post(url(accepted), form)
    assert "预算明细已不属于本项目" in page.content.decode() and nothing_written()


@pytest.mark.parametrize("field", ["token", "sha256"])
def test_a_tampered_preview_is_refused(client, accepted, applicant, field):
    form = preview(client, accepted, applicant)
    tampered = {**form, field: form[field][:-1] + ("0" if form[field][-1] != "0" else "1")}
    page = client.post(url(accepted), tampered)
    assert "导入已完成或已过期" in page.content.decode() and nothing_written()
    page = client.post(url(accepted), {"token": form["token"]})  # no digest at all
    assert "导入已完成或已过期" in page.content.decode() and nothing_written()
    assert client.post(url(accepted), form).status_code == 302  # the real one still works


def test_a_preview_of_another_project_is_refused(client, accepted, applicant):
    form = preview(client, accepted, applicant)
    ImportPreview.objects.update(project=ProjectFactory())
    page = client.post(url(accepted), form)
    assert "导入已完成或已过期" in page.content.decode() and nothing_written()


def test_a_preview_whose_rows_are_unreadable_is_refused(client, accepted, applicant):
    form = preview(client, accepted, applicant)
    ImportPreview.objects.update(data=b"\x00\x00\x00\x00\x00\x00\x00\x04junk")
    page = client.post(url(accepted), form)
    assert "导入已完成或已过期" in page.content.decode() and nothing_written()
