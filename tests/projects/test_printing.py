"""The printable application form (项目申请书, the regulation's 附表): page and xlsx, scoped."""

import datetime
from decimal import Decimal
from io import BytesIO
from pathlib import Path
from urllib.parse import quote
from zoneinfo import ZoneInfo

import pytest
from django.contrib.staticfiles import finders
from openpyxl import load_workbook

from projects.models import Project, Review

pytestmark = pytest.mark.django_db


def print_url(project):
    return f"/admin/projects/project/{project.pk}/application/print/"


def xlsx_url(project):
    return f"/admin/projects/project/{project.pk}/application/xlsx/"


def test_print_page_has_the_form_and_signed_decisions(client, approved, applicant):
    client.force_login(applicant)
    response = client.get(print_url(approved))
    assert response.status_code == 200
    body = response.content.decode()
    for text in ["党费项目申请书", approved.title, "负责人简介", "活动目的", "预期目标"]:
        assert text in body
    assert "¥3,000.00" in body  # budget total and approved amount
    assert "同意上报" in body and "同意立项" in body
    assert "支部书记" in body and "副书记" in body  # signatures with 职务
    # The print rules live in a stylesheet (the CSP refuses inline <style>).
    assert "dangfei/print_application.css" in body and "<style" not in body
    stylesheet = finders.find("dangfei/print_application.css")
    assert "@media print" in Path(stylesheet).read_text(encoding="utf-8")


def test_xlsx_has_the_same_content(client, approved, leader):
    client.force_login(leader)
    response = client.get(xlsx_url(approved))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(BytesIO(response.content)).active
    cells = {str(cell.value) for row in sheet.iter_rows() for cell in row if cell.value}
    assert "党费项目申请书" in cells and approved.title in cells
    assert "同意立项" in cells
    # Amounts are numbers in money format, not text (issue 10).
    amounts = [c for row in sheet.iter_rows() for c in row if isinstance(c.value, Decimal | int)]
    approved_cell = next(row[1] for row in sheet.iter_rows() if row[0].value == "核定金额")
    assert approved_cell.data_type == "n" and approved_cell.value == 3000
    assert approved_cell.number_format == "#,##0.00"
    assert amounts


def test_xlsx_has_a_chinese_file_name(client, approved, leader):
    client.force_login(leader)
    disposition = client.get(xlsx_url(approved))["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert quote(f"项目申请书-{approved.code}.xlsx") in disposition


FORMULAS = ['=HYPERLINK("http://evil.example","点我")', "=1+1", " =1+1", "\u3000@SUM(A1)"]


def test_xlsx_never_writes_user_text_as_a_formula(client, approved, leader):
    """A title, a purpose and a reviewer's opinion that look like formulas stay text."""
    title, purpose, content, opinion = FORMULAS
    Project.objects.filter(pk=approved.pk).update(title=title, purpose=purpose, content=content)
    Review.objects.filter(project=approved).update(opinion=opinion)
    client.force_login(leader)
    sheet = load_workbook(BytesIO(client.get(xlsx_url(approved)).content)).active
    cells = [cell for row in sheet.iter_rows() for cell in row if cell.value is not None]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    texts = {c.value for c in cells if isinstance(c.value, str)}
    for text in FORMULAS:
        assert "'" + text in texts  # the text is kept, behind the apostrophe


def test_signatures_print_in_beijing_time(client, approved, leader):
    """A signature at 07:30 on 3 March, Beijing time, is 23:30 on 2 March in UTC."""
    signed = datetime.datetime(2026, 3, 3, 7, 30, tzinfo=ZoneInfo("Asia/Shanghai"))
    Review.objects.filter(project=approved).update(signed_at=signed)
    client.force_login(leader)
    page = client.get(print_url(approved)).content.decode()
    assert "2026年3月3日 07:30" in page and "23:30" not in page
    sheet = load_workbook(BytesIO(client.get(xlsx_url(approved)).content)).active
    texts = {str(c.value) for row in sheet.iter_rows() for c in row if c.value is not None}
    assert "2026年3月3日 07:30" in texts
    assert not any("23:30" in text for text in texts)


@pytest.mark.parametrize("make_url", [print_url, xlsx_url])
def test_other_organisation_gets_404(client, approved, outsider, make_url):
    client.force_login(outsider)
    assert client.get(make_url(approved)).status_code == 404


def test_anonymous_is_sent_to_login(client, approved):
    response = client.get(print_url(approved))
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_change_page_links_to_prints(client, approved, applicant):
    client.force_login(applicant)
    body = client.get(f"/admin/projects/project/{approved.pk}/change/").content.decode()
    assert print_url(approved) in body and xlsx_url(approved) in body


def test_signing_times_and_six_conditions_are_printed(client, approved, applicant):
    """The signing time is Beijing time (it was printed in UTC), and each review's answers to
    the six conditions are on the form (issue 13)."""
    import datetime

    review = approved.reviews.order_by("pk").first()
    review.signed_at = datetime.datetime(2026, 3, 1, 20, 30, tzinfo=datetime.UTC)
    review.save(update_fields=["signed_at"])
    client.force_login(applicant)
    body = client.get(print_url(approved)).content.decode()
    assert "2026年3月2日 04:30" in body and "20:30" not in body
    assert "六项条件" in body and "层次鲜明的活动目标:是" in body
